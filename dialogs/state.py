"""The conversation state: a small JSON-able dict with a schema number.

    {"v": 1, "item": id | None, "choices": [ids], "misses": int, "updated": iso time,
     "want": None | "book" | "materials" | a guide field, "menu": bool, "asked": last question | None}

- item: the item being discussed (follow-ups such as "在哪办" are about it);
- choices: the numbered items offered, waiting for "1", "第二个" …;
- misses: messages in a row the assistant could not use; the third brings the offer of a person;
- want: what the citizen asked for before saying which item (我要预约 → which item? → 居住证 → booking);
- menu: the numbered help menu was just shown, so "1".."5" pick from it;
- asked: the last question, handed to staff with 转人工.

Anything else (another schema number, a non-dict, wrong types, an expiry time that cannot be read) is a new
conversation, never a crash. Ids the catalogue no longer has are dropped.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from knowledge.model import Catalogue

STATE_VERSION = 1
State = dict[str, Any]
ASKED_CHARS = 200


def fresh(now: datetime) -> State:
    return {"v": STATE_VERSION, "item": None, "choices": [], "misses": 0, "updated": now.isoformat(),
            "want": None, "menu": False, "asked": None}


@dataclass(frozen=True)
class Loaded:
    state: State  # always a valid state (a fresh one for a new or expired conversation)
    expired: bool  # an earlier conversation timed out
    interrupted: bool  # … and it was in the middle of something (an item or numbered choices)
    valid: bool  # the stored state was readable (False: garbage or nothing, start afresh)


def _updated(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def load(stored: object, now: datetime, idle_minutes: int, catalogue: "Catalogue") -> Loaded:
    """Check a stored state and bring it up to now: expired, garbage or another version -> a fresh state."""
    if not isinstance(stored, dict) or stored.get("v") != STATE_VERSION:
        return Loaded(fresh(now), False, False, False)
    updated = _updated(stored.get("updated"))
    if updated is None:
        return Loaded(fresh(now), False, False, False)
    item = stored.get("item")
    item = item if isinstance(item, str) and catalogue.get(item) else None
    choices = stored.get("choices")
    choices = [c for c in choices if isinstance(c, str) and catalogue.get(c)] if isinstance(choices, list) else []
    if now - updated > timedelta(minutes=idle_minutes):
        return Loaded(fresh(now), True, bool(item or choices), True)
    misses = stored.get("misses")
    want = stored.get("want")
    asked = stored.get("asked")
    return Loaded({
        "v": STATE_VERSION,
        "item": item,
        "choices": choices if len(choices) >= 2 else [],
        "misses": misses if isinstance(misses, int) and not isinstance(misses, bool) and 0 <= misses < 100 else 0,
        "updated": updated.isoformat(),
        "want": want if isinstance(want, str) else None,
        "menu": stored.get("menu") is True,
        "asked": asked[:ASKED_CHARS] if isinstance(asked, str) else None,
    }, False, False, True)
