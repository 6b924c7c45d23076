"""One user turn: `handle(state, message, env) -> Turn(state, replies, effects)`.

Pure: no Flask, Redis, SQLAlchemy, network or clock; the time comes in `env.now`. State is a small JSON-able
dict with a schema number (`STATE_VERSION`); None means a new (or expired) conversation.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable

from .effects import Effect
from .messages import Inbound

if TYPE_CHECKING:
    from knowledge.model import Catalogue, HallData
    from knowledge.service import Consultation

STATE_VERSION = 1
State = dict[str, Any]


@dataclass(frozen=True)
class Env:
    now: datetime  # local time of the hall (Asia/Shanghai), timezone-aware
    consult: "Callable[[str], Consultation]"  # knowledge.service.Knowledge.consult
    catalogue: "Catalogue"
    hall: "HallData"
    idle_minutes: int = 30  # after this, a conversation restarts gently


@dataclass(frozen=True)
class Turn:
    state: State | None  # None: forget the conversation
    replies: tuple[str, ...]  # texts for the citizen, each within one WeChat message; the first is the reply
    effects: tuple[Effect, ...] = field(default=())
