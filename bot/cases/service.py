"""Opening cases and moving them through the transitions table; every change audited in the caller's transaction.

The caller owns the transaction (`with sessions.begin() as session:`): a case is written whole or not at all.
Deadlines are working days on the Chinese calendar (dialogs/workdays.py), counted from the hall's date:

    opened / materials supplied → 甄别 within 1 working day
    accepted                    → 提交窗口 within 2 working days
    submitted                   → 办结 within the item's 承诺时限 (working days; none for 即办件 … none known)
    待补正                       → the clock waits for the citizen
"""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Mapping

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from dialogs.effects import Applicant as ApplicantDetails  # who applies, as the dialogue hands it over
from dialogs.workdays import Calendar

from ..clock import HALL_TIME_ZONE
from ..db import utcnow
from . import states as s
from .masking import mask_address, mask_id, mask_name, mask_phone
from .models import Applicant, AuditEntry, Case, Staff, Unit
from .numbers import next_number

if TYPE_CHECKING:
    from knowledge.model import HallData

CHECK_DAYS, SUBMIT_DAYS = 1, 2
STEP_CHECK, STEP_SUBMIT, STEP_FINISH = "甄别", "提交窗口", "办结"
SYSTEM, CITIZEN = "system", "citizen"


def calendar_for(hall: "HallData") -> Calendar:
    """The hall's working days: the national calendar with the hall's own [schedule] changes."""
    schedule = hall.hall.schedule
    return Calendar(extra_holidays=schedule.extra_holidays, extra_workdays=schedule.extra_workdays)


def actor_of(staff: Staff | None) -> str:
    return f"staff:{staff.id}" if staff is not None else SYSTEM


def hall_today(now: datetime) -> date:
    return now.astimezone(HALL_TIME_ZONE).date()


def unit_named(session: Session, name: str | None, create: bool = True) -> Unit | None:
    if not name or not name.strip():
        return None
    name = name.strip()
    unit = session.scalar(select(Unit).where(Unit.name == name))
    if unit is None and create:
        # Two workers may add the same unit at once: insert-or-nothing, then read whichever row won.
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(insert(Unit).values(name=name).on_conflict_do_nothing(index_elements=[Unit.name]))
        unit = session.scalar(select(Unit).where(Unit.name == name))
    return unit


def promised_days(limit: str | None) -> int | None:
    """"5个工作日" -> 5, "即办" -> 0, "20天" -> 20; None when the text gives no number."""
    if not limit:
        return None
    if "即办" in limit or "当场" in limit or "立即" in limit:
        return 0
    match = re.search(r"(\d+)", limit)
    return int(match.group(1)) if match else None


def open_case(session: Session, *, applicant: ApplicantDetails, openid: str | None, item_id: str | None,
              item_title: str, catalogue_version: str | None, unit_name: str | None, form: str | None,
              promised_limit: str | None, calendar: Calendar, channel: str = "微信", note: str | None = None,
              actor: str = CITIZEN, now: datetime | None = None, number: str | None = None,
              due_date: date | None = None, coaching: str | None = None, **mailing: Any) -> Case:
    """A new case in 待甄别 with its applicant, number (a reserved one, or the next) and first deadline (the
    screening day, unless `due_date` says otherwise). `coaching`: the 事前辅导事项, if any. `mailing`: delivery,
    recipient_name, recipient_phone, recipient_address. The applicant and the case are written in one flush; the
    audit entry with the next."""
    now = now or utcnow()
    today = hall_today(now)
    unit = unit_named(session, unit_name)
    case = Case(number=number or next_number(session, today), openid=openid, item_id=item_id,
                applicant=Applicant(openid=openid, created_at=now, **applicant.__dict__),
                item_title=item_title, catalogue_version=catalogue_version, unit_id=unit.id if unit else None,
                form=form, channel=channel, state=s.SCREENING, promised_days=promised_days(promised_limit),
                due_date=due_date or calendar.add_workdays(today, CHECK_DAYS), due_step=STEP_CHECK, note=note,
                coaching=coaching, created_at=now, **mailing)
    session.add(case)
    session.flush()
    audit(session, case, actor, "open", None, s.SCREENING, None,
          {"item": item_title, "form": form, "channel": channel,
           **_detail({"kind": applicant.kind, "name": applicant.name, "phone": applicant.phone,
                      "id_number": applicant.id_number, "credit_code": applicant.credit_code})}, now)
    return case


