"""Escalations (转人工): the staff queue. A citizen asked for a person, or the assistant kept misunderstanding them.

A row says who (OpenID), about which item of which catalogue version, why, the last question and the recent
conversation (`history`), so that staff can answer without asking again. Its life (bot/handoff.py):

    waiting ──take──▶ taken ──结束人工 / staff closes──▶ closed
       │  └──nobody took it in time──▶ expired (the citizen is told and goes on with the bot)
       └─ outside working hours: left (a message for staff, with a case and a deadline)

Rows are government records: they stay when the citizen unfollows (only the conversation state is dropped).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .db import Base, UTCDateTime

WAITING, TAKEN, CLOSED, EXPIRED, LEFT = "waiting", "taken", "closed", "expired", "left"
QUEUED = (WAITING, LEFT)  # what the queue shows


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
    history: Mapped[list | None] = mapped_column(JSON)  # the recent conversation: [[direction, text], ...]
    priority: Mapped[bool] = mapped_column(Boolean, default=False)  # 绿色通道
    priority_group: Mapped[str | None] = mapped_column(String(16))  # 老年人 / 残疾人 / 孕妇 / 军人
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)  # who holds it
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:  # no openid, no question
        return f"<Escalation {self.id} {self.status} {self.reason} item={self.item_id}>"
