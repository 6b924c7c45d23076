"""回访 (follow-ups of bad ratings) and ratings taken by phone or at the window (seed 003 附件7).

    GET  /staff/follow-ups               follow_ups        open 回访 (case, rating, comment, due), closed ones below,
                                                           and the form to record a rating taken by phone / on site
    POST /staff/follow-ups/<id>/close    close_follow_up   method (电话回访 / 现场), 群众意见, 处理情况
    POST /staff/follow-ups/rating        record_rating     case number, rating 1..5, 评价方式 (电话回访 / 现场评价), 意见

Who: a clerk or 联络员 sees and closes the 回访 of their own unit (and those assigned to them); 管理员 every unit's.
A rating can be recorded by staff who may see the case's personal data (its handling or leading unit, the assigned
clerk, 管理员), for a 已办结 case that has none yet; 不满意 / 非常不满意 opens a 回访 (bot/evaluations.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import or_, select

from .. import evaluations
from ..cases import states as s
from ..cases.models import ADMIN, RATINGS, Case, Evaluation, FollowUp, Staff, Unit
from ..cases.service import actor_of, calendar_for, hall_today
from ..db import utcnow
from ..reports import applicant_text, local
from . import staff
from .auth import current_staff, db_session, login_required, may_see_personal
from .reports import case_url, hall, units_of, viewer_may_see

CLOSED_SHOWN = 50
RATABLE_SHOWN = 200
STAFF_CHANNELS = (evaluations.PHONE, evaluations.ON_SITE)


@dataclass(frozen=True)
class TaskView:
    id: int
    number: str
    item: str
    unit: str
    applicant: str  # masked unless the viewer may see the case's personal data
    rating: str
    comment: str
    rated_at: datetime | None
    rated_by: str  # 评价方式
    due: date | None
    late: bool
    assigned: str
    method: str
    answer: str
    closed_at: datetime | None
    closed_by: str


def _scope(query, me: Staff, unit_id: int | None):
    if me.role == ADMIN:
        return query.where(FollowUp.unit_id == unit_id) if unit_id else query
    return query.where(or_(FollowUp.unit_id == me.unit_id, FollowUp.assigned_staff_id == me.id))


def _tasks(session, me: Staff, *, closed: bool, unit_id: int | None, today: date) -> list[TaskView]:
    query = (select(FollowUp, Case, Evaluation).join(Case, Case.id == FollowUp.case_id)
             .outerjoin(Evaluation, Evaluation.id == FollowUp.evaluation_id))
    if closed:
        query = query.where(FollowUp.closed_at.is_not(None)).order_by(FollowUp.closed_at.desc()).limit(CLOSED_SHOWN)
    else:
        query = query.where(FollowUp.closed_at.is_(None)).order_by(FollowUp.due_date, FollowUp.id)
    query = _scope(query, me, unit_id)
    found = session.execute(query).all()
    people = {ident: name for ident, name in session.execute(select(Staff.id, Staff.name).where(
        Staff.id.in_({t.assigned_staff_id for t, _, _ in found} | {t.closed_by for t, _, _ in found})))}
    units = {ident: name for ident, name in session.execute(select(Unit.id, Unit.name))}
    may_see = viewer_may_see(me)
    return [TaskView(id=task.id, number=case.number, item=case.item_title, unit=units.get(task.unit_id, ""),
                     applicant=applicant_text(case, may_see(case)),
                     rating=RATINGS[ev.rating] if ev else "", comment=(ev.comment or "") if ev else "",
                     rated_at=local(ev.at) if ev else None, rated_by=ev.channel if ev else "",
                     due=task.due_date, late=bool(task.due_date and task.due_date < today and not closed),
                     assigned=people.get(task.assigned_staff_id, ""), method=task.method or "",
                     answer=task.answer or "", closed_at=local(task.closed_at), closed_by=people.get(task.closed_by, ""))
            for task, case, ev in found]


def _ratable(session, me: Staff) -> list[tuple[str, str]]:
    """已办结 cases without a rating that the viewer may rate: (number, item), newest first."""
    query = (select(Case.number, Case.item_title).outerjoin(Evaluation, Evaluation.case_id == Case.id)
             .where(Case.state == s.DONE, Evaluation.id.is_(None)))
    if me.role != ADMIN:
        query = query.where(or_(Case.unit_id == me.unit_id, Case.lead_unit_id == me.unit_id,
                                Case.assigned_staff_id == me.id))
    return [(number, title) for number, title in
            session.execute(query.order_by(Case.closed_at.desc()).limit(RATABLE_SHOWN))]


@staff.route("/follow-ups")
@login_required()
def follow_ups():
    me = current_staff()
    raw = (request.args.get("unit") or "").strip()
    unit_id = int(raw) if raw.isdigit() and me.role == ADMIN else None
    today = hall_today(utcnow())
    with db_session() as session:
        open_tasks = _tasks(session, me, closed=False, unit_id=unit_id, today=today)
        closed_tasks = _tasks(session, me, closed=True, unit_id=unit_id, today=today)
        ratable = _ratable(session, me)
        units = units_of(session) if me.role == ADMIN else []
    return render_template("staff/follow_ups.html", open_tasks=open_tasks, closed_tasks=closed_tasks,
                           ratable=ratable, units=units, unit_id=unit_id, ratings=RATINGS,
                           channels=STAFF_CHANNELS, methods=evaluations.FOLLOW_UP_METHODS, today=today,
                           case_url=case_url)


@staff.route("/follow-ups/<int:task_id>/close", methods=["POST"])
@login_required()
def close_follow_up(task_id: int):
    me = current_staff()
    try:
        with db_session() as session, session.begin():
            task = session.get(FollowUp, task_id)
            if task is None:
                abort(404)
            if not (me.role == ADMIN or task.unit_id == me.unit_id or task.assigned_staff_id == me.id):
                abort(403)
            evaluations.close_follow_up(session, task, me, method=(request.form.get("method") or "").strip(),
                                        said=request.form.get("said") or "", done=request.form.get("done") or "")
            number = session.scalar(select(Case.number).where(Case.id == task.case_id))
    except evaluations.FollowUpError as exc:
        flash(str(exc), "error")
        return redirect(url_for("staff.follow_ups") + f"#follow-up-{task_id}")
    flash(f"案件{number}的回访已办结。")
    return redirect(url_for("staff.follow_ups"))


@staff.route("/follow-ups/rating", methods=["POST"])
@login_required()
def record_rating():
    me = current_staff()
    number = (request.form.get("number") or "").strip().upper()
    channel = (request.form.get("channel") or "").strip()
    if channel not in STAFF_CHANNELS:
        flash(f"评价方式应为：{'、'.join(STAFF_CHANNELS)}。", "error")
        return redirect(url_for("staff.follow_ups") + "#rating")
    try:
        with db_session() as session, session.begin():
            case = session.scalar(select(Case).where(Case.number == number)) if number else None
            if case is None:
                flash(f"没有找到案件“{number}”。", "error")
                return redirect(url_for("staff.follow_ups") + "#rating")
            if not may_see_personal(me, (case.unit_id, case.lead_unit_id), case.assigned_staff_id):
                flash("只有办理单位的工作人员（或管理员）可以为这件案件登记评价。", "error")
                return redirect(url_for("staff.follow_ups") + "#rating")
            evaluation = evaluations.record_rating(session, case, request.form.get("rating") or "",
                                                   request.form.get("comment"), channel, utcnow(),
                                                   calendar=calendar_for(hall()), actor=actor_of(me))
            label = evaluation.label
            task = session.scalar(select(FollowUp).where(FollowUp.evaluation_id == evaluation.id))
            due = task.due_date if task else None
    except evaluations.RatingError as exc:
        flash(str(exc), "error")
        return redirect(url_for("staff.follow_ups") + "#rating")
    message = f"已登记案件{number}的评价：{label}（{channel}）。"
    if due:
        message += f"已生成回访任务，请于{due.month}月{due.day}日前回访。"
    flash(message)
    return redirect(url_for("staff.follow_ups"))
