"""The conversation state: a small JSON-able dict with a schema number.

    {"v": 1, "item": id | None, "choices": [ids], "misses": int, "updated": iso time,
     "want": None | "book" | "materials" | a guide field, "menu": bool, "asked": last question | None,
     "flow": None | {"name": str, "step": str, ...}, "human": None | {"id": int | None, "status": str},
     "log": [["in" | "out", text], ...], "group": None | "老年人" | "残疾人" | "孕妇" | "军人"}

- item: the item being discussed (follow-ups such as "在哪办" are about it);
- choices: the numbered items offered, waiting for "1", "第二个" …;
- misses: messages in a row the assistant could not use; the third brings the offer of a person;
- want: what the citizen asked for before saying which item (我要预约 → which item? → 居住证 → booking);
- menu: the numbered help menu was just shown, so "1".."5" pick from it;
- asked: the last question, handed to staff with 转人工;
- flow: the flow in progress (booking, checklist …) and its own JSON-able data (dialogs/flows/);
- human: the conversation waits for ("waiting") or is held by ("taken") a person; set by the gateway and the
  staff console as well as by the dialogue;
- log: the last LOG_ENTRIES messages both ways (each cut to LOG_CHARS), handed to staff with 转人工;
- group: the citizen said they are elderly, disabled, pregnant or a (retired) soldier: 绿色通道.

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
LOG_ENTRIES, LOG_CHARS = 12, 300
HUMAN_STATUSES = ("waiting", "taken")
GROUPS = ("老年人", "残疾人", "孕妇", "军人")


def fresh(now: datetime) -> State:
    return {"v": STATE_VERSION, "item": None, "choices": [], "misses": 0, "updated": now.isoformat(),
            "want": None, "menu": False, "asked": None, "flow": None, "human": None, "log": [], "group": None}


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
    human = _human(stored.get("human"))
    if now - updated > timedelta(minutes=idle_minutes) and human is None:
        # idle: start afresh, but a conversation waiting for or held by a person stays with that person
        return Loaded(fresh(now), True, bool(item or choices or stored.get("flow")), True)
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
        "flow": _flow(stored.get("flow")),
        "human": human,
        "log": _log(stored.get("log")),
        "group": stored.get("group") if stored.get("group") in GROUPS else None,
    }, False, False, True)


def _flow(value: object) -> dict | None:
    """A flow's record is checked by the flow itself when it resumes; here only its shape."""
    if isinstance(value, dict) and isinstance(value.get("name"), str) and isinstance(value.get("step"), str):
        return value
    return None


def _human(value: object) -> dict | None:
    if isinstance(value, dict) and value.get("status") in HUMAN_STATUSES:
        ident = value.get("id")
        return {"id": ident if isinstance(ident, int) and not isinstance(ident, bool) else None,
                "status": value["status"]}
    return None


def _log(value: object) -> list[list[str]]:
    if not isinstance(value, list):
        return []
    entries = [[e[0], e[1][:LOG_CHARS]] for e in value
               if isinstance(e, list) and len(e) == 2 and e[0] in ("in", "out") and isinstance(e[1], str)]
    return entries[-LOG_ENTRIES:]


def remember(state: State, direction: str, text: str) -> State:
    """The state with one more message in its log (the oldest dropped beyond LOG_ENTRIES)."""
    entries = [*state.get("log", []), [direction, text[:LOG_CHARS]]]
    return {**state, "log": entries[-LOG_ENTRIES:]}
