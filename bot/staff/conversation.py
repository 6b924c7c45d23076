"""One 转人工 conversation: what the citizen and the bot said before, every message since, the item's guide at
hand, a reply box that sends through the outbox within WeChat's allowance, and 一次性告知 built from the item's
materials.

    GET  /staff/conversation/<id>         conversation        the page; its message list polls the JSON every 3 s
    GET  /staff/conversation/<id>.json    conversation_json   {"html": the message list, "count", "shown" (what
                                                              the list shows: lines and photos), "status",
                                                              "status_label", "allowance", "remaining", "mine",
                                                              "undelivered": messages since 转人工 that did not
                                                              reach the citizen, not followed up yet}
    POST /staff/conversation/<id>/reply   conversation_reply  text=…: send (the holder only); with the button
                                                              `notice` and checked `missing` materials: the
                                                              一次性告知 text is put into the reply box, not sent

A photo the citizen sent since 转人工 is shown with the "[图片]" line it came with (bot/media.py; "正在取回"
until the worker has fetched it from WeChat).

A refused reply (no allowance left, not the holder, empty) shows the page again with the reason and the text kept.
Staff of a unit that may not see the escalation get 403 (bot/handoff.visible_to).
"""
from __future__ import annotations

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy import func, select

from dialogs.consult import facts
from dialogs.handoff import PHOTO

from .. import handoff
from ..cases.models import Staff
from ..db import utcnow
from ..escalations import QUEUED, TAKEN, Escalation
from ..media import KeptMedia, photos_since, status_text as photo_status
from ..outbox import DID_NOT_ARRIVE, OutboxMessage
from . import staff
from .auth import current_staff, db_session, login_required
from .queue import colleague_label, parts

POLL_SECONDS = 3


def _escalation(session, escalation_id: int) -> Escalation:
    escalation = session.get(Escalation, escalation_id)
    if escalation is None:
        abort(404)
    if not handoff.visible_to(current_staff(), escalation, parts()[1].hall):
        abort(403)
    return escalation


def conversation_context(escalation_id: int) -> dict:
    me = current_staff()
    _, kb = parts()
    now = utcnow()
    with db_session() as session:
        escalation = _escalation(session, escalation_id)
        lines = handoff.conversation(session, escalation)
        lost = session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.openid == escalation.openid, OutboxMessage.status.in_(DID_NOT_ARRIVE),
            OutboxMessage.followed_up_at.is_(None), OutboxMessage.created_at >= escalation.created_at)) or 0
        photo_at, other_photos = photo_places(lines, photos_since(session, escalation.openid, escalation.created_at))
        ids = {line.staff_id for line in lines if line.staff_id} | {escalation.staff_id or 0}
        names = {person.id: person.name for person in session.scalars(select(Staff).where(Staff.id.in_(ids)))}
        holder = session.get(Staff, escalation.staff_id) if escalation.staff_id else None
        entry = handoff.entry_of(escalation, now, kb.knowledge.catalogue, kb.hall, holder)
        can = handoff.allowance(session, escalation.openid, now)
        others = [(person.id, colleague_label(person, backup), backup)
                  for person, backup in handoff.colleagues(session, me)]
    item = kb.knowledge.catalogue.get(escalation.item_id) if escalation.item_id else None
    guide = facts(item, kb.hall) if item is not None else None
    return {
        "escalation": escalation, "entry": entry, "lines": lines, "names": names, "holder_name":
        names.get(escalation.staff_id), "mine": escalation.status == TAKEN and escalation.staff_id == me.id,
        "queued": escalation.status in QUEUED, "allowance": can, "guide": guide, "colleagues": others,
        "notice_head": "您还缺：", "notice_tail": handoff.notice_tail(guide.place if guide else None),
        "case_url": (url_for("staff.case_new", escalation=escalation.id)
                     if "staff.case_new" in current_app.view_functions else None),
        "poll_seconds": POLL_SECONDS, "hall_time": handoff.hall_time, "reply_text": "", "error": None,
        "undelivered": lost, "photo_at": photo_at, "other_photos": other_photos, "photo_status": photo_status,
        "shown": ":".join([str(len(lines)), *(p.fetch_status[0] for p in [*photo_at.values(), *other_photos])]),
    }


def photo_places(lines: list[handoff.Line], photos: list[KeptMedia]) -> tuple[dict[int, KeptMedia], list[KeptMedia]]:
    """Each photo against the citizen's "[图片]" line it came with, by order (one turn writes both); the photos
    left over (none, unless a line is missing) go after the list."""
    left = list(photos)
    placed: dict[int, KeptMedia] = {}
    for index, line in enumerate(lines):
        if left and line.at is not None and line.author == "citizen" and line.text == PHOTO:
            placed[index] = left.pop(0)
    return placed, left


@staff.route("/conversation/<int:escalation_id>")
@login_required()
def conversation(escalation_id: int):
    return render_template("staff/conversation.html", partial=False, **conversation_context(escalation_id))


@staff.route("/conversation/<int:escalation_id>.json")
@login_required()
def conversation_json(escalation_id: int):
    context = conversation_context(escalation_id)
    escalation = context["escalation"]
    response = jsonify(html=render_template("staff/conversation.html", partial=True, **context),
                       count=len(context["lines"]), shown=context["shown"], status=escalation.status,
                       status_label=context["entry"].status_label, allowance=context["allowance"].text,
                       remaining=context["allowance"].remaining, mine=context["mine"],
                       undelivered=context["undelivered"])
    response.headers["Cache-Control"] = "no-store"
    return response


@staff.route("/conversation/<int:escalation_id>/reply", methods=["POST"])
@login_required()
def conversation_reply(escalation_id: int):
    text = request.form.get("text") or ""
    if "notice" in request.form:  # 一次性告知 without JavaScript: into the reply box, not sent
        context = conversation_context(escalation_id)
        guide = context["guide"]
        chosen = request.form.getlist("missing")
        notice = handoff.one_time_notice(chosen, guide.place if guide else None)
        context["reply_text"] = "\n".join(part for part in (text.strip(), notice) if part)
        if not notice:
            context["error"] = "请先勾选群众还缺的材料。"
        return render_template("staff/conversation.html", partial=False, **context)
    me = current_staff()
    error = None
    try:
        with db_session() as session, session.begin():
            escalation = _escalation(session, escalation_id)
            sent = handoff.staff_reply(session, escalation, session.get(Staff, me.id), text, utcnow())
            parts_count = len(sent.outbox)
    except handoff.HandoffError as exc:
        error = str(exc)
    if error is None:
        flash("已发送。" if parts_count == 1 else f"已发送（内容较长，分{parts_count}条发出）。")
        return redirect(url_for("staff.conversation", escalation_id=escalation_id) + "#reply-text")
    context = conversation_context(escalation_id)
    context.update(reply_text=text, error=error)
    return render_template("staff/conversation.html", partial=False, **context), 409
