"""`bangban report monthly --month YYYY-MM [--out FILE.xlsx] [--unit U]`: the 办件统计表 (seed 003 附件8).

Prints the table, aligned, to stdout (the counting rules are in bot/reports.py) and, with --out, writes the
spreadsheet laid out like 附件8. A bad month or an unknown unit: one line on stderr, exit 2.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy import select

from .config import Config


def add_report_commands(sub) -> None:
    report = sub.add_parser("report", help="the hall's reports (办件统计表)")
    report_sub = report.add_subparsers(dest="report_command", required=True)
    monthly = report_sub.add_parser("monthly", help="办件统计表 of a month (附件8): print it, optionally as .xlsx")
    monthly.add_argument("--month", required=True, help="YYYY-MM, e.g. 2026-11")
    monthly.add_argument("--out", help="write the spreadsheet here (.xlsx)")
    monthly.add_argument("--unit", help="only this unit, as the hall's units.csv names it")
    monthly.set_defaults(func=cmd_report_monthly)


def cmd_report_monthly(args: argparse.Namespace) -> int:
    from .cases.models import Unit
    from .cases.service import HALL_TIME_ZONE
    from .db import utcnow
    from .reports import monthly_statistics, parse_month, statistics_text, statistics_workbook
    from .staff.commands import _database

    try:
        year, month = parse_month(args.month)
    except ValueError:
        print(f"error: --month must be YYYY-MM, e.g. 2026-11 (got {args.month!r})", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else None
    if out is not None and out.suffix.lower() != ".xlsx":
        print(f"error: --out must name an .xlsx file (got {args.out!r})", file=sys.stderr)
        return 2
    config = Config.from_env()
    sessions = _database(config)
    with sessions() as session:
        unit_id = None
        if args.unit:
            unit_id = session.scalar(select(Unit.id).where(Unit.name == args.unit.strip()))
            if unit_id is None:
                names = "、".join(session.scalars(select(Unit.name).order_by(Unit.id))) or "none yet"
                print(f"error: --unit {args.unit!r} is not a unit of this hall; the units are: {names}",
                      file=sys.stderr)
                return 2
        stats = monthly_statistics(session, year, month, unit_id=unit_id)
    print(statistics_text(stats))
    if out is not None:
        reporting = args.unit.strip() if args.unit else _hall_name(config)
        data = statistics_workbook(stats, reporting_unit=reporting,
                                   filled_on=utcnow().astimezone(HALL_TIME_ZONE).date())
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        print(f"written to {out}")
    return 0


def _hall_name(config: Config) -> str:
    """The hall's name from its hall.toml (without loading the catalogue); "" when it cannot be read."""
    import tomllib

    try:
        with open(config.hall_dir / "hall.toml", "rb") as handle:
            return str(tomllib.load(handle).get("name") or "")
    except (OSError, tomllib.TOMLDecodeError):
        return ""
