"""未送达: messages that never reached the citizen (bot/outbox.py: undeliverable or failed), for staff to follow up
another way (by phone, say) and mark as dealt with.

    GET  /staff/undelivered[?done=1][&page=N]   undelivered        those not followed up yet (done=1: those that were),
                                                                  newest first, 50 a page
    POST /staff/undelivered/<id>/done           undelivered_done   note=… (optional): followed up, by whom, when

Each row names the citizen by their newest case (applicant masked, as in every list) and links to it and to their
newest 转人工 conversation. What the message said is shown, and the row may be marked, only to staff who may see that
case's personal data or that conversation (管理员: all); for the others it stays masked. Why it did not arrive is
said in plain Chinese (WeChat's 48 h window, unfollowed, failed sends).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import handoff
from ..cases.masking import mask_name, mask_phone
from ..cases.models import Case, Staff
from ..db import utcnow
from ..escalations import Escalation
from ..outbox import (DID_NOT_ARRIVE, FAILED, MAX_NOTE_LENGTH, SUBSCRIPTION, OutboxMessage,
                      undelivered as undelivered_messages)
from ..worker import INTERRUPTED_WHY
from . import staff
from .auth import current_staff, db_session, login_required, may_see_citizen
from .queue import parts

PAGE_SIZE = 50
TEXT_SHOWN = 120  # characters of the message in the list
KINDS = {"late_reply": "机器人的回答（超时后补发）", "reply": "机器人的回答（后续部分）", "staff": "工作人员回复",
         "handoff": "转人工通知", "case": "案件进度通知", "reminder": "预约提醒"}
WHY = {  # WeChat's final answers (bot/wechat_api.py UNDELIVERABLE_ERRCODES), as a clerk would say them
    "43004": "群众已取消关注公众号，微信不再送达。",
    "45047": "发给这位群众的客服消息已达微信的条数上限。",
    "40003": "群众的微信账号无效。",
    "43101": "群众没有同意（或已用完）这类订阅通知。",
}
NO_WINDOW = "群众超过48小时没有给公众号发消息（或已取消关注），微信不允许再发。"
FAILED_SENDS = "多次发送都没有成功（网络或微信故障），群众没有收到。"
INTERRUPTED = "发送中途中断，群众可能没有收到。"
HIDDEN = "（其他单位的群众，不显示内容）"


@dataclass(frozen=True)
class Row:
    id: int
    at: datetime
    kind: str
    text: str
    why: str
    case_number: str | None
    applicant: str
    escalation_id: int | None
    allowed: bool  # the viewer may see what it said and mark it
    followed_up_at: datetime | None
    followed_up_by: str
    note: str


def why_for_staff(message: OutboxMessage) -> str:
    error = message.last_error or ""
    if message.status == FAILED:
        return INTERRUPTED if error == INTERRUPTED_WHY else FAILED_SENDS
    code = re.search(r"errcode (\d+)", error)
    return WHY.get(code.group(1), NO_WINDOW) if code else NO_WINDOW


def _newest(session: Session, model, openids: set[str]) -> dict:
    """The newest row of `model` (Case or Escalation) of each citizen."""
    found: dict = {}
    if openids:
        for row in session.scalars(select(model).where(model.openid.in_(openids)).order_by(model.id)):
            found[row.openid] = row
    return found


def _allowed(me: Staff, case: Case | None, escalation: Escalation | None) -> bool:
    return may_see_citizen(me, [case] if case is not None else [], [escalation] if escalation is not None else [],
                           parts()[1].hall)


def _rows(session: Session, me: Staff, messages: list[OutboxMessage]) -> list[Row]:
    openids = {m.openid for m in messages}
    cases, escalations = _newest(session, Case, openids), _newest(session, Escalation, openids)
    names = {p.id: p.name for p in session.scalars(select(Staff).where(
        Staff.id.in_({m.followed_up_by for m in messages if m.followed_up_by})))}
    rows = []
    for m in messages:
        case, escalation = cases.get(m.openid), escalations.get(m.openid)
        allowed = _allowed(me, case, escalation)
        text = "订阅通知" if m.kind == SUBSCRIPTION else m.payload
        applicant = case.applicant if case is not None else None
        rows.append(Row(
            id=m.id, at=m.created_at, kind=KINDS.get(m.reason, m.reason), why=why_for_staff(m),
            text=(text if len(text) <= TEXT_SHOWN else text[:TEXT_SHOWN - 1] + "…") if allowed else HIDDEN,
            case_number=case.number if case is not None else None,
            applicant=" ".join(p for p in (mask_name(applicant.name), mask_phone(applicant.phone)) if p)
            if applicant is not None else "",
            escalation_id=escalation.id if escalation is not None else None, allowed=allowed,
            followed_up_at=m.followed_up_at, followed_up_by=names.get(m.followed_up_by, ""),
            note=m.follow_up_note or ""))
    return rows


@staff.route("/undelivered")
@login_required()
def undelivered():
    done = request.args.get("done") == "1"
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    me = current_staff()
    with db_session() as session:
        messages = undelivered_messages(session, followed_up=done, limit=PAGE_SIZE + 1,
                                        offset=(page - 1) * PAGE_SIZE)
        rows = _rows(session, me, messages[:PAGE_SIZE])
    return render_template("staff/undelivered.html", rows=rows, done=done, page=page,
                           more=len(messages) > PAGE_SIZE, hall_time=handoff.hall_time, note_length=MAX_NOTE_LENGTH)


@staff.route("/undelivered/<int:message_id>/done", methods=["POST"])
@login_required()
def undelivered_done(message_id: int):
    me = current_staff()
    note = " ".join((request.form.get("note") or "").split())[:MAX_NOTE_LENGTH] or None
    with db_session() as session, session.begin():
        message = session.get(OutboxMessage, message_id)
        if message is None or message.status not in DID_NOT_ARRIVE:
            abort(404)
        case = _newest(session, Case, {message.openid}).get(message.openid)
        escalation = _newest(session, Escalation, {message.openid}).get(message.openid)
        if not _allowed(me, case, escalation):
            abort(403)
        if message.followed_up_at is None:
            message.followed_up_at, message.followed_up_by, message.follow_up_note = utcnow(), me.id, note
            flash("已标记为已处理。")
        else:
            flash("这条消息已经有人处理过了。")
    return redirect(url_for("staff.undelivered"), code=303)
