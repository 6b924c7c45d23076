"""转人工 in the dialogue: what the bot does while a conversation waits for, or is held by, a person.

    state["human"] = None                                  the bot talks
                   = {"id": escalation id | None, "status": "waiting"}
                         the bot still answers, and every message is also relayed to staff (RelayToStaff);
                         "结束人工" (or "取消" outside a flow) leaves the queue (EndHandoff)
                   = {"id": …, "status": "taken"}
                         a person holds the conversation: the bot says nothing at all (the gateway answers
                         "success") and relays every message (photos are kept as well); only "结束人工" /
                         "不用人工了" reaches the bot, which ends the handoff (EndHandoff) and says so

The dialogue sets "waiting" itself (转人工, or the fourth message in a row it could not understand). Staff taking,
releasing or closing the conversation, and the wait running out, change the state from outside a turn with
`set_human` (bot/conversations.py change_state runs it under the user's lock).
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from . import messages as m
from . import wording
from .effects import EndHandoff, Escalate, KeepMedia, RelayToStaff
from .intents import END_HUMAN, command, menu_intent, MENU
from .state import HUMAN_STATUSES, STATE_VERSION, State, fresh
from .talk import Outcome, escalate, handoff_outlook, run_command

if TYPE_CHECKING:
    from .engine import Env

__all__ = ["set_human", "inbound_note", "held", "while_waiting", "misunderstood"]

PHOTO = "[图片]"


def set_human(state: object, status: str | None, escalation_id: int | None, now: datetime) -> State:
    """The conversation state with its handoff changed from outside (the staff console, the worker's timers).

    status: "waiting" (back in the queue), "taken" (a person holds it) or None (over: the bot talks again).
    Tolerates None or a state of another schema (a fresh state then carries the status); the rest of the state is
    left as it is and checked by the next turn. The count of misunderstandings starts again.
    """
    if status is not None and status not in HUMAN_STATUSES:
        raise ValueError(f"status must be one of {HUMAN_STATUSES} or None, not {status!r}")
    if escalation_id is not None and (not isinstance(escalation_id, int) or isinstance(escalation_id, bool)):
        raise ValueError(f"escalation_id must be an int or None, not {escalation_id!r}")
    base = dict(state) if isinstance(state, dict) and state.get("v") == STATE_VERSION else fresh(now)
    human = None if status is None else {"id": escalation_id, "status": status}
    return {**base, "human": human, "misses": 0, "updated": now.isoformat()}


def inbound_note(message: m.Inbound, text: str | None) -> str | None:
    """What the citizen sent, in a line for the log and for staff: the text, or "[图片]", "[位置] …" …; None for
    events that say nothing (follow, scan)."""
    if text is not None:
        return text
    if message.kind == m.VOICE:
        return "[语音，未能识别]"
    if message.kind == m.IMAGE:
        return PHOTO
    if message.kind == m.LOCATION:
        place = f" {message.label}" if message.label else ""
        return f"[位置]{place}（{message.latitude}, {message.longitude}）"
    if message.kind == m.EVENT:
        if message.event == m.CLICK:
            intent = menu_intent(message.key)
            label = next((line for i, line in MENU if i == intent), None)
            return f"[点了菜单：{label.split('：')[0]}]" if label else None
        return None
    names = {m.VIDEO: "视频", m.LINK: "链接", m.FILE: "文件"}
    return f"[{names.get(message.kind, '其他消息')}]"


def held(state: State, message: m.Inbound, text: str | None, note: str | None, env: "Env",
         budget: int) -> Outcome | None:
    """A person holds the conversation: the bot stays out (None when it does not, and the turn goes on as usual)."""
    human = state["human"]
    if not human or human["status"] != "taken":
        return None
    if text is not None and command(text) == END_HUMAN:
        return run_command(END_HUMAN, state, env, budget)
    effects: list = [RelayToStaff(note)] if note else []
    if message.kind == m.IMAGE and message.media_id:
        effects.append(KeepMedia(message.media_id, note="转人工时发来的照片"))
    return Outcome(state, [], effects, miss=None)


def while_waiting(before: State, outcome: Outcome, message: m.Inbound, note: str | None) -> Outcome:
    """The conversation was waiting for a person: staff see what the citizen said, whatever the bot answered.

    A photo is kept for staff even without a case, and the citizen is told so rather than that it cannot be kept.
    A text the bot could not understand is not a failure here (staff read it): the citizen is told it went to them,
    not offered 转人工 again, and it does not count towards another escalation.
    """
    human = before["human"]
    if not human or human["status"] != "waiting" or any(isinstance(e, EndHandoff) for e in outcome.effects):
        return outcome
    effects = list(outcome.effects)
    replies = list(outcome.replies)
    miss = outcome.miss
    if note and miss and message.kind == m.TEXT:  # (a voice nobody could recognise still asks them to type)
        replies, miss = [wording.PASSED_TO_STAFF], None
    kept = []
    if message.kind == m.IMAGE and message.media_id and not any(isinstance(e, KeepMedia) for e in effects):
        kept, replies = [KeepMedia(message.media_id, note="转人工时发来的照片")], [wording.IMAGE_FOR_STAFF]
    if note:  # with what the bot answered, when it did more than pass the message on
        passed_on = replies[:1] in ([wording.PASSED_TO_STAFF], [wording.IMAGE_FOR_STAFF])
        effects.append(RelayToStaff(note, None if passed_on or not replies else "\n".join(replies)))
    return Outcome(outcome.state, replies, effects + kept, miss)


def misunderstood(state: State, env: "Env") -> tuple[State, str, Escalate]:
    """The fourth message in a row not understood: put the conversation in the queue without being asked."""
    new, effect = escalate(state, env, "misunderstood", state["asked"])
    green = bool(state["group"])
    text = wording.misunderstood_text(env.hall.hall, handoff_outlook(env, green), green=green)
    return new, text, effect
