"""What a turn may read of the case database, for the dialogue layer's lazy `Env` callables (dialogs/views.py).

Each function runs one short read transaction and is called only when the dialogue asks (a progress query, a
booking, 转人工), so an ordinary question costs no database read. A citizen only ever sees their own cases.
"""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from dialogs.views import CaseView, HandoffOutlook, SlotView
from dialogs.workdays import is_open

from ..cases import states as s
from ..cases.models import Appointment, Case, Evaluation
from ..cases.numbers import next_number
from ..escalations import WAITING, Escalation

if TYPE_CHECKING:
    from sqlalchemy.orm import sessionmaker

    from dialogs.workdays import Calendar
    from knowledge.model import HallData

BOOKED = "booked"
MAX_CASES_SHOWN = 20

NEXT_STEP = {
    s.SCREENING: "工作人员1个工作日内审核您的申请",
    s.AWAITING_MATERIALS: "请按告知补齐材料后联系我们",
    s.ACCEPTED: "已受理，2个工作日内提交窗口办理",
    s.IN_PROGRESS: "窗口正在办理，办好后通知您",
    s.DONE: "已办结",
    s.REJECTED: "不予受理",
    s.TERMINATED: "已终止",
}


def user_cases(sessions: "sessionmaker", openid: str) -> list[CaseView]:
    """The citizen's own cases, newest first."""
    with sessions() as session:
        cases = session.scalars(select(Case).where(Case.openid == openid).order_by(Case.created_at.desc(),
                                                                                    Case.id.desc())
                                .limit(MAX_CASES_SHOWN)).unique().all()
        ids = [c.id for c in cases]
        rated = set(session.scalars(select(Evaluation.case_id).where(Evaluation.case_id.in_(ids)))) if ids else set()
        booked = {}
        if ids:
            for row in session.scalars(select(Appointment).where(Appointment.case_id.in_(ids),
                                                                 Appointment.status == BOOKED)):
                booked[row.case_id] = SlotView(row.day, row.start, row.end, 0)
        return [_view(c, c.id in rated, booked.get(c.id)) for c in cases]


def _view(case: Case, rated: bool, slot: SlotView | None) -> CaseView:
    holder = case.unit.name if case.unit else None
    if case.assigned_staff is not None and holder:
        holder = f"{holder} {case.assigned_staff.name[:1]}工作人员"
    step = NEXT_STEP.get(case.state, case.state)
    if case.state == s.REJECTED and case.redirect_unit:
        step = f"不予受理，请到{case.redirect_unit}办理"
    return CaseView(number=case.number, item_id=case.item_id, item_title=case.item_title, state=case.state,
                    next_step=step, holder=holder, due_date=case.due_date, form=case.form, appointment=slot,
                    rated=rated, closed=case.state in s.FINAL_STATES)


def newest_open_case(sessions: "sessionmaker", openid: str) -> str | None:
    with sessions() as session:
        return session.scalar(select(Case.number).where(Case.openid == openid, Case.state.in_(s.OPEN_STATES))
                              .order_by(Case.created_at.desc(), Case.id.desc()).limit(1))


def free_slots(sessions: "sessionmaker", hall: "HallData", calendar: "Calendar", day: date,
               now: datetime) -> list[SlotView]:
    """The day's booking slots with places left; none on a day off or for a slot already begun."""
    schedule = hall.hall.schedule
    if not calendar.is_workday(day) or day < now.date():
        return []
    with sessions() as session:
        taken = Counter(session.scalars(select(Appointment.start).where(Appointment.day == day,
                                                                        Appointment.status == BOOKED)))
    slots = []
    for start, end in schedule.slots():
        if day == now.date() and start <= now.time():
            continue
        left = schedule.slot_capacity - taken.get(start, 0)
        if left > 0:
            slots.append(SlotView(day, start, end, left))
    return slots


def reserve_case_number(sessions: "sessionmaker", today: date) -> str:
    """A number for a case about to be opened (a number a failed turn reserved is skipped, never reused)."""
    with sessions.begin() as session:
        return next_number(session, today)


def handoff_outlook(sessions: "sessionmaker", hall: "HallData", calendar: "Calendar", now: datetime,
                    priority: bool) -> HandoffOutlook:
    """Who answers 转人工, and when: the place in the queue in working hours (read from the database), the time
    the left message is answered by outside them (no read: nobody is queued then)."""
    schedule = hall.hall.schedule
    if not is_open(schedule, calendar, now):
        return HandoffOutlook(open_now=False, ahead=0, answer_by=next_answer_time(schedule, calendar, now),
                              wait_minutes=schedule.handoff_wait_minutes)
    with sessions() as session:
        waiting = select(func.count()).select_from(Escalation).where(Escalation.status == WAITING)
        if priority:
            waiting = waiting.where(Escalation.priority.is_(True))
        ahead = session.scalar(waiting) or 0
    return HandoffOutlook(open_now=True, ahead=ahead, answer_by=None, wait_minutes=schedule.handoff_wait_minutes)


def next_answer_time(schedule, calendar: "Calendar", now: datetime) -> datetime:
    """By when staff answer a message left outside working hours: the end of the next working period."""
    day = now.date()
    for _ in range(60):
        if calendar.is_workday(day):
            for start, end in schedule.periods:
                if datetime.combine(day, end, now.tzinfo) > now and (day > now.date() or start > now.time()):
                    return datetime.combine(day, end, now.tzinfo)
        day += timedelta(days=1)
    return now + timedelta(days=1)


__all__ = ["user_cases", "newest_open_case", "free_slots", "reserve_case_number", "handoff_outlook",
           "next_answer_time"]
