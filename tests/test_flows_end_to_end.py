"""Booking, progress and the material checklist by chat, end to end: real signed WeChat pushes through /wechat, the
real dialogue and flows, and the database checked afterwards (SQLite, and PostgreSQL + Redis in CI)."""
from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cases import states
from bot.cases.models import Appointment, Case, MaterialRecord
from bot.wechat.pushes import text
from wechat_builders import WeChat, new_app, random_user, set_hall_clock

MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request, tmp_path):
    if request.param == "sqlite":
        made = new_app(tmp_path)
    else:
        made = new_app(tmp_path, DATABASE_URL=request.getfixturevalue("postgres_url"),
                       REDIS_URL=request.getfixturevalue("redis_url"))
    set_hall_clock(made, MONDAY_10)
    return made


@pytest.fixture
def chat(app):
    client = WeChat(app.test_client())

    def say(user: str, words: str) -> str:
        response = client.post(text(user, words))
        assert response.status_code == 200
        return client.reply_text(response) or ""

    return say


def case_number(app, user: str) -> str:
    with session_of(app) as session:
        return session.scalar(select(Case.number).where(Case.openid == user))


def session_of(app) -> Session:
    return Session(app.extensions["bangban"].engine)


def test_a_citizen_books_by_chat_and_the_case_with_its_slot_is_in_the_database(app, chat):
    user = random_user()
    assert "居住证" in chat(user, "居住证怎么办")
    assert "服务方式" in chat(user, "预约")
    assert "个人还是企业" in chat(user, "1")
    assert "姓名" in chat(user, "1")
    assert "手机号" in chat(user, "张三")
    assert "哪天" in chat(user, "138 0013 8000")
    assert "结果怎么给您" in chat(user, "明天上午")
    summary = chat(user, "1")
    assert "请核对" in summary and "11月24日（周二）上午" in summary  # the first morning slot with a place free
    done = chat(user, "是")
    assert "预约好了" in done

    with session_of(app) as session:
        case = session.scalar(select(Case).where(Case.openid == user))
        appointment = session.scalar(select(Appointment).where(Appointment.case_id == case.id))
    assert case.number in done and case.state == states.SCREENING and case.form == "现场帮办"
    assert (case.applicant.name, case.applicant.phone) == ("张三", "13800138000")
    assert (appointment.day, appointment.status) == (date(2026, 11, 24), "booked")
    assert f"上午{appointment.start.hour}:{appointment.start.minute:02d}-" in summary and appointment.start < time(12)

    progress = chat(user, "查进度")
    assert case.number in progress and "待甄别" in progress

    assert "取消" in chat(user, f"取消预约 {case.number}")
    assert "已取消" in chat(user, "是")
    with session_of(app) as session:
        assert session.scalar(select(Case.state).where(Case.id == case.id)) == states.TERMINATED
        assert session.scalar(select(Appointment.status).where(Appointment.case_id == case.id)) == "cancelled"


def test_someone_elses_case_number_is_never_shown(app, chat):
    owner, stranger = random_user(), random_user()
    chat(owner, "居住证怎么办")
    for words in ("预约", "1", "1", "李四", "13800138000", "明天上午", "1"):
        chat(owner, words)
    chat(owner, "是")
    with session_of(app) as session:
        number = session.scalar(select(Case.number).where(Case.openid == owner))
    answer = chat(stranger, number)
    assert "李四" not in answer and "没有找到" in answer


def test_the_checklist_of_an_open_case_is_kept_with_the_case(app, chat):
    user = random_user()
    chat(user, "居住证怎么办")
    for words in ("预约", "1", "1", "王五", "13800138000", "明天上午", "1"):
        chat(user, words)
    chat(user, "是")
    first = chat(user, "材料清单")
    assert "1." in first
    answer = first
    for _ in range(10):  # batches of three: the first material missing, the rest there
        if "一次性告知" in answer:
            break
        answer = chat(user, "1没有，其他都有" if "1." in answer else "都有")
    assert "一次性告知" in answer and "本人身份证（没有）" in answer and case_number(app, user) in answer
    with session_of(app) as session:
        case_id = session.scalar(select(Case.id).where(Case.openid == user))
        marks = session.scalars(select(MaterialRecord).where(MaterialRecord.case_id == case_id)
                                .order_by(MaterialRecord.position)).all()
    assert marks and marks[0].status == "没有" and all(m.status != "没有" for m in marks[1:])
