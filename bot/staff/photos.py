"""Photos citizens sent (bot/media.py), for the case page and the 转人工 conversation.

    GET /staff/photos/<id>    photo    the photo's bytes: an image inline, anything else as a download

A photo is personal data. It is shown to whoever may see the personal data of its case (bot/staff/auth.py
`may_see_personal`) or the 转人工 conversation it was sent in (bot/handoff.py `visible_to`); others get 403. A
photo not fetched from WeChat yet (or that could not be) is 404, with the reason.
"""
from __future__ import annotations

from flask import abort, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..cases.models import Case, Staff
from ..escalations import Escalation
from ..media import FETCHED, KeptMedia, photo_file, status_text
from . import staff
from .auth import current_staff, db_session, login_required, may_see_citizen
from .queue import parts

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp", "image/bmp": "bmp"}


def may_see_photo(person: Staff, session: Session, row: KeptMedia) -> bool:
    """Staff who may see its case's personal data, or a 转人工 conversation of the citizen's that it came after."""
    case = session.get(Case, row.case_id) if row.case_id is not None else None
    conversations = session.scalars(select(Escalation).where(Escalation.openid == row.openid,
                                                             Escalation.created_at <= row.received_at))
    return may_see_citizen(person, [case] if case is not None else [], conversations, parts()[1].hall)


@staff.route("/photos/<int:photo_id>")
@login_required()
def photo(photo_id: int):
    with db_session() as session:
        row = session.get(KeptMedia, photo_id)
        if row is None:
            abort(404)
        if not may_see_photo(current_staff(), session, row):
            abort(403)
        if row.fetch_status != FETCHED:
            return current_app.response_class(status_text(row), status=404, mimetype="text/plain")
        content = photo_file(session, row)
    if content is None:
        abort(404)
    inline = row.shown_inline
    response = current_app.response_class(content, mimetype=row.content_type if inline else "application/octet-stream")
    name = f"photo-{row.id}.{EXTENSIONS.get(row.content_type or '', 'bin')}"
    response.headers["Content-Disposition"] = f"{'inline' if inline else 'attachment'}; filename={name}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=86400"  # a photo never changes; only this browser keeps it
    return response