def move(session: Session, case: Case, action: str, inputs: Mapping[str, Any], *, actor: str,
         calendar: Calendar, now: datetime | None = None) -> s.Transition:
    """Carry out a transition, or raise states.TransitionError (nothing written) saying why not."""
    now = now or utcnow()
    transition = s.find(case.state, action)
    s.check_inputs(transition, inputs)
    today = hall_today(now)
    before = case.state
    text = lambda name: (str(inputs.get(name) or "").strip() or None)  # noqa: E731
    if action == "reject":
        case.reason, case.redirect_unit = text("reason"), text("redirect_unit")
    elif action == "request_materials":
        case.missing_materials = [dict(m) if isinstance(m, Mapping) else {"name": str(m), "how": None}
                                  for m in inputs["missing"] if m]
    elif action == "accept":
        case.routing = text("routing")
        lead = unit_named(session, text("lead_unit"))
        case.lead_unit_id = lead.id if lead else None
        case.coordinator = text("coordinator")
        case.involved_units = text("involved_units") or case.involved_units
        case.accepted_at = now
    elif action == "submit":
        case.submitted_at = now
    elif action == "finish":
        case.result, case.delivery = text("result"), text("delivery")
        case.tracking_no = text("tracking_no")
    elif action == "terminate":
        case.termination_kind, case.reason = text("termination_kind"), text("reason")
        case.materials_returned = bool(inputs.get("materials_returned"))
    case.state = transition.target
    _set_deadline(case, today, calendar)
    if transition.target in s.FINAL_STATES:
        case.closed_at = now
    audit(session, case, actor, action, before, transition.target, text("reason") or text("note"),
          _detail(inputs), now)
    return transition


def _set_deadline(case: Case, today: date, calendar: Calendar) -> None:
    if case.state == s.SCREENING:
        case.due_date, case.due_step = calendar.add_workdays(today, CHECK_DAYS), STEP_CHECK
    elif case.state == s.ACCEPTED:
        case.due_date, case.due_step = calendar.add_workdays(today, SUBMIT_DAYS), STEP_SUBMIT
    elif case.state == s.IN_PROGRESS and case.promised_days is not None:
        case.due_date, case.due_step = calendar.add_workdays(today, case.promised_days), STEP_FINISH
    else:
        case.due_date, case.due_step = None, None


def is_overdue(case: Case, today: date) -> bool:
    return case.state in s.OPEN_STATES and case.due_date is not None and case.due_date < today


def assign(session: Session, case: Case, staff: Staff | None, *, actor: str, reason: str | None = None,
           now: datetime | None = None) -> None:
    before = case.assigned_staff_id
    case.assigned_staff_id = staff.id if staff else None
    audit(session, case, actor, "assign", case.state, case.state, reason,
          {"from": before, "to": case.assigned_staff_id}, now or utcnow())


def audit(session: Session, case: Case | None, actor: str, action: str, from_state: str | None,
          to_state: str | None, reason: str | None, detail: Mapping[str, Any] | None,
          now: datetime | None = None) -> AuditEntry:
    entry = AuditEntry(case_id=case.id if case else None, actor=actor, action=action, from_state=from_state,
                       to_state=to_state, reason=reason, detail=dict(detail) if detail else None, at=now or utcnow())
    session.add(entry)
    return entry


_PERSONAL = {"name": mask_name, "recipient_name": mask_name, "phone": mask_phone, "recipient_phone": mask_phone,
             "id_number": mask_id, "credit_code": mask_id, "address": mask_address, "recipient_address": mask_address}


def _detail(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """What the audit keeps of a transition's inputs: JSON-able, personal data masked."""
    kept: dict[str, Any] = {}
    for key, value in inputs.items():
        if key == "csrf_token" or value in (None, ""):
            continue
        if key in _PERSONAL and isinstance(value, str):
            value = _PERSONAL[key](value)
        kept[key] = value if isinstance(value, (str, int, float, bool, list, dict)) else str(value)
    return kept
