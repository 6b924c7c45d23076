"""Carrying out a turn's effects (dialogs/effects.py) in the turn's one database transaction.

`EffectRunner.run(session, openid, effects)` writes everything or, by raising, nothing: a booking is never
half-written. It returns the escalation opened (if any) so the gateway can put its id in the conversation state.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, func, insert, select, update

from dialogs import effects as fx

from ..cases import service
from ..cases import states as s
from ..cases.models import Appointment, Case, MaterialRecord, Message
from ..escalations import CLOSED, LEFT, QUEUED, TAKEN, WAITING, Escalation
from ..media import keep_media
from ..outbox import mask_openid
from dialogs.workdays import is_open

from .case_views import next_answer_time

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from dialogs.workdays import Calendar
    from knowledge.model import HallData

log = logging.getLogger(__name__)

CITIZEN = service.CITIZEN
LEFT_MESSAGE_TITLE = "转人工留言"
WITHDRAWN = {"termination_kind": s.TERMINATION_KINDS[0], "reason": "群众回复“结束人工”，撤回了留言",
             "materials_returned": False}  # 申请人要求终止


@dataclass
class Done:
    escalation_id: int | None = None


class EffectRunner:
    def __init__(self, hall: "HallData", calendar: "Calendar") -> None:
        self.hall = hall
        self.calendar = calendar

    def run(self, session: "Session", openid: str, effects, now: datetime) -> Done:
        """`now`: hall-local aware time."""
        done = Done()
        for effect in effects:
            if isinstance(effect, fx.Escalate):
                done.escalation_id = self.escalate(session, openid, effect, now)
            elif isinstance(effect, fx.RelayToStaff):
                self.relay(session, openid, effect, now)
            elif isinstance(effect, fx.EndHandoff):
                self.end_handoff(session, openid, now)
            elif isinstance(effect, fx.KeepMedia):
                case = self._case(session, openid, effect.case_number) if effect.case_number else \
                    self._newest_open(session, openid)
                keep_media(session, openid, effect, at=now, case_id=case.id if case else None)
            elif isinstance(effect, fx.OpenCase):
                self.open_case(session, openid, effect, now)
            elif isinstance(effect, fx.MoveBooking):
                self.move_booking(session, openid, effect, now)
            elif isinstance(effect, fx.CancelBooking):
                self.cancel_booking(session, openid, effect, now)
            elif isinstance(effect, fx.SaveChecklist):
                self.save_checklist(session, openid, effect, now)
            elif isinstance(effect, fx.Rate):
                self.rate(session, openid, effect, now)
            elif isinstance(effect, fx.ForgetUser):
                continue  # the gateway drops the conversation state
            else:
                raise TypeError(f"the gateway does not know the effect {type(effect).__name__}")
        return done

    # --- handoff ------------------------------------------------------------------------------------------------

    def escalate(self, session: "Session", openid: str, effect: fx.Escalate, now: datetime) -> int:
        """The id of the citizen's escalation: the one already queued or held, or a new one."""
        existing = session.scalar(_CURRENT_ESCALATION_ID, {"citizen": openid})
        if existing is not None:  # already queued or held: one queue place per citizen
            return existing
        open_now = is_open(self.hall.hall.schedule, self.calendar, now)
        case = None if open_now else self._left_message_case(session, openid, effect, now)
        row = Escalation(openid=openid, item_id=effect.item_id, catalogue_version=effect.catalogue_version,
                         reason=effect.reason[:32], last_question=effect.last_question,
                         status=WAITING if open_now else LEFT, created_at=now, case_id=case.id if case else None,
                         history=[list(entry) for entry in effect.history] or None,
                         priority=effect.priority_group is not None, priority_group=effect.priority_group)
        session.add(row)
        session.flush()
        return row.id

    def _left_message_case(self, session: "Session", openid: str, effect: fx.Escalate, now: datetime) -> Case:
        """Outside working hours a 转人工 becomes a case with a deadline, so that it is answered."""
        item = effect.item_id
        entry = self.hall.entry(item) if item else None
        return service.open_case(
            session, applicant=service.ApplicantDetails(kind="个人", name="微信用户",
                                                        priority_group=effect.priority_group),
            openid=openid, item_id=item, item_title=entry.item_name if entry else LEFT_MESSAGE_TITLE,
            catalogue_version=effect.catalogue_version, unit_name=entry.unit if entry else None, form=None,
            promised_limit=None, calendar=self.calendar, note=effect.last_question, now=now,
            due_date=next_answer_time(self.hall.hall.schedule, self.calendar, now).date())

    def relay(self, session: "Session", openid: str, effect: fx.RelayToStaff, now: datetime) -> None:
        """A line of the conversation against the citizen's current escalation (and its case), and the bot's answer
        to it when there was one: one INSERT each."""
        session.execute(_RELAY, {"citizen": openid, "line": effect.text, "moment": now, "direction": "in",
                                 "author": "citizen"})
        if effect.answered:
            session.execute(_RELAY, {"citizen": openid, "line": effect.answered, "moment": now, "direction": "out",
                                     "author": "bot"})

    def end_handoff(self, session: "Session", openid: str, now: datetime) -> None:
        """The citizen's escalation is closed. A message they left outside working hours that nobody has started on
        (its case still 待甄别 and not assigned) is withdrawn with it: the case is 终止 (申请人要求终止), so that
        staff do not call back about something the citizen no longer needs."""
        left = session.scalars(select(Escalation.case_id).where(
            Escalation.openid == openid, Escalation.status == LEFT, Escalation.case_id.is_not(None))).all()
        session.execute(_END_HANDOFF, {"citizen": openid, "moment": now})
        for case_id in left:
            case = session.get(Case, case_id)
            if case is not None and case.state == s.SCREENING and case.assigned_staff_id is None:
                service.move(session, case, "terminate", WITHDRAWN, actor=CITIZEN, calendar=self.calendar, now=now)

    # --- cases --------------------------------------------------------------------------------------------------

    def _case(self, session: "Session", openid: str, number: str) -> Case | None:
        """The citizen's own case by number; someone else's number is as good as none."""
        return session.scalar(select(Case).where(Case.number == number, Case.openid == openid))

    def _own(self, session: "Session", openid: str, number: str, what: str, open_only: bool = False) -> Case | None:
        """The citizen's case for an effect. The dialogue only offers the citizen's own cases, so a miss means the
        case changed meanwhile (staff closed it): logged, and the rest of the turn goes ahead."""
        case = self._case(session, openid, number)
        if case is None or (open_only and case.state not in s.OPEN_STATES):
            log.warning("wechat: could not %s: case %s is not an %scase of %s", what, number,
                        "open " if open_only else "", mask_openid(openid))
            return None
        return case

    def _newest_open(self, session: "Session", openid: str) -> Case | None:
        return session.scalar(select(Case).where(Case.openid == openid, Case.state.in_(s.OPEN_STATES))
                              .order_by(Case.created_at.desc(), Case.id.desc()).limit(1))

    def open_case(self, session: "Session", openid: str, effect: fx.OpenCase, now: datetime) -> Case:
        delivery = effect.delivery
        mailing = {}
        if delivery is not None:
            mailing = {"delivery": delivery.method, "recipient_name": delivery.recipient_name,
                       "recipient_phone": delivery.recipient_phone, "recipient_address": delivery.recipient_address}
        case = service.open_case(
            session, applicant=effect.applicant, openid=openid, item_id=effect.item_id,
            item_title=effect.item_title, catalogue_version=effect.catalogue_version, unit_name=effect.unit,
            form=effect.form, promised_limit=effect.promised_limit, calendar=self.calendar, note=effect.note,
            now=now, number=effect.number, **mailing)
        if effect.slot is not None:
            self._check_capacity(session, case, effect.slot, now)
            session.add(Appointment(case_id=case.id, day=effect.slot.day, start=effect.slot.start,
                                    end=effect.slot.end, place=self._place(effect.unit), status="booked",
                                    created_at=now))
        self._marks(session, case, effect.materials, now)
        return case

    def _check_capacity(self, session: "Session", case: Case, slot, now: datetime) -> None:
        """The dialogue offered the slot with a place free; another citizen may have taken the last one since.
        The booking stands (the citizen was told so) and the case records it, for staff to move if needed."""
        taken = session.scalar(select(func.count()).select_from(Appointment).where(
            Appointment.day == slot.day, Appointment.start == slot.start, Appointment.status == "booked")) or 0
        if taken >= self.hall.hall.schedule.slot_capacity:
            log.warning("wechat: slot %s %s is over its capacity with case %s", slot.day, slot.start, case.number)
            service.audit(session, case, service.SYSTEM, "over_capacity", case.state, case.state,
                          "预约时段已满，超出1人，请工作人员协调", {"day": str(slot.day), "start": str(slot.start)}, now)

    def _place(self, unit: str | None) -> str:
        contact = self.hall.hall.unit(unit) if unit else None
        return (contact.address if contact and contact.address else None) or self.hall.hall.address

    def _marks(self, session: "Session", case: Case, marks, now: datetime) -> None:
        if not marks:
            return
        session.execute(MaterialRecord.__table__.delete().where(MaterialRecord.case_id == case.id))
        for mark in marks:
            session.add(MaterialRecord(case_id=case.id, position=mark.position, name=mark.name, status=mark.status,
                                       how_to_get=mark.how_to_get, updated_at=now))

    def move_booking(self, session: "Session", openid: str, effect: fx.MoveBooking, now: datetime) -> None:
        case = self._own(session, openid, effect.number, "move a booking", open_only=True)
        if case is None:
            return
        old = session.scalars(select(Appointment).where(Appointment.case_id == case.id,
                                                        Appointment.status == "booked")).all()
        for appointment in old:
            appointment.status = "cancelled"
        slot = effect.slot
        self._check_capacity(session, case, slot, now)
        session.add(Appointment(case_id=case.id, day=slot.day, start=slot.start, end=slot.end,
                                place=old[0].place if old else self._place(case.unit.name if case.unit else None),
                                status="booked", created_at=now))
        service.audit(session, case, CITIZEN, "move_booking", case.state, case.state, None,
                      {"from": [f"{a.day} {a.start}" for a in old], "to": f"{slot.day} {slot.start}"}, now)

    def cancel_booking(self, session: "Session", openid: str, effect: fx.CancelBooking, now: datetime) -> None:
        case = self._own(session, openid, effect.number, "cancel a booking", open_only=True)
        if case is None:
            return
        for appointment in session.scalars(select(Appointment).where(Appointment.case_id == case.id,
                                                                     Appointment.status == "booked")):
            appointment.status = "cancelled"
        service.move(session, case, "terminate", {"termination_kind": s.TERMINATION_KINDS[0],
                                                  "reason": effect.reason or "申请人通过微信取消预约",
                                                  "materials_returned": True},
                     actor=CITIZEN, calendar=self.calendar, now=now)

    def save_checklist(self, session: "Session", openid: str, effect: fx.SaveChecklist, now: datetime) -> None:
        if effect.number is None:
            return  # no case: the citizen has the list in the chat; nothing to keep
        case = self._own(session, openid, effect.number, "attach a checklist")
        if case is None:
            return
        self._marks(session, case, effect.marks, now)
        service.audit(session, case, CITIZEN, "checklist", case.state, case.state, None,
                      {"missing": [m.name for m in effect.marks if m.status != "有"]}, now)

    def rate(self, session: "Session", openid: str, effect: fx.Rate, now: datetime) -> None:
        from ..evaluations import RatingError, record_rating

        case = self._own(session, openid, effect.number, "rate")
        if case is None:
            return
        try:
            with session.begin_nested():  # a refused rating leaves the rest of the turn's writes alone
                record_rating(session, case, effect.rating, effect.comment, "微信", now, calendar=self.calendar,
                              actor=CITIZEN)
        except RatingError as exc:
            log.warning("wechat: rating of case %s not recorded: %s", case.number, exc)


# The statements of the handoff turns, built once (building one costs more than running it). Their parameters are
# named apart from the columns (SQLAlchemy keeps a column's own name for its VALUES and SET).
_QUEUED_OR_HELD = (Escalation.openid == bindparam("citizen"), Escalation.status.in_((*QUEUED, TAKEN)))


def _current_escalation(column):
    """`column` of the citizen's escalation still queued or held (there is at most one; the newest if not)."""
    return select(column).where(*_QUEUED_OR_HELD).order_by(Escalation.id.desc()).limit(1)


_CURRENT_ESCALATION_ID = _current_escalation(Escalation.id)
_RELAY = insert(Message.__table__).values(
    openid=bindparam("citizen"), escalation_id=_CURRENT_ESCALATION_ID.scalar_subquery(),
    case_id=_current_escalation(Escalation.case_id).scalar_subquery(), direction=bindparam("direction"),
    author=bindparam("author"), text=bindparam("line"), at=bindparam("moment"))
_END_HANDOFF = update(Escalation.__table__).where(*_QUEUED_OR_HELD).values(status=CLOSED, closed_at=bindparam("moment"))
