"""Escalations (转人工): a citizen asked for a person, or the assistant kept misunderstanding them.

Until the staff console exists, an escalation is a row here with status "waiting"; the console (next issue) reads
and works through them. A row says who (OpenID), about which item of which catalogue version, why, and the last
question the citizen asked, so that staff can answer without asking again. Rows are government records: they
stay when the citizen unfollows (only the conversation state is dropped).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from dialogs.effects import Escalate

from .db import Base
from .db import UTCDateTime, utcnow

WAITING = "waiting"


class Escalation(Base):
    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    item_id: Mapped[str | None] = mapped_column(String(128))
    catalogue_version: Mapped[str | None] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(String(32))  # "asked" (转人工 / menu), "misunderstood"
    last_question: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True, default=WAITING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    def __repr__(self) -> str:  # no openid, no question
        return f"<Escalation {self.id} {self.status} {self.reason} item={self.item_id}>"


def record_escalation(session: Session, openid: str, effect: Escalate, at: datetime | None = None) -> Escalation:
    """Add the escalation to the caller's transaction (the caller commits)."""
    row = Escalation(openid=openid, item_id=effect.item_id, catalogue_version=effect.catalogue_version,
                     reason=effect.reason[:32], last_question=effect.last_question, status=WAITING,
                     created_at=at or utcnow())
    session.add(row)
    return row
