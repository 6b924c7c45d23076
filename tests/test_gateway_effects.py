"""What the gateway writes for a turn's effects, through the real signed endpoint, on SQLite and PostgreSQL.

A stand-in dialogue returns chosen effects, so these tests pin the database side alone: a booking is a whole case
(applicant, appointment, checklist, audit) or nothing; 转人工 out of hours becomes a case with a deadline; messages
reach staff while a person holds the conversation; nobody can touch another citizen's case by number.
"""
from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import dialogs.engine
from bot.cases import service, states
from bot.cases.models import Appointment, AuditEntry, Case, MaterialRecord, Message
from bot.escalations import Escalation
from bot.media import KeptMedia
from bot.wechat.pushes import text
from dialogs import effects as fx
from dialogs.engine import Turn
from dialogs.views import SlotView
from dialogs.workdays import Calendar
from conftest import fresh_postgres_schema
from wechat_builders import WeChat, gateway_of, new_app, random_user, set_hall_clock

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
SATURDAY_20 = datetime(2026, 11, 28, 20, 0, tzinfo=SHANGHAI)


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request, tmp_path):
    if request.param == "sqlite":
        made = new_app(tmp_path)
        set_hall_clock(made, MONDAY_10)
        yield made
        return
    with fresh_postgres_schema(request.getfixturevalue("postgres_url"), "effects") as url:  # slots start empty
        made = new_app(tmp_path, DATABASE_URL=url.render_as_string(hide_password=False))
        set_hall_clock(made, MONDAY_10)
        yield made
        made.extensions["bangban"].engine.dispose()


class Scripted:
    """A stand-in dialogue: each message's text names the effects to return (built with the env it gets)."""

    def __init__(self, script):
        self.script = script
        self.envs = []

    def __call__(self, state, message, env):
        self.envs.append(env)
        effects, new_state = self.script[message.text](env, state)
        return Turn(state=new_state or {"v": 1}, replies=("好的",), effects=tuple(effects))


@pytest.fixture
def say(app, monkeypatch):
    client = WeChat(app.test_client())

    def send(user, words, script):
        monkeypatch.setattr(dialogs.engine, "handle", Scripted(script), raising=False)
        response = client.post(text(user, words))
        assert response.status_code == 200
        return client.reply_text(response)

    return send


def session_of(app) -> Session:
    return Session(app.extensions["bangban"].engine)


def booking(number: str, slot: SlotView) -> fx.OpenCase:
    return fx.OpenCase(
        number=number, item_id="gd-demo", item_title="居民身份证申领", catalogue_version="v1", unit="区公安分局",
        form="现场帮办", applicant=fx.Applicant(kind="个人", name="张三", phone="13812345678"), slot=slot,
        delivery=fx.Delivery("邮寄", "张三", "13812345678", "广州市天河区示例路1号"),
        materials=(fx.MaterialMark(1, "居民户口簿", "有"), fx.MaterialMark(2, "照片回执", "没有", "到照相馆拍摄")),
        promised_limit="5个工作日")


def test_a_booking_becomes_a_whole_case_with_its_appointment_and_checklist(app, say):
    user = random_user()
    slot = SlotView(date(2026, 11, 24), time(9), time(9, 30), 3)
    reserved = {}

    def book(env, state):
        reserved["number"] = env.reserve_case_number()
        return [booking(reserved["number"], slot)], None

    say(user, "预约", {"预约": book})

    with session_of(app) as session:
        case = session.scalar(select(Case).where(Case.openid == user))
        assert case.number == reserved["number"] and case.number.startswith("BB20261123-")
        assert (case.state, case.form, case.delivery, case.promised_days) == (states.SCREENING, "现场帮办", "邮寄", 5)
        assert case.due_date == date(2026, 11, 24)  # 甄别 within 1 working day
        assert case.applicant.name == "张三" and case.unit.name == "区公安分局"
        [appointment] = session.scalars(select(Appointment).where(Appointment.case_id == case.id)).all()
        assert (appointment.day, appointment.start, appointment.status) == (slot.day, slot.start, "booked")
        marks = session.scalars(select(MaterialRecord).where(MaterialRecord.case_id == case.id)
                                .order_by(MaterialRecord.position)).all()
        assert [(m.name, m.status) for m in marks] == [("居民户口簿", "有"), ("照片回执", "没有")]
        assert session.scalar(select(AuditEntry.action).where(AuditEntry.case_id == case.id)) == "open"


