"""Builders for staff-console tests: an app on a temporary SQLite (or a given DATABASE_URL), staff accounts, login."""
from __future__ import annotations

import re
from pathlib import Path

import bot
from bot.app import Services
from bot.cases.models import Staff
from bot.cases.units import sync_units
from bot.config import Config
from bot.db import utcnow
from bot.staff.auth import hash_password

PASSWORD = "pass-word-1"


def console_app(tmp_path: Path, **environ: str):
    env = {"BANGBAN_DATA_DIR": str(tmp_path / "instance"), **environ}
    return bot.create_app(Config.from_env(env))


def services_of(app) -> Services:
    return app.extensions["bangban"]


def add_staff(app, username: str, unit: str, role: str, name: str | None = None) -> int:
    svc = services_of(app)
    svc.parts["schema"].ensure()
    from sqlalchemy import select

    from bot.cases.models import Unit

    with svc.sessions.begin() as session:
        sync_units(session, svc.parts["knowledge_base"].hall)
        unit_row = session.scalar(select(Unit).where(Unit.name == unit))
        assert unit_row is not None, f"no unit {unit}"
        person = Staff(username=username, name=name or username, unit_id=unit_row.id, role=role,
                       password_hash=hash_password(PASSWORD), active=True, created_at=utcnow())
        session.add(person)
        session.flush()
        return person.id


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(
        r'name="csrf-token" content="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def login(client, username: str, password: str = PASSWORD):
    page = client.get("/staff/login")
    return client.post("/staff/login", data={"username": username, "password": password,
                                             "csrf_token": csrf_of(page.get_data(as_text=True))})


def record_escalation(sessions, store, openid: str, at, *, item_id: str, question: str, status: str,
                      priority: bool = False, wrote: bool = True) -> int:
    """An escalation as the gateway records it (with the citizen's sending window when `wrote`), and the
    citizen's conversation state waiting for a person when a store is given; returns its id."""
    from bot.escalations import Escalation
    from bot.outbox import note_user_message

    with sessions.begin() as session:
        row = Escalation(openid=openid, item_id=item_id, reason="asked", last_question=question, status=status,
                         created_at=at, history=[["in", question], ["out", "请带身份证…"], ["in", "转人工"]],
                         priority=priority, priority_group="老年人" if priority else None)
        session.add(row)
        if wrote:
            note_user_message(session, openid, at, "message")
        session.flush()
        ident = row.id
    if store is not None:
        store.set_state(openid, {"v": 1, "human": {"id": ident, "status": "waiting"}, "log": [], "group": None},
                        3600)
    return ident
