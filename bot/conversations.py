"""Changing a citizen's conversation state from outside a turn (the staff console, the worker's timers).

The change runs under the same per-user lock as turns, so it never interleaves with one. A state waiting for or
held by a person lives HELD_TTL_SECONDS, so that a citizen who comes back hours later still reaches the person.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from .store import ConversationStore

LOCK_WAIT_SECONDS = 10.0
HELD_TTL_SECONDS = 3 * 24 * 3600  # WeChat's 48-hour window, and a margin
IDLE_TTL_SECONDS = 4 * 3600


def change_state(store: "ConversationStore", openid: str, change: Callable[[dict | None], dict | None]) -> dict | None:
    """Apply `change(old_state) -> new_state` (None: forget the conversation); returns the new state."""
    with store.hold(openid, LOCK_WAIT_SECONDS) as held:
        new = change(held.state)
        if new is None:
            held.forget()
        else:
            held.save(new, HELD_TTL_SECONDS if new.get("human") else IDLE_TTL_SECONDS)
    return new