def test_a_booked_slot_has_one_place_less_and_a_full_slot_is_not_offered(app, say):
    slot = SlotView(date(2026, 11, 24), time(9), time(9, 30), 3)
    seen = {}

    def book(env, state):
        return [booking(env.reserve_case_number(), slot)], None

    for _ in range(3):
        say(random_user(), "预约", {"预约": book})

    def look(env, state):
        seen["slots"] = env.free_slots(date(2026, 11, 24))
        return [], None

    say(random_user(), "看看", {"看看": look})
    starts = [s.start for s in seen["slots"]]
    assert time(9) not in starts and time(9, 30) in starts


def test_a_booking_that_lost_the_race_for_the_last_place_stands_and_is_flagged_for_staff(app, say):
    slot = SlotView(date(2026, 12, 2), time(16), time(16, 30), 1)
    numbers = []

    def book(env, state):
        numbers.append(env.reserve_case_number())
        return [booking(numbers[-1], slot)], None

    for _ in range(4):  # capacity 3: the fourth confirmed in the same moment as the third
        say(random_user(), "预约", {"预约": book})
    with session_of(app) as session:
        flagged = session.scalars(select(Case.number).join(AuditEntry, AuditEntry.case_id == Case.id)
                                  .where(AuditEntry.action == "over_capacity", Case.number.in_(numbers))).all()
    assert flagged == [numbers[-1]]


def test_free_slots_are_none_on_a_holiday_and_only_later_ones_today(app, say):
    seen = {}

    def look(env, state):
        seen["holiday"] = env.free_slots(date(2027, 1, 1))
        seen["today"] = env.free_slots(date(2026, 11, 23))
        return [], None

    say(random_user(), "看看", {"看看": look})
    assert seen["holiday"] == []
    assert seen["today"] and all(s.start > time(10) for s in seen["today"])


def test_moving_and_cancelling_work_only_on_the_citizens_own_case(app, say):
    owner, stranger = random_user(), random_user()
    slot = SlotView(date(2026, 11, 24), time(9), time(9, 30), 3)
    later = SlotView(date(2026, 11, 25), time(14), time(14, 30), 3)
    made = {}

    def book(env, state):
        made["number"] = env.reserve_case_number()
        return [booking(made["number"], slot)], None

    say(owner, "预约", {"预约": book})
    say(stranger, "改约", {"改约": lambda env, st: ([fx.MoveBooking(made["number"], later)], None)})
    say(stranger, "取消", {"取消": lambda env, st: ([fx.CancelBooking(made["number"])], None)})
    with session_of(app) as session:
        case = session.scalar(select(Case).where(Case.number == made["number"]))
        assert case.state == states.SCREENING
        assert [a.status for a in session.scalars(select(Appointment).where(Appointment.case_id == case.id))] == \
            ["booked"]

    say(owner, "改约", {"改约": lambda env, st: ([fx.MoveBooking(made["number"], later)], None)})
    with session_of(app) as session:
        case = session.scalar(select(Case).where(Case.number == made["number"]))
        rows = session.scalars(select(Appointment).where(Appointment.case_id == case.id)
                               .order_by(Appointment.id)).all()
        assert [(a.day, a.status) for a in rows] == [(slot.day, "cancelled"), (later.day, "booked")]

    say(owner, "取消", {"取消": lambda env, st: ([fx.CancelBooking(made["number"])], None)})
    with session_of(app) as session:
        case = session.scalar(select(Case).where(Case.number == made["number"]))
        assert case.state == states.TERMINATED and case.termination_kind == "申请人要求终止"
        assert all(a.status == "cancelled" for a in session.scalars(select(Appointment)
                                                                     .where(Appointment.case_id == case.id)))


def escalate(env, state):
    return ([fx.Escalate("asked", None, "v1", "我的社保卡怎么还没寄到", (("in", "社保卡"), ("out", "……")), "老年人")],
            {"v": 1, "human": {"id": None, "status": "waiting"}})


def test_a_request_for_a_person_in_working_hours_waits_in_the_queue_with_its_history(app, say):
    user = random_user()
    say(user, "转人工", {"转人工": escalate})
    with session_of(app) as session:
        [row] = session.scalars(select(Escalation).where(Escalation.openid == user)).all()
    assert (row.status, row.priority, row.priority_group, row.case_id) == ("waiting", True, "老年人", None)
    assert row.history == [["in", "社保卡"], ["out", "……"]]
    assert gateway_of(app).store.get_state(user)["human"] == {"id": row.id, "status": "waiting"}


def test_out_of_hours_a_request_for_a_person_becomes_a_case_due_the_next_working_day(app, say):
    set_hall_clock(app, SATURDAY_20)
    user = random_user()
    say(user, "转人工", {"转人工": escalate})
    with session_of(app) as session:
        [row] = session.scalars(select(Escalation).where(Escalation.openid == user)).all()
        case = session.get(Case, row.case_id)
        assert row.status == "left"
        assert (case.state, case.note, case.due_date) == (states.SCREENING, "我的社保卡怎么还没寄到",
                                                          date(2026, 11, 30))


