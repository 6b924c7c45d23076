"""Builders for flow transcripts: the real catalogue and demo hall, a fake case database behind the Env callables.

The fake database keeps the citizen's own cases and everyone's bookings as plain lists; `free_slots(day)` answers
like the gateway's (the hall schedule's slots of a working day with places left), and case numbers count up per day.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache

from dialogs.engine import STATE_VERSION, Env, Turn, handle
from dialogs.messages import Inbound
from dialogs.text import WECHAT_TEXT_LIMIT
from dialogs.views import CaseView, SlotView
from dialogs.workdays import Calendar
from knowledge.hall import load_hall
from knowledge.service import load_knowledge

SHANGHAI = timezone(timedelta(hours=8))
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)  # a Monday morning, an ordinary working week
RESIDENCE = "EXT-015"  # 居住证申领: 帮办、代办, audience unknown (asks 个人/企业), mail not said (asks)
SOCIAL_CARD = "EXT-007"  # 社会保障卡补领、换领: 帮办、代办、上门服务
COMPANY = "11440000MB2D0234372440125017008"  # 内资有限责任公司设立登记: 帮办、代办, 个人 or 企业, may be mailed
SKILL_TEST = "11440000553612461J2442111247000"  # 申报职业技能鉴定: 帮办 only, 自然人 only, collected in person


@lru_cache(maxsize=1)
def knowledge():
    return load_knowledge()


@lru_cache(maxsize=1)
def hall():
    return load_hall(None, knowledge().catalogue)


@dataclass
class FakeCases:
    """The case database as the dialogue sees it through Env."""

    mine: list[CaseView] = field(default_factory=list)  # the citizen's own cases, newest first
    taken: dict[tuple[date, time], int] = field(default_factory=dict)  # places booked per slot (anyone's)
    numbers: int = 0
    reads: int = 0

    def free_slots(self, day: date) -> list[SlotView]:
        self.reads += 1
        schedule = hall().hall.schedule
        if not Calendar().is_workday(day):
            return []
        slots = []
        for start, end in schedule.slots():
            left = schedule.slot_capacity - self.taken.get((day, start), 0)
            if left > 0:
                slots.append(SlotView(day, start, end, left))
        return slots

    def fill(self, day: date, start: time) -> None:
        self.taken[(day, start)] = hall().hall.schedule.slot_capacity


def env_at(now: datetime = MONDAY, cases: FakeCases | None = None, **changes) -> Env:
    db = cases if cases is not None else FakeCases()
    counter = {"n": 0}

    def reserve() -> str:
        counter["n"] += 1
        return f"BB{now:%Y%m%d}-{counter['n']:04d}"

    k = knowledge()
    values = dict(now=now, consult=k.consult, catalogue=k.catalogue, hall=hall(), calendar=Calendar(),
                  cases=lambda: tuple(db.mine), free_slots=db.free_slots, reserve_case_number=reserve)
    values.update(changes)
    return Env(**values)


def later(env: Env, minutes: int) -> Env:
    from dataclasses import replace
    return replace(env, now=env.now + timedelta(minutes=minutes))


def case(number: str, title: str = "居住证申领", state: str = "待甄别", *, item_id: str | None = RESIDENCE,
         appointment: SlotView | None = None, form: str | None = "现场帮办", closed: bool = False,
         next_step: str = "工作人员核对材料", holder: str | None = "区公安分局 陈工作人员",
         due: date | None = None) -> CaseView:
    return CaseView(number=number, item_id=item_id, item_title=title, state=state, next_step=next_step,
                    holder=holder, due_date=due, form=form, appointment=appointment, rated=False, closed=closed)


def said(text: str) -> Inbound:
    return Inbound(user="o-citizen", kind="text", text=text)


def check(turn: Turn) -> None:
    assert isinstance(turn.replies, tuple) and all(isinstance(r, str) and r for r in turn.replies)
    for reply in turn.replies:
        assert len(reply.encode("utf-8")) <= WECHAT_TEXT_LIMIT, reply
    if turn.state is not None:
        assert turn.state["v"] == STATE_VERSION
        assert json.loads(json.dumps(turn.state, ensure_ascii=False)) == turn.state


def converse(env: Env, transcript, state=None) -> list[Turn]:
    """Play (message, key phrases) pairs; a phrase starting with "!" must not appear. Returns every turn."""
    turns = []
    for number, (message, phrases) in enumerate(transcript, start=1):
        inbound = said(message) if isinstance(message, str) else message
        turn = handle(state, inbound, env)
        check(turn)
        text = "\n".join(turn.replies)
        for phrase in phrases:
            if phrase.startswith("!"):
                assert phrase[1:] not in text, f"turn {number} ({message!r}) must not say {phrase[1:]!r}:\n{text}"
            else:
                assert phrase in text, f"turn {number} ({message!r}) should say {phrase!r}:\n{text}"
        turns.append(turn)
        state = turn.state
    return turns


def effects(turns: list[Turn]) -> list:
    return [e for t in turns for e in t.effects]


def with_item(item_id: str, env: Env, group: str | None = None) -> dict:
    """A conversation that has been talking about one item (as after asking about it)."""
    from dialogs.state import fresh
    return {**fresh(env.now), "item": item_id, "group": group}
