"""`bangban staff add|list|password` for operators.

    bangban staff add 李晓燕 --unit 区公安分局 --role 帮办代办员 [--username lixy] [--phone …] [--backup USER]

The password is read from BANGBAN_STAFF_PASSWORD, else asked twice on the terminal; it is stored hashed.
"""
from __future__ import annotations

import argparse
import getpass
import os
import sys

from sqlalchemy import select

from ..cases.models import ROLES, Staff, Unit
from ..cases.units import sync_units
from ..config import Config
from ..db import utcnow
from .auth import hash_password

MIN_PASSWORD = 8


def add_staff_commands(sub) -> None:
    staff = sub.add_parser("staff", help="console accounts for 帮办代办员, 联络员, 管理员")
    staff_sub = staff.add_subparsers(dest="staff_command", required=True)
    add = staff_sub.add_parser("add", help="add a staff account")
    add.add_argument("name", help="the person's name, e.g. 李晓燕")
    add.add_argument("--unit", required=True, help="their unit, as the hall's units.csv names it")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--username", help="login name (default: the name)")
    add.add_argument("--phone")
    add.add_argument("--title", help="职务")
    add.add_argument("--backup", help="username of the colleague who covers for them (AB岗)")
    add.set_defaults(func=cmd_staff_add)
    listing = staff_sub.add_parser("list", help="list staff accounts")
    listing.set_defaults(func=cmd_staff_list)
    password = staff_sub.add_parser("password", help="set a new password")
    password.add_argument("username")
    password.set_defaults(func=cmd_staff_password)


def _database(config: Config):
    from ..connections import connect_database
    from ..db import Schema, session_factory

    config.ensure_data_dir()
    engine = connect_database(config)
    Schema(engine).ensure()
    return session_factory(engine)


def _password() -> str | None:
    given = os.environ.get("BANGBAN_STAFF_PASSWORD")
    if given is None:
        if not sys.stdin.isatty():  # a script or a pipe: getpass would fail with a traceback
            print("error: no terminal to ask the password on; set BANGBAN_STAFF_PASSWORD", file=sys.stderr)
            return None
        try:
            given = getpass.getpass("密码: ")
            again = getpass.getpass("再输一次: ")
        except (EOFError, KeyboardInterrupt):
            print("\nerror: no password given; nothing was changed", file=sys.stderr)
            return None
        if again != given:
            print("error: the two passwords differ", file=sys.stderr)
            return None
    if len(given) < MIN_PASSWORD:
        print(f"error: the password needs at least {MIN_PASSWORD} characters", file=sys.stderr)
        return None
    return given


def cmd_staff_add(args: argparse.Namespace) -> int:
    from ..knowledge_base import load_knowledge_base

    config = Config.from_env()
    hall = load_knowledge_base(config).hall
    sessions = _database(config)
    username = (args.username or args.name).strip()
    with sessions.begin() as session:
        sync_units(session, hall)
        unit = session.scalar(select(Unit).where(Unit.name == args.unit.strip()))
        if unit is None:
            names = "、".join(session.scalars(select(Unit.name)))
            print(f"error: --unit {args.unit!r} is not a unit of this hall; the units are: {names}", file=sys.stderr)
            return 1
        if session.scalar(select(Staff).where(Staff.username == username)) is not None:
            print(f"error: the username {username!r} is taken; choose another with --username", file=sys.stderr)
            return 1
        backup = None
        if args.backup:
            backup = session.scalar(select(Staff).where(Staff.username == args.backup))
            if backup is None:
                print(f"error: --backup {args.backup!r}: no such username", file=sys.stderr)
                return 1
        password = _password()
        if password is None:
            return 1
        session.add(Staff(username=username, name=args.name.strip(), unit_id=unit.id, role=args.role,
                          password_hash=hash_password(password), phone=args.phone, title=args.title,
                          backup_id=backup.id if backup else None, active=True, created_at=utcnow()))
    print(f"added {username} ({args.role}, {unit.name})")
    return 0


def cmd_staff_list(args: argparse.Namespace) -> int:
    sessions = _database(Config.from_env())
    with sessions() as session:
        for person in session.scalars(select(Staff).order_by(Staff.unit_id, Staff.id)):
            state = "" if person.active else " (disabled)"
            print(f"{person.username}\t{person.name}\t{person.role}\t{person.unit.name}{state}")
    return 0


def cmd_staff_password(args: argparse.Namespace) -> int:
    sessions = _database(Config.from_env())
    with sessions.begin() as session:
        person = session.scalar(select(Staff).where(Staff.username == args.username))
        if person is None:
            print(f"error: no such username {args.username!r}", file=sys.stderr)
            return 1
        password = _password()
        if password is None:
            return 1
        person.password_hash = hash_password(password)
    print(f"password of {args.username} changed")
    return 0
