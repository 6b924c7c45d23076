"""The worker's timers, run every few seconds between outbox rounds (bot/worker.py: Worker.chores).

- reminders the day before a booking (when a subscription-message template is configured, bot/reminders.py);
- handoffs nobody took within the hall's wait: the citizen is told and goes on with the bot (bot/handoff.py);
- photos citizens sent, fetched from WeChat before it drops them after 3 days (bot/media.py).
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Callable

from .clock import real_hall_now

if TYPE_CHECKING:
    from sqlalchemy.orm import sessionmaker

    from knowledge.model import HallData

    from .config import Config
    from .store import ConversationStore
    from .wechat_api import WeChatAPI

log = logging.getLogger(__name__)


def make_chores(config: "Config", sessions: "sessionmaker", store: "ConversationStore | None",
                hall: "HallData", api: "WeChatAPI | None" = None,
                clock: Callable[[], datetime] | None = None) -> tuple[Callable[[], object], ...]:
    now = clock or real_hall_now
    chores: list[Callable[[], object]] = []
    if config.reminder_template_id:
        from .reminders import parse_fields, queue_reminders

        fields = parse_fields(config.reminder_fields)

        def remind() -> int:
            with sessions.begin() as session:
                return queue_reminders(session, config.reminder_template_id, fields, now(), hall.hall.phone)

        chores.append(remind)
    if store is not None:
        from .handoff import ExpiryTimer

        chores.append(ExpiryTimer(sessions, store, hall, clock=now))
    if api is not None:
        from .media import PhotoFetcher

        chores.append(PhotoFetcher(sessions, api))
    return tuple(chores)
