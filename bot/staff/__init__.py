"""The staff console (/staff): server-rendered pages for 帮办代办员, 联络员 and 管理员.

    auth.py      login / logout, hashed passwords, roles, unit scoping, who may see personal data
    (the queue, conversations, cases, forms, ledger and statistics register their views on the same blueprint)

Every POST carries a CSRF token (Flask-WTF); every page needs a login; lists mask personal data, and a case's
personal data is shown only to staff of the units handling it (and to 管理员).
"""
from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from flask import Blueprint, Flask
from flask_wtf.csrf import CSRFProtect

if TYPE_CHECKING:
    from ..app import Services

staff = Blueprint("staff", __name__, url_prefix="/staff", template_folder="../templates")
csrf = CSRFProtect()
SESSION_HOURS = 10  # a working day; then log in again


def init_staff(app: Flask, services: "Services") -> None:
    app.config.update(
        SECRET_KEY=services.config.session_secret(),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
        WTF_CSRF_TIME_LIMIT=SESSION_HOURS * 3600,
    )
    csrf.init_app(app)
    from . import auth  # noqa: F401 - registers its views on the blueprint

    for module in VIEW_MODULES:
        __import__(f"{__name__}.{module}")
    app.register_blueprint(staff)
    app.jinja_env.globals.update(current_staff=auth.current_staff, staff_nav=staff_nav)
    for name, view in app.view_functions.items():
        if name.startswith("simulator"):
            csrf.exempt(view)


# Modules of bot/staff that register views; add yours here.
VIEW_MODULES: list[str] = ["queue", "conversation", "reports", "follow_ups", "cases", "forms", "photos", "undelivered"]

# The header's links: (endpoint, label), shown when the endpoint exists.
NAV: list[tuple[str, str]] = [("staff.queue", "转人工队列"), ("staff.cases", "案件"), ("staff.ledger", "台账"),
                              ("staff.statistics", "统计"), ("staff.follow_ups", "回访"),
                              ("staff.undelivered", "未送达")]


def staff_nav() -> list[tuple[str, str]]:
    from flask import current_app

    return [(endpoint, label) for endpoint, label in NAV if endpoint in current_app.view_functions]