def test_a_message_left_out_of_hours_is_withdrawn_when_the_citizen_ends_the_handoff(app, say):
    set_hall_clock(app, SATURDAY_20)
    user, kept = random_user(), random_user()
    for citizen in (user, kept):
        say(citizen, "转人工", {"转人工": escalate})
    with session_of(app) as session, session.begin():  # a clerk has already started on the other one's message
        started = session.scalar(select(Case).where(Case.openid == kept))
        service.move(session, started, "accept", {"routing": "单部门"}, actor="system", calendar=Calendar(),
                     now=SATURDAY_20)
    for citizen in (user, kept):
        say(citizen, "结束人工", {"结束人工": lambda env, st: ([fx.EndHandoff()], None)})
    with session_of(app) as session:
        withdrawn = session.scalar(select(Case).where(Case.openid == user))
        assert (withdrawn.state, withdrawn.termination_kind) == (states.TERMINATED, "申请人要求终止")
        assert "撤回了留言" in withdrawn.reason
        assert session.scalar(select(Case.state).where(Case.openid == kept)) == states.ACCEPTED
        assert {r.status for r in session.scalars(select(Escalation).where(Escalation.openid.in_((user, kept))))} \
            == {"closed"}


def test_asking_twice_keeps_one_place_in_the_queue(app, say):
    user = random_user()
    say(user, "转人工", {"转人工": escalate})
    say(user, "转人工", {"转人工": escalate})
    with session_of(app) as session:
        assert len(session.scalars(select(Escalation).where(Escalation.openid == user)).all()) == 1


def test_messages_while_a_person_holds_the_conversation_reach_staff_and_end_with_the_handoff(app, say):
    user = random_user()
    say(user, "转人工", {"转人工": escalate})
    say(user, "我是张阿姨", {"我是张阿姨": lambda env, st: ([fx.RelayToStaff("我是张阿姨")], None)})
    say(user, "结束人工", {"结束人工": lambda env, st: ([fx.EndHandoff()], None)})
    with session_of(app) as session:
        row = session.scalar(select(Escalation).where(Escalation.openid == user))
        [message] = session.scalars(select(Message).where(Message.openid == user)).all()
    assert (message.escalation_id, message.direction, message.author, message.text) == (row.id, "in", "citizen",
                                                                                       "我是张阿姨")
    assert row.status == "closed" and row.closed_at is not None


def test_what_the_bot_answered_a_waiting_citizen_is_kept_for_staff_after_the_citizens_line(app, say):
    user = random_user()
    say(user, "转人工", {"转人工": escalate})
    relay = fx.RelayToStaff("居住证在哪办", answered="【居住证申领】\n办理地点：1楼 A区")
    say(user, "居住证在哪办", {"居住证在哪办": lambda env, st: ([relay], None)})
    with session_of(app) as session:
        lines = session.scalars(select(Message).where(Message.openid == user).order_by(Message.at, Message.id)).all()
    assert [(m.direction, m.author, m.text) for m in lines] == [
        ("in", "citizen", "居住证在哪办"), ("out", "bot", "【居住证申领】\n办理地点：1楼 A区")]
    assert lines[0].escalation_id == lines[1].escalation_id is not None


def test_a_photo_is_kept_against_the_citizens_open_case(app, say, monkeypatch):
    user = random_user()
    slot = SlotView(date(2026, 11, 24), time(9), time(9, 30), 3)
    say(user, "预约", {"预约": lambda env, st: ([booking(env.reserve_case_number(), slot)], None)})
    say(user, "照片", {"照片": lambda env, st: ([fx.KeepMedia("MEDIA1", "材料照片", material="照片回执")], None)})
    with session_of(app) as session:
        kept = session.scalar(select(KeptMedia).where(KeptMedia.openid == user))
        case = session.scalar(select(Case).where(Case.openid == user))
    assert (kept.case_id, kept.material) == (case.id, "照片回执")


def test_own_cases_are_listed_for_the_citizen_and_nobody_elses(app, say):
    owner, other = random_user(), random_user()
    slot = SlotView(date(2026, 11, 24), time(9), time(9, 30), 3)
    say(owner, "预约", {"预约": lambda env, st: ([booking(env.reserve_case_number(), slot)], None)})
    seen = {}

    def look(env, state):
        seen["cases"] = env.cases()
        return [], None

    say(owner, "查", {"查": look})
    [view] = seen["cases"]
    assert (view.state, view.item_title, view.appointment.start, view.closed) == (states.SCREENING, "居民身份证申领",
                                                                                 time(9), False)
    say(other, "查", {"查": look})
    assert seen["cases"] == []
