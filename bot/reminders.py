"""Reminders the day before a booking, as WeChat subscription messages (订阅通知).

A public account may write to a citizen outside the 48-hour window only with a subscription message the citizen
agreed to, using a template the account chose in WeChat's console. When `WECHAT_REMINDER_TEMPLATE_ID` is set, the
worker queues one reminder per booked appointment of the next day, after REMIND_FROM o'clock (hall time), once.
Template fields differ per template: `WECHAT_REMINDER_FIELDS` maps them (default
"thing1=item,time2=time,thing3=place,character_string4=number").
"""
from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from .cases import states as s
from .cases.models import Appointment, Case
from .outbox import enqueue_subscription, mask_openid

log = logging.getLogger(__name__)

REMIND_FROM = time(9)
DEFAULT_FIELDS = "thing1=item,time2=time,thing3=place,character_string4=number"
VALUES = ("item", "time", "place", "number", "phone")
THING_CHARS = 20  # WeChat's limit for a "thing" field


def parse_fields(text: str) -> dict[str, str]:
    """"thing1=item,time2=time" -> {"thing1": "item", "time2": "time"}; ValueError naming a wrong part."""
    fields: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, _, value = part.partition("=")
        if not key.strip() or value.strip() not in VALUES:
            raise ValueError(f"{part!r}: expected template_field=one of {', '.join(VALUES)}")
        fields[key.strip()] = value.strip()
    if not fields:
        raise ValueError("no fields")
    return fields


def queue_reminders(session: Session, template_id: str, fields: dict[str, str], now: datetime,
                    phone: str | None = None) -> int:
    """Queue the reminders due at `now` (hall-local aware time); returns how many. The caller commits."""
    if now.time() < REMIND_FROM:
        return 0
    tomorrow = now.date() + timedelta(days=1)
    rows = session.execute(
        select(Appointment, Case).join(Case, Case.id == Appointment.case_id)
        .where(Appointment.day == tomorrow, Appointment.status == "booked", Appointment.reminded_at.is_(None),
               Case.openid.is_not(None), Case.state.in_(s.OPEN_STATES))
        .with_for_update(skip_locked=True, of=Appointment)).all()
    for appointment, case in rows:
        values = {"item": case.item_title[:THING_CHARS], "number": case.number,
                  "time": f"{appointment.day:%Y年%m月%d日} {appointment.start:%H:%M}",
                  "place": (appointment.place or "")[:THING_CHARS] or "服务大厅", "phone": phone or ""}
        data = {key: {"value": values[name]} for key, name in fields.items()}
        enqueue_subscription(session, case.openid, {"template_id": template_id, "data": data}, "reminder")
        appointment.reminded_at = now
        log.info("reminders: queued for case %s (%s)", case.number, mask_openid(case.openid))
    return len(rows)
