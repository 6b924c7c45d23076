"""One user turn: `handle(state, message, env) -> Turn(state, replies, effects)`.

Pure: no Flask, Redis, SQLAlchemy, network or clock; the time comes in `env.now`. State is a small JSON-able
dict with a schema number (`STATE_VERSION`, see dialogs/state.py); None means a new (or expired) conversation.
A state that cannot be read (another schema number, not a dict, wrong types) is a new conversation, never a crash.

Every message kind gets an answer in plain Chinese within one WeChat text message each, except the events WeChat
does not expect an answer to (VIEW, the periodic location report, unknown events), which get no reply at all so the
gateway answers "success".

Every turn keeps what the citizen sent and what the bot answered in the state's short log (handed to staff with
转人工), notes a 绿色通道 group the citizen mentions (dialogs/priority.py), and keeps out of a conversation a person
holds (dialogs/handoff.py). The third message in a row not understood offers a person; the fourth asks for one.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Callable

from . import handoff, priority
from . import messages as m
from . import wording
from .effects import Effect, ForgetUser, KeepMedia
from .intents import HELP, menu_intent
from .location import nearest_hall_text
from .parse import choice_number
from .state import STATE_VERSION, Loaded, State, load, remember
from .talk import Outcome, handle_text, run_command
from .flows.checklist import photo as checklist_photo  # the one flow that takes photos (flows have no media step)
from .text import WECHAT_TEXT_LIMIT, clip, fits

if TYPE_CHECKING:
    from datetime import date
    from typing import Sequence

    from knowledge.model import Catalogue, HallData
    from knowledge.service import Consultation

    from .views import CaseView, HandoffOutlook, SlotView
    from .workdays import Calendar

__all__ = ["Env", "Turn", "handle", "STATE_VERSION", "State"]

MISSES_BEFORE_OFFER = 3  # the third message in a row not understood brings the offer of a person
MISSES_BEFORE_ESCALATION = 4  # … and the fourth puts the conversation in the staff queue by itself


@dataclass(frozen=True)
class Env:
    now: datetime  # local time of the hall (Asia/Shanghai), timezone-aware
    consult: "Callable[[str], Consultation]"  # knowledge.service.Knowledge.consult
    catalogue: "Catalogue"
    hall: "HallData"
    idle_minutes: int = 30  # after this, a conversation restarts gently
    open_case: str | None = None  # the citizen's newest open case number, if known
    calendar: "Calendar | None" = None  # working days (dialogs/workdays.py); None: weekdays only
    # Lazy views of the case database (called only when a turn needs them; see dialogs/views.py):
    cases: "Callable[[], Sequence[CaseView]]" = lambda: ()  # the citizen's own cases, newest first
    free_slots: "Callable[[date], Sequence[SlotView]]" = lambda day: ()  # bookable slots of a day, places left
    reserve_case_number: "Callable[[], str] | None" = None  # a new case number for a booking
    # who answers 转人工, and when; called as handoff_outlook(priority=True) for a 绿色通道 citizen (count only those)
    handoff_outlook: "Callable[..., HandoffOutlook] | None" = None


@dataclass(frozen=True)
class Turn:
    state: State | None  # None: forget the conversation
    replies: tuple[str, ...]  # texts for the citizen, each within one WeChat message; the first is the reply
    effects: tuple[Effect, ...] = field(default=())


def _bytes(text: str) -> int:
    return len(text.encode("utf-8")) + 1  # and the line break after it


def handle(state: object, message: m.Inbound, env: Env) -> Turn:
    loaded = load(state, env.now, env.idle_minutes, env.catalogue)
    if message.kind == m.EVENT and message.event == m.UNSUBSCRIBE:
        return Turn(state=None, replies=(), effects=(ForgetUser(),))
    if message.kind == m.EVENT and message.event not in (m.SUBSCRIBE, m.SUBSCRIBE_SCAN, m.SCAN, m.CLICK):
        # VIEW, the periodic location report, events we do not know: nothing to say, the conversation untouched
        return Turn(state=state if loaded.valid else None, replies=())

    prefix: list[str] = []
    if loaded.interrupted:
        prefix.append(wording.IDLE_RESTART)
    text = None
    if message.kind == m.TEXT:
        text = message.text or ""
    elif message.kind == m.VOICE and message.text and message.text.strip():
        text = message.text
        prefix.append(wording.voice_echo(text.strip()))
    budget = WECHAT_TEXT_LIMIT - sum(_bytes(p) for p in prefix)
    if loaded.state["misses"] >= MISSES_BEFORE_OFFER - 1:
        budget -= _bytes(wording.MISS_OFFER)
    note = handoff.inbound_note(message, text)
    group = priority.group_of(text)
    green = group if group and group != loaded.state["group"] else None  # said for the first time: tell them
    noted = remember(loaded.state, "in", note) if note else loaded.state
    loaded = replace(loaded, state={**noted, "group": group or noted["group"]})

    held = handoff.held(loaded.state, message, text, note, env, budget)
    if held is not None:  # a person holds the conversation: the bot stays out
        return _finish(held, prefix, env)
    if text is not None and loaded.interrupted and _bare_number(text):
        # "2" answering a list that timed out: the list is gone, ask again rather than guess
        outcome = Outcome(loaded.state, [wording.ASK_AGAIN], miss=None)
    elif text is not None:
        outcome = handle_text(loaded.state, text, env, budget) if text.strip() else \
            run_command(HELP, loaded.state, env, budget)
    else:
        outcome = _not_text(loaded, message, env, budget)
    outcome = handoff.while_waiting(loaded.state, outcome, message, note)
    return _finish(outcome, prefix, env, green)


def _bare_number(text: str) -> bool:
    pick = choice_number(text)
    return bool(pick) and not pick[1]


def _not_text(loaded: Loaded, message: m.Inbound, env: Env, budget: int) -> Outcome:
    state = {**loaded.state, "choices": [], "menu": False, "want": None}
    hall = env.hall.hall
    if message.kind == m.EVENT:
        if message.event == m.CLICK:
            intent = menu_intent(message.key)
            return run_command(intent or HELP, loaded.state, env, budget)
        # SUBSCRIBE, SUBSCRIBE_SCAN, SCAN: welcome, with the numbered menu
        return Outcome({**state, "menu": True}, [wording.welcome_text(hall)])
    if message.kind == m.VOICE:  # no recognition
        return Outcome(state, [wording.VOICE_NOT_HEARD], miss=True)
    if message.kind == m.IMAGE and message.media_id:
        during_checklist = checklist_photo(loaded.state, message.media_id, env)
        if during_checklist is not None:  # 材料清单 in progress: the photo is of a material being checked
            return during_checklist
        if env.open_case:
            item = env.catalogue.get(state["item"]) if state["item"] else None
            note = f"材料照片（{item.title}）" if item else "材料照片"
            return Outcome(state, [wording.image_kept_text(env.open_case)], [KeepMedia(message.media_id, note)])
        return Outcome(state, [wording.image_without_case_text()])
    if message.kind == m.LOCATION:
        return Outcome(state, [nearest_hall_text(hall, message.latitude, message.longitude)])
    return Outcome(state, [wording.ONLY_TEXT_AND_VOICE], miss=None)


def _finish(outcome: Outcome, prefix: list[str], env: Env, green: str | None = None) -> Turn:
    state = dict(outcome.state)
    replies = list(outcome.replies)
    effects = list(outcome.effects)
    if outcome.miss is True:
        state["misses"] = state["misses"] + 1
        if state["human"] is None and state["misses"] >= MISSES_BEFORE_ESCALATION:
            state, text, escalation = handoff.misunderstood(state, env)
            replies = [text]
            effects.append(escalation)
        elif state["human"] is None and state["misses"] >= MISSES_BEFORE_OFFER and replies:
            replies[0] = wording.MISS_OFFER + "\n" + replies[0]
    elif outcome.miss is False:
        state["misses"] = 0
    if prefix and replies:
        replies[0] = "\n".join([*prefix, replies[0]])
    if green and replies and fits(replies[0] + "\n" + wording.green_channel_note(green)):
        replies[0] += "\n" + wording.green_channel_note(green)
    replies = [clip(r) for r in replies]
    for reply in replies:
        state = remember(state, "out", reply)
    state["updated"] = env.now.isoformat()
    return Turn(state=state, replies=tuple(replies), effects=tuple(effects))
