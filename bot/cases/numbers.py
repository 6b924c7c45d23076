"""Case numbers a citizen can read out over the phone: BB + the hall's date + a 4-digit count of that day.

The count comes from one row per day, bumped with an atomic upsert, so workers on several machines never hand out
the same number (PostgreSQL and SQLite both support INSERT … ON CONFLICT … RETURNING).
"""
from __future__ import annotations

import re
from datetime import date

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from .models import CaseCounter

PREFIX = "BB"
NUMBER = re.compile(r"^BB(\d{8})-(\d{4,})$")


def next_number(session: Session, day: date) -> str:
    key = day.strftime("%Y%m%d")
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(CaseCounter).values(day=key, last=1)
    statement = statement.on_conflict_do_update(index_elements=[CaseCounter.day],
                                                set_={"last": CaseCounter.last + 1}).returning(CaseCounter.last)
    count = session.execute(statement).scalar_one()
    return f"{PREFIX}{key}-{count:04d}"


def normalise(text: str) -> str | None:
    """A case number as a citizen might type it ("bb20261122-7", "BB202611220007") -> "BB20261122-0007"."""
    compact = re.sub(r"[\s－—_]", "-", text.strip().upper())
    match = re.fullmatch(r"BB(\d{8})-?(\d{1,6})", compact.replace("--", "-"))
    if not match:
        return None
    return f"{PREFIX}{match.group(1)}-{int(match.group(2)):04d}"
