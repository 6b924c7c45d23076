"""The 转人工 queue page: who waits for a person (绿色通道 first, then first come first served), and the
conversations the clerk holds, with 接手 / 继续 / 释放 / 转给同事 / 结束.

    GET  /staff/queue                    queue         the page; it polls queue.json every 5 s
    GET  /staff/queue.json               queue_json    {"html": the table bodies, "waiting": n, "held": n, "ids": [...]}
    POST /staff/queue/<id>               queue_action  the pressed button's name says what: take / release /
                                                       transfer (with to_staff) / close

Who sees what (bot/handoff.visible_to): an escalation belongs to the unit the hall's 事项清单 lists for its item;
while the item is unknown (or not on the list) it belongs to no unit and every clerk sees it, so that nobody is
left waiting because the bot did not understand them. 管理员 see everything. A clerk holding an escalation of another
unit (passed on to them) sees it. Acting on an escalation one may not see is refused with 403.

The queue shows no names or phones: the citizen appears as a masked openid (bot/outbox.mask_openid).
"""
from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for

from .. import handoff
from ..cases.models import Staff
from ..clock import hall_now
from ..escalations import Escalation
from ..store import LockTimeout
from . import staff
from .auth import current_staff, db_session, login_required

ACTIONS = ("take", "release", "transfer", "close")
POLL_SECONDS = 5
BUSY = "群众正在发消息，请几秒后再试。"


def parts():
    """The conversation store and the knowledge base the app factory made."""
    from ..app import services

    svc = services()
    return svc.parts["store"], svc.parts["knowledge_base"]


def queue_context() -> dict:
    me = current_staff()
    _, kb = parts()
    now = hall_now()
    with db_session() as session:
        waiting = handoff.queue(session, now, catalogue=kb.knowledge.catalogue, hall=kb.hall, viewer=me)
        mine = handoff.held_by(session, me, now, catalogue=kb.knowledge.catalogue, hall=kb.hall)
        others = [(person.id, colleague_label(person, backup), backup)
                  for person, backup in handoff.colleagues(session, me)]
    return {"waiting": waiting, "mine": mine, "colleagues": others, "poll_seconds": POLL_SECONDS,
            "wait_minutes": kb.hall.hall.schedule.handoff_wait_minutes}


def colleague_label(person: Staff, backup: bool) -> str:
    unit = person.unit.name if person.unit else ""
    return f"{person.name}（{unit}{'，AB岗' if backup else ''}）"


@staff.route("/queue")
@login_required()
def queue():
    return render_template("staff/queue.html", partial=False, **queue_context())


@staff.route("/queue.json")
@login_required()
def queue_json():
    context = queue_context()
    response = jsonify(html=render_template("staff/queue.html", partial=True, **context),
                       waiting=len(context["waiting"]), held=len(context["mine"]),
                       ids=[entry.id for entry in context["waiting"]])
    response.headers["Cache-Control"] = "no-store"
    return response


@staff.route("/queue/<int:escalation_id>", methods=["POST"])
@login_required()
def queue_action(escalation_id: int):
    action = next((name for name in ACTIONS if name in request.form), None)
    if action is None:
        abort(400)
    me = current_staff()
    store, kb = parts()
    now = hall_now()
    try:
        with db_session() as session, session.begin():
            escalation = session.get(Escalation, escalation_id)
            if escalation is None:
                abort(404)
            if not handoff.visible_to(me, escalation, kb.hall):
                abort(403)
            person = session.get(Staff, me.id)
            if action == "take":
                handoff.take(session, store, escalation_id, person, now)
                done = "已接手，请在下面回复群众。"
            elif action == "release":
                handoff.release(session, store, escalation_id, person, now)
                done = "已释放，对话回到队列，其他同事可以接手。"
            elif action == "transfer":
                to_staff = _colleague(session, request.form.get("to_staff"))
                handoff.transfer(session, store, escalation_id, person, to_staff, now)
                done = f"已转给{to_staff.name}。"
            else:
                handoff.close(session, store, escalation_id, person, now)
                done = "已结束人工服务，群众已收到通知。"
    except handoff.HandoffError as exc:
        flash(str(exc), "error")
        return redirect(back())
    except LockTimeout:
        flash(BUSY, "error")
        return redirect(back())
    flash(done)
    if action == "take":
        return redirect(url_for("staff.conversation", escalation_id=escalation_id))
    return redirect(url_for("staff.queue"))


def _colleague(session, raw: str | None) -> Staff:
    try:
        person = session.get(Staff, int(raw or ""))
    except ValueError:
        person = None
    if person is None:
        raise handoff.HandoffError("请先选择要转给哪位同事。")
    return person


def back() -> str:
    """Where a refused action returns: the console page it came from (the queue or the conversation)."""
    from urllib.parse import urlsplit

    came = urlsplit(request.referrer or "")
    if came.netloc == request.host and came.path.startswith("/staff/") and not came.path.endswith(".json"):
        return came.path
    return url_for("staff.queue")
