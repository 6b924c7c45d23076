"""A turn's result before the engine's finishing touches, shared by talk.py and the flows (dialogs/flows/)."""
from __future__ import annotations

from dataclasses import dataclass, field

from .effects import Effect
from .state import State


@dataclass
class Outcome:
    """A turn before the finishing touches (idle note, voice echo, the offer of a person)."""

    state: State
    replies: list[str]
    effects: list[Effect] = field(default_factory=list)
    miss: bool | None = False  # True: not understood; False: understood (resets the count); None: leave it


def next_state(state: State, **changes) -> State:
    """The state for the next turn: the numbered list and the help menu are gone unless shown again."""
    return {**state, "choices": [], "menu": False, "want": None, **changes}
