"""Login, roles and unit scoping for the staff console.

Passwords are stored as salted hashes (werkzeug's scrypt). A login lasts a working day. Roles:
帮办代办员 (clerk: their unit's queue and cases), 联络员 (liaison: also coordinates the cases their unit leads),
管理员 (admin: every unit, statistics, staff). Staff of other units see a case without personal data.
"""
from __future__ import annotations

import logging
import threading
import time
from functools import wraps
from typing import TYPE_CHECKING, Callable, Iterable

from flask import abort, flash, g, redirect, render_template, request, session, url_for
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from .. import handoff
from ..cases.models import ADMIN, LIAISON, Staff
from . import staff

if TYPE_CHECKING:
    from ..cases.models import Case
    from ..escalations import Escalation

log = logging.getLogger(__name__)

MAX_FAILURES, FAILURE_WINDOW_SECONDS = 5, 15 * 60
_failures: dict[str, list[float]] = {}
_failures_lock = threading.Lock()


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def current_staff() -> Staff | None:
    if "staff" in g:
        return g.staff
    ident = session.get("staff_id")
    found = None
    if ident is not None:
        with db_session() as s:
            found = s.get(Staff, ident)
            if found is not None and not found.active:
                found = None
    g.staff = found
    return found


def db_session():
    """A database session for one request (`with db_session() as s:`; `with s.begin():` to write)."""
    from ..app import services

    svc = services()
    svc.parts["schema"].ensure()
    return svc.sessions()


def login_required(*roles: str) -> Callable:
    """The view needs a logged-in staff member (with one of `roles`, if given); else the login page / 403."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            person = current_staff()
            if person is None:
                return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))
            if roles and person.role not in roles and person.role != ADMIN:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorate


def may_see_personal(person: Staff, unit_ids: tuple[int | None, ...], assigned_id: int | None = None) -> bool:
    """Personal data of a case: staff of the handling or leading unit, the assigned clerk, and 管理员."""
    if person.role == ADMIN:
        return True
    return person.unit_id in unit_ids or (assigned_id is not None and assigned_id == person.id)


def may_see_citizen(person: Staff, cases: Iterable[Case], conversations: Iterable[Escalation], hall) -> bool:
    """What a citizen sent or was sent (photos, messages that did not arrive): 管理员, and staff who may see the
    personal data of one of `cases` or one of the 转人工 `conversations` (bot/handoff.py visible_to)."""
    if person.role == ADMIN:
        return True
    return (any(may_see_personal(person, (c.unit_id, c.lead_unit_id), c.assigned_staff_id) for c in cases)
            or any(handoff.visible_to(person, e, hall) for e in conversations))


def may_coordinate(person: Staff) -> bool:
    return person.role in (LIAISON, ADMIN)


def _too_many_failures(username: str) -> bool:
    now = time.monotonic()
    with _failures_lock:
        recent = [t for t in _failures.get(username, []) if now - t < FAILURE_WINDOW_SECONDS]
        _failures[username] = recent
        return len(recent) >= MAX_FAILURES


def _note_failure(username: str) -> None:
    with _failures_lock:
        _failures.setdefault(username, []).append(time.monotonic())


@staff.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        username = (request.form.get("username") or "").strip()
        password = request.form.get("password") or ""
        if _too_many_failures(username):
            error = "密码错误次数太多，请15分钟后再试，或请管理员重设密码。"
        else:
            with db_session() as s:
                person = s.scalar(select(Staff).where(Staff.username == username))
                ok = person is not None and person.active and check_password_hash(person.password_hash, password)
                if ok:
                    session.clear()
                    session["staff_id"] = person.id
                    session.permanent = True
                    log.info("staff: %s logged in", person.username)
                    target = request.args.get("next") or ""
                    return redirect(target if target.startswith("/staff") else url_for("staff.home"))
            _note_failure(username)
            log.warning("staff: failed login")
            error = "用户名或密码不对，请再试一次。"
    return render_template("staff/login.html", error=error), (401 if error else 200)


@staff.route("/logout", methods=["POST"])
def logout():
    session.clear()
    flash("已退出。")
    return redirect(url_for("staff.login"))


@staff.route("/")
@login_required()
def home():
    return redirect(url_for("staff.queue")) if "staff.queue" in _endpoints() else render_template("staff/base.html")


def _endpoints() -> set[str]:
    from flask import current_app

    return set(current_app.view_functions)
