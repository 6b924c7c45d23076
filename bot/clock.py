"""The hall's time (Asia/Shanghai) for one app: the real clock, or a fixed one a test sets for the whole app.

Turns (bot/wechat/turn.py), the console and its changes to a conversation all read the same clock, so that a
conversation's idle time is measured consistently.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable
from zoneinfo import ZoneInfo

HALL_TIME_ZONE = ZoneInfo("Asia/Shanghai")


def real_hall_now() -> datetime:
    return datetime.now(HALL_TIME_ZONE)


def hall_now() -> datetime:
    """Now in the hall, from the current app's clock (inside a request) or the real one."""
    from flask import current_app, has_app_context

    if has_app_context():
        clock: Callable[[], datetime] | None = current_app.extensions["bangban"].parts.get("clock")
        if clock is not None:
            return clock()
    return real_hall_now()
