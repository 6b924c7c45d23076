"""评价 and 回访: recording a citizen's rating of a closed case, and the follow-up a bad rating calls for.

    record_rating(session, case, rating, comment, channel, now)  -> Evaluation

One rating per case (evaluations.case_id is unique), only for a case that is 已办结. A rating of 不满意 (4) or
非常不满意 (5) also opens a FollowUp (回访) for the case's handling unit, assigned to the unit's 联络员 when it has
one and due 2 working days after the rating (seed 003 附件7: 评价方式 电话回访 / 现场评价, 回访人, 回访时间).
`close_follow_up` records what the citizen said and what was done. Every write is audited, in the caller's
transaction (`with sessions.begin() as session:`); nothing here commits.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from dialogs.workdays import Calendar

from .cases import service
from .cases import states as s
from .cases.models import RATINGS, SATISFIED, Case, Evaluation, FollowUp, Staff, Unit
from .db import utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

WECHAT, PHONE, ON_SITE = "微信", "电话回访", "现场评价"
CHANNELS = (WECHAT, PHONE, ON_SITE)
FOLLOW_UP_METHODS = ("电话回访", "现场")
FOLLOW_UP_DAYS = 2  # working days from the rating
MAX_COMMENT, MAX_ANSWER = 1000, 4000


class RatingError(ValueError):
    """A rating that cannot be recorded; the message says why, in Chinese, for the clerk or the citizen."""


class FollowUpError(ValueError):
    """A follow-up that cannot be closed; the message is for the clerk (Chinese)."""


def rating_value(rating: int | str) -> int:
    """1..5 (RATINGS), from an int, "2", or a label ("满意"); RatingError otherwise."""
    if isinstance(rating, str):
        text = rating.strip()
        for key, label in RATINGS.items():
            if text == label:
                return key
        if not text.isdigit():
            raise RatingError(f"评价应为：{'、'.join(RATINGS.values())}。")
        rating = int(text)
    if isinstance(rating, bool) or not isinstance(rating, int) or rating not in RATINGS:
        raise RatingError(f"评价应为1到5（{'、'.join(f'{k} {v}' for k, v in RATINGS.items())}）。")
    return rating


def needs_follow_up(rating: int) -> bool:
    return rating not in SATISFIED  # 不满意, 非常不满意


def record_rating(session: "Session", case: Case, rating: int | str, comment: str | None, channel: str,
                  now: datetime | None = None, *, calendar: Calendar | None = None,
                  actor: str | None = None) -> Evaluation:
    """Record the case's one rating; raise RatingError (nothing written) when the case is not 已办结, already has a
    rating, or the rating / channel is not one of RATINGS / CHANNELS.

    A rating of 不满意 or 非常不满意 also opens a 回访 (FollowUp) for the case's unit, due FOLLOW_UP_DAYS working
    days after the hall's date of `now` on `calendar` (pass `service.calendar_for(hall)`; without it the national
    calendar, without the hall's own closures). `actor` for the audit: "citizen" for 微信, else "system" unless
    given (the console passes "staff:<id>").
    """
    now = now or utcnow()
    value = rating_value(rating)
    if channel not in CHANNELS:
        raise RatingError(f"评价方式应为：{'、'.join(CHANNELS)}。")
    if case.state != s.DONE:
        raise RatingError(f"案件{case.number}当前为“{case.state}”，办结后才能评价。")
    if session.scalar(select(Evaluation.id).where(Evaluation.case_id == case.id)) is not None:
        raise RatingError(f"案件{case.number}已经评价过了，每件只能评价一次。")
    text = (comment or "").strip()[:MAX_COMMENT] or None
    actor = actor or (service.CITIZEN if channel == WECHAT else service.SYSTEM)
    evaluation = Evaluation(case_id=case.id, rating=value, comment=text, channel=channel, at=now)
    session.add(evaluation)
    try:
        session.flush()
    except IntegrityError as exc:  # the same case rated at the same moment elsewhere
        raise RatingError(f"案件{case.number}已经评价过了，每件只能评价一次。") from exc
    service.audit(session, case, actor, "evaluate", case.state, case.state, RATINGS[value],
                  {"rating": value, "label": RATINGS[value], "channel": channel, "comment": bool(text)}, now)
    if needs_follow_up(value):
        open_follow_up(session, case, evaluation, now=now, calendar=calendar, actor=actor)
    return evaluation


def open_follow_up(session: "Session", case: Case, evaluation: Evaluation | None, *, now: datetime,
                   calendar: Calendar | None = None, actor: str = service.SYSTEM) -> FollowUp:
    calendar = calendar or Calendar()
    unit = session.get(Unit, case.unit_id) if case.unit_id is not None else None
    due = calendar.add_workdays(service.hall_today(now), FOLLOW_UP_DAYS)
    task = FollowUp(case_id=case.id, evaluation_id=evaluation.id if evaluation else None,
                    unit_id=case.unit_id, assigned_staff_id=unit.liaison_id if unit else None, due_date=due,
                    created_at=now)
    session.add(task)
    session.flush()
    service.audit(session, case, actor, "follow_up_open", case.state, case.state,
                  RATINGS[evaluation.rating] if evaluation else None,
                  {"follow_up": task.id, "due": due.isoformat(), "unit": unit.name if unit else None}, now)
    return task


def close_follow_up(session: "Session", task: FollowUp, staff: Staff, *, method: str, said: str, done: str,
                    now: datetime | None = None) -> FollowUp:
    """Close a 回访 with what the citizen said and what was done; FollowUpError names what is missing."""
    now = now or utcnow()
    if task.closed_at is not None:
        raise FollowUpError("这条回访已经办结了。")
    problems = []
    if method not in FOLLOW_UP_METHODS:
        problems.append(f"回访方式（{'/'.join(FOLLOW_UP_METHODS)}）")
    if not (said or "").strip():
        problems.append("群众的意见")
    if not (done or "").strip():
        problems.append("处理情况")
    if problems:
        raise FollowUpError(f"请填写：{'、'.join(problems)}。")
    task.method = method
    task.answer = f"群众意见：{said.strip()}\n处理情况：{done.strip()}"[:MAX_ANSWER]
    task.closed_by = staff.id
    task.closed_at = now
    case = session.get(Case, task.case_id)
    service.audit(session, case, service.actor_of(staff), "follow_up_close", case.state, case.state, None,
                  {"follow_up": task.id, "method": method}, now)
    return task
