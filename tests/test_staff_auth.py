"""Logging in to the staff console: hashed passwords, CSRF on every form, a login for every page."""
from __future__ import annotations

from sqlalchemy import select

from bot.cases.models import CLERK, Staff
from tests.staff_helpers import PASSWORD, add_staff, console_app, login, services_of


def test_a_clerk_logs_in_with_the_right_password_and_is_refused_with_a_wrong_one(tmp_path):
    app = console_app(tmp_path)
    add_staff(app, "lixy", "区公安分局", CLERK, name="李晓燕")
    client = app.test_client()

    refused = login(client, "lixy", "wrong-password")
    assert refused.status_code == 401 and "用户名或密码不对" in refused.get_data(as_text=True)

    accepted = login(client, "lixy")
    assert accepted.status_code == 302
    home = client.get("/staff/", follow_redirects=True)
    assert "李晓燕" in home.get_data(as_text=True)


def test_passwords_are_stored_hashed_not_as_typed(tmp_path):
    app = console_app(tmp_path)
    add_staff(app, "lixy", "区公安分局", CLERK)
    with services_of(app).sessions() as session:
        stored = session.scalar(select(Staff.password_hash).where(Staff.username == "lixy"))
    assert PASSWORD not in stored and stored.startswith("scrypt:")


def test_a_form_without_its_csrf_token_is_refused(tmp_path):
    app = console_app(tmp_path)
    add_staff(app, "lixy", "区公安分局", CLERK)
    response = app.test_client().post("/staff/login", data={"username": "lixy", "password": PASSWORD})
    assert response.status_code == 400


def test_pages_need_a_login(tmp_path):
    app = console_app(tmp_path)
    response = app.test_client().get("/staff/")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_five_wrong_passwords_lock_the_name_for_a_while(tmp_path):
    app = console_app(tmp_path)
    add_staff(app, "wangxy", "区民政局", CLERK)
    client = app.test_client()
    for _ in range(5):
        login(client, "wangxy", "nope-nope")
    locked = login(client, "wangxy")
    assert locked.status_code == 401 and "次数太多" in locked.get_data(as_text=True)
