"""The case service: opening cases, the transitions table, deadlines in working days, audit, numbers, notices.

Every test runs on SQLite and on a real PostgreSQL (the `postgres_url` fixture: skipped on a laptop without
DATABASE_URL, failed in CI without it), each PostgreSQL test in a schema of its own.
"""
from __future__ import annotations

import threading
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from bot.cases import notices
from bot.cases import service
from bot.cases import states as s
from bot.cases.models import CLERK, PERSON, AuditEntry, Case, Staff, Unit
from bot.cases.numbers import NUMBER, normalise
from dialogs.workdays import Calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALENDAR = Calendar()
NAME, PHONE, ID_NUMBER = "张三丰", "13812345678", "11010519491231002X"


def hall_time(y: int, m: int, d: int, hour: int = 10, minute: int = 0) -> datetime:
    """A moment in the hall (Asia/Shanghai), as the aware UTC datetime the service is given."""
    return datetime(y, m, d, hour, minute, tzinfo=SHANGHAI).astimezone(timezone.utc)


# ---- databases -------------------------------------------------------------------------------------------------
@pytest.fixture
def sessions(model_sessions):
    """Every test here on SQLite and on PostgreSQL (tests/conftest.py)."""
    return model_sessions


@pytest.fixture
def clerk(sessions) -> Staff:
    with sessions.begin() as session:
        unit = Unit(name="区公安分局", phone="020-83120101")
        session.add(unit)
        session.flush()
        person = Staff(username="lixy", name="李晓燕", unit_id=unit.id, role=CLERK, password_hash="x",
                       active=True, created_at=hall_time(2026, 1, 5))
        session.add(person)
        session.flush()
        session.expunge(person)
        return person


def open_one(session, now: datetime, promised: str | None = "5个工作日", calendar: Calendar = CALENDAR,
             **extra) -> Case:
    applicant = service.ApplicantDetails(kind=PERSON, name=NAME, phone=PHONE, id_number=ID_NUMBER)
    return service.open_case(session, applicant=applicant, openid="oCitizen001", item_id="EXT-015",
                             item_title="居住证申领", catalogue_version="v1", unit_name="区公安分局", form="代办",
                             promised_limit=promised, calendar=calendar, channel="窗口", actor="staff:1", now=now,
                             **extra)


GOOD_INPUTS = {
    "reject": {"reason": "不在帮办代办范围", "redirect_unit": "区民政局"},
    "request_materials": {"missing": [{"name": "户口本", "how": "到户籍派出所开具"},
                                      {"name": "租房合同", "how": "找房东签"}]},
    "materials_supplied": {},
    "accept": {"routing": "单部门"},
    "submit": {},
    "finish": {"result": "居住证已制好", "delivery": "邮寄", "tracking_no": "SF1234567890"},
    "terminate": {"termination_kind": s.TERMINATION_KINDS[0], "reason": "申请人不办了", "materials_returned": "1"},
}
# How to bring a new case (待甄别) to each state, by legal moves.
PATH_TO = {
    s.SCREENING: [],
    s.AWAITING_MATERIALS: ["request_materials"],
    s.ACCEPTED: ["accept"],
    s.IN_PROGRESS: ["accept", "submit"],
    s.DONE: ["accept", "submit", "finish"],
    s.REJECTED: ["reject"],
    s.TERMINATED: ["terminate"],
}


def case_in(session, state: str, now: datetime | None = None) -> Case:
    now = now or hall_time(2026, 11, 2)
    case = open_one(session, now)
    for action in PATH_TO[state]:
        service.move(session, case, action, GOOD_INPUTS[action], actor="staff:1", calendar=CALENDAR, now=now)
    session.flush()
    assert case.state == state
    return case


# ---- transitions ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("transition", s.TRANSITIONS, ids=lambda t: t.action)
def test_every_legal_transition_from_every_source_state(sessions, clerk, transition):
    for source in transition.source:
        with sessions.begin() as session:
            case = case_in(session, source)
            audits = session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.case_id == case.id))
            done = service.move(session, case, transition.action, GOOD_INPUTS[transition.action],
                                actor=service.actor_of(clerk), calendar=CALENDAR, now=hall_time(2026, 11, 3))
            session.flush()
            assert done is transition and case.state == transition.target
            entries = session.scalars(select(AuditEntry).where(AuditEntry.case_id == case.id)
                                      .order_by(AuditEntry.id)).all()
            assert len(entries) == audits + 1
            last = entries[-1]
            assert (last.action, last.from_state, last.to_state, last.actor) == (
                transition.action, source, transition.target, f"staff:{clerk.id}")
            if transition.target in s.FINAL_STATES:
                assert case.closed_at is not None and case.due_date is None
            else:
                assert case.closed_at is None


def test_what_each_transition_records(sessions, clerk):
    now = hall_time(2026, 11, 3)
    with sessions.begin() as session:
        case = case_in(session, s.SCREENING)
        service.move(session, case, "request_materials", GOOD_INPUTS["request_materials"], actor="staff:1",
                     calendar=CALENDAR, now=now)
        assert case.missing_materials == GOOD_INPUTS["request_materials"]["missing"]
        assert case.due_date is None  # the clock waits for the citizen
        service.move(session, case, "materials_supplied", {}, actor="staff:1", calendar=CALENDAR, now=now)
        service.move(session, case, "accept", {"routing": "一件事一次办", "lead_unit": "区卫生健康局",
                                                "involved_units": "区公安分局、区卫生健康局"},
                     actor="staff:1", calendar=CALENDAR, now=now)
        assert case.routing == "一件事一次办" and case.lead_unit_id is not None
        assert session.get(Unit, case.lead_unit_id).name == "区卫生健康局"
        assert case.accepted_at == now and case.involved_units == "区公安分局、区卫生健康局"
        service.move(session, case, "submit", {}, actor="staff:1", calendar=CALENDAR, now=now)
        assert case.submitted_at == now
        service.move(session, case, "finish", GOOD_INPUTS["finish"], actor="staff:1", calendar=CALENDAR, now=now)
        assert (case.result, case.delivery, case.tracking_no) == ("居住证已制好", "邮寄", "SF1234567890")
        assert case.closed_at == now

        other = case_in(session, s.ACCEPTED)
        service.move(session, other, "terminate", GOOD_INPUTS["terminate"], actor="staff:1", calendar=CALENDAR,
                     now=now)
        assert (other.termination_kind, other.reason, other.materials_returned) == (
            "申请人要求终止", "申请人不办了", True)
        third = case_in(session, s.SCREENING)
        service.move(session, third, "reject", GOOD_INPUTS["reject"], actor="staff:1", calendar=CALENDAR, now=now)
        assert (third.reason, third.redirect_unit) == ("不在帮办代办范围", "区民政局")


@pytest.mark.parametrize("state,action", [
    (s.SCREENING, "submit"), (s.SCREENING, "finish"), (s.SCREENING, "materials_supplied"),
    (s.AWAITING_MATERIALS, "accept"), (s.ACCEPTED, "accept"), (s.ACCEPTED, "finish"),
    (s.IN_PROGRESS, "reject"), (s.DONE, "terminate"), (s.REJECTED, "accept"), (s.TERMINATED, "submit"),
])
def test_an_illegal_transition_is_refused_with_a_clear_message_and_nothing_written(sessions, clerk, state, action):
    with sessions.begin() as session:
        case = case_in(session, state)
        before = {c.key: getattr(case, c.key) for c in Case.__table__.columns}
        audits = session.scalar(select(func.count()).select_from(AuditEntry))
        with pytest.raises(s.TransitionError) as refused:
            service.move(session, case, action, GOOD_INPUTS[action], actor="staff:1", calendar=CALENDAR,
                         now=hall_time(2026, 11, 4))
        message = str(refused.value)
        assert f"案件当前为“{state}”" in message and f"不能“{s.BY_ACTION[action].label}”" in message
        if state in s.FINAL_STATES:
            assert "无（案件已结束）" in message
        else:
            assert all(t.label in message for t in s.allowed(state))
        assert not session.dirty and not session.new
        session.flush()
        assert {c.key: getattr(case, c.key) for c in Case.__table__.columns} == before
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == audits


def test_an_unknown_action_is_refused(sessions, clerk):
    with sessions.begin() as session:
        case = case_in(session, s.SCREENING)
        with pytest.raises(s.TransitionError, match="没有“archive”这个操作"):
            service.move(session, case, "archive", {}, actor="staff:1", calendar=CALENDAR)


@pytest.mark.parametrize("state,action,inputs,names", [
    (s.SCREENING, "reject", {}, ["原因", "应去办理的单位"]),
    (s.SCREENING, "reject", {"reason": "  ", "redirect_unit": "区民政局"}, ["原因"]),
    (s.SCREENING, "request_materials", {"missing": []}, ["缺少的材料（一次性告知）"]),
    (s.SCREENING, "request_materials", {"missing": ["", " "]}, ["缺少的材料（一次性告知）"]),
    (s.SCREENING, "accept", {}, ["办理方式"]),
    (s.SCREENING, "accept", {"routing": "随便"}, ["办理方式（应为单部门/一件事一次办/专班）"]),
    (s.SCREENING, "accept", {"routing": "一件事一次办"}, ["牵头部门"]),
    (s.SCREENING, "accept", {"routing": "专班"}, ["专班负责人"]),
    (s.IN_PROGRESS, "finish", {"delivery": "自取"}, ["办理结果"]),
    (s.IN_PROGRESS, "finish", {"result": "已办好", "delivery": "邮寄"}, ["快递单号"]),
    (s.IN_PROGRESS, "finish", {"result": "已办好", "delivery": "飞鸽"}, ["结果领取方式（应为自取或邮寄）"]),
    (s.ACCEPTED, "terminate", {"reason": "不办了"}, ["终止原因类别"]),
    (s.ACCEPTED, "terminate", {"termination_kind": "心情不好", "reason": "不办了"}, ["终止原因类别（应为"]),
])
def test_required_inputs_are_named_in_chinese_and_nothing_is_written(sessions, clerk, state, action, inputs, names):
    with sessions.begin() as session:
        case = case_in(session, state)
        version, audits = case.version, session.scalar(select(func.count()).select_from(AuditEntry))
        with pytest.raises(s.TransitionError) as refused:
            service.move(session, case, action, inputs, actor="staff:1", calendar=CALENDAR)
        assert str(refused.value).startswith("请填写：")
        for name in names:
            assert name in str(refused.value)
        session.flush()
        assert case.state == state and case.version == version
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == audits


def test_allowed_lists_the_moves_of_each_state_in_console_order():
    assert [t.action for t in s.allowed(s.SCREENING)] == ["reject", "request_materials", "accept", "terminate"]
    assert [t.action for t in s.allowed(s.AWAITING_MATERIALS)] == ["materials_supplied", "terminate"]
    assert [t.action for t in s.allowed(s.ACCEPTED)] == ["submit", "terminate"]
    assert [t.action for t in s.allowed(s.IN_PROGRESS)] == ["finish", "terminate"]
    for final in s.FINAL_STATES:
        assert s.allowed(final) == ()


# ---- deadlines -----------------------------------------------------------------------------------------------
def test_the_2026_holidays_and_make_up_working_days_the_deadlines_rely_on():
    # 国务院办公厅 2026 arrangement, as in chinese_calendar: 春节 2月15日–23日 (2月14日、28日 周六上班);
    # 中秋 9月25日–27日; 国庆 10月1日–7日 (9月20日 周日、10月10日 周六上班).
    for make_up in (date(2026, 2, 14), date(2026, 2, 28), date(2026, 9, 20), date(2026, 10, 10)):
        assert make_up.weekday() >= 5 and chinese_calendar.is_workday(make_up) and CALENDAR.is_workday(make_up)
    for holiday in (date(2026, 2, 16), date(2026, 2, 23), date(2026, 9, 25), date(2026, 10, 1), date(2026, 10, 7)):
        assert not CALENDAR.is_workday(holiday)


@pytest.mark.parametrize("opened,due", [
    ((2026, 9, 30), date(2026, 10, 8)),   # the day before 国庆: 1 working day is the first day after the holiday
    ((2026, 9, 18), date(2026, 9, 20)),   # a Friday: the next working day is Sunday 9月20日 (调休上班)
    ((2026, 9, 24), date(2026, 9, 28)),   # the day before 中秋 (25–27)
    ((2026, 10, 9), date(2026, 10, 10)),  # Friday after 国庆: Saturday 10月10日 is a working day
    ((2026, 2, 13), date(2026, 2, 14)),   # Friday before 春节: Saturday 2月14日 is a working day
    ((2026, 2, 14), date(2026, 2, 24)),   # the make-up Saturday itself: next is after the 9-day holiday
    ((2026, 2, 27), date(2026, 2, 28)),   # Friday: Saturday 2月28日 is a working day
])
def test_a_new_case_is_due_for_checking_one_working_day_later(sessions, clerk, opened, due):
    with sessions.begin() as session:
        case = open_one(session, hall_time(*opened))
        assert (case.due_date, case.due_step) == (due, service.STEP_CHECK)


def test_the_hall_date_not_the_utc_date_starts_the_count(sessions, clerk):
    with sessions.begin() as session:
        # 00:30 on 30 September in the hall is still 29 September in UTC
        early = open_one(session, datetime(2026, 9, 29, 16, 30, tzinfo=timezone.utc))
        assert early.number.startswith("BB20260930-") and early.due_date == date(2026, 10, 8)
        # 01:00 on 1 October in the hall (a holiday): the first working day after it, 8 October, then one more
        late = open_one(session, datetime(2026, 9, 30, 17, 0, tzinfo=timezone.utc))
        assert late.number.startswith("BB20261001-") and late.due_date == date(2026, 10, 8)


def test_accepted_submitted_and_promised_deadlines_across_national_day(sessions, clerk):
    with sessions.begin() as session:
        case = open_one(session, hall_time(2026, 9, 30), promised="5个工作日")
        service.move(session, case, "accept", {"routing": "单部门"}, actor="staff:1", calendar=CALENDAR,
                     now=hall_time(2026, 9, 30, 16))
        # 提交窗口 within 2 working days: 10月8日, 10月9日
        assert (case.due_date, case.due_step) == (date(2026, 10, 9), service.STEP_SUBMIT)
        service.move(session, case, "submit", {}, actor="staff:1", calendar=CALENDAR, now=hall_time(2026, 10, 9))
        # 5 working days after Friday 10月9日: Sat 10日 (调休上班), 12日, 13日, 14日, 15日
        assert (case.due_date, case.due_step) == (date(2026, 10, 15), service.STEP_FINISH)


def test_deadlines_around_the_spring_festival(sessions, clerk):
    with sessions.begin() as session:
        case = open_one(session, hall_time(2026, 2, 13), promised="3个工作日")
        service.move(session, case, "accept", {"routing": "单部门"}, actor="staff:1", calendar=CALENDAR,
                     now=hall_time(2026, 2, 13))
        assert case.due_date == date(2026, 2, 24)  # Sat 14日 (上班), then the holiday to 23日, then 24日
        service.move(session, case, "submit", {}, actor="staff:1", calendar=CALENDAR, now=hall_time(2026, 2, 25))
        assert case.due_date == date(2026, 2, 28)  # 26日, 27日, Saturday 28日 (上班)


def test_the_halls_own_closures_and_openings_move_the_deadline(sessions, clerk):
    closed_on_the_8th = Calendar(extra_holidays=[date(2026, 10, 8)])
    open_on_the_3rd = Calendar(extra_workdays=[date(2026, 10, 3)])
    with sessions.begin() as session:
        assert open_one(session, hall_time(2026, 9, 30), calendar=closed_on_the_8th).due_date == date(2026, 10, 9)
        assert open_one(session, hall_time(2026, 9, 30), calendar=open_on_the_3rd).due_date == date(2026, 10, 3)


def test_deadline_steps_follow_the_state(sessions, clerk):
    now = hall_time(2026, 11, 2)  # a Monday
    with sessions.begin() as session:
        case = open_one(session, now, promised="即办")
        assert case.promised_days == 0
        service.move(session, case, "request_materials", GOOD_INPUTS["request_materials"], actor="staff:1",
                     calendar=CALENDAR, now=now)
        assert (case.due_date, case.due_step) == (None, None)
        service.move(session, case, "materials_supplied", {}, actor="staff:1", calendar=CALENDAR,
                     now=hall_time(2026, 11, 6))  # Friday: checking is due on Monday
        assert (case.due_date, case.due_step) == (date(2026, 11, 9), service.STEP_CHECK)
        service.move(session, case, "accept", {"routing": "单部门"}, actor="staff:1", calendar=CALENDAR,
                     now=hall_time(2026, 11, 9))
        service.move(session, case, "submit", {}, actor="staff:1", calendar=CALENDAR, now=hall_time(2026, 11, 10))
        assert (case.due_date, case.due_step) == (date(2026, 11, 10), service.STEP_FINISH)  # 即办: the same day
        unknown = open_one(session, now, promised=None)
        service.move(session, unknown, "accept", {"routing": "单部门"}, actor="staff:1", calendar=CALENDAR, now=now)
        service.move(session, unknown, "submit", {}, actor="staff:1", calendar=CALENDAR, now=now)
        assert unknown.due_date is None  # no 承诺时限 known: no deadline rather than a wrong one


def test_overdue_means_an_open_case_past_its_due_date(sessions, clerk):
    with sessions.begin() as session:
        case = open_one(session, hall_time(2026, 9, 30))  # due 10月8日
        assert not service.is_overdue(case, date(2026, 10, 7))
        assert not service.is_overdue(case, date(2026, 10, 8))  # due today is not late yet
        assert service.is_overdue(case, date(2026, 10, 9))
        service.move(session, case, "request_materials", GOOD_INPUTS["request_materials"], actor="staff:1",
                     calendar=CALENDAR, now=hall_time(2026, 9, 30))
        assert not service.is_overdue(case, date(2026, 12, 1))  # waiting for the citizen
        done = case_in(session, s.DONE)
        done.due_date = date(2026, 1, 1)
        assert not service.is_overdue(done, date(2026, 12, 1))


# ---- numbers and audit ---------------------------------------------------------------------------------------
def test_case_numbers_are_readable_and_unique_and_restart_each_day(sessions, clerk):
    with sessions.begin() as session:
        numbers = [open_one(session, hall_time(2026, 9, 30, 9, i)).number for i in range(12)]
        next_day = open_one(session, hall_time(2026, 10, 8)).number
    assert numbers[0] == "BB20260930-0001" and numbers[-1] == "BB20260930-0012"
    assert len(set(numbers)) == 12 and all(NUMBER.fullmatch(n) for n in numbers)
    assert next_day == "BB20261008-0001"
    assert normalise("bb20260930-7") == "BB20260930-0007" == normalise("BB202609300007")
    with sessions() as session:
        assert session.scalar(select(func.count(func.distinct(Case.number)))) == 13


def test_parallel_openings_never_share_a_number_on_postgresql(request, clerk, sessions):
    if request.node.callspec.params["model_sessions"] != "postgresql":
        pytest.skip("parallel writers: PostgreSQL only (SQLite serialises writers anyway)")
    numbers, errors = [], []
    start = threading.Barrier(8)

    def opener():
        try:
            start.wait()
            for _ in range(5):
                with sessions.begin() as session:
                    numbers.append(open_one(session, hall_time(2026, 9, 30)).number)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=opener) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(numbers) == [f"BB20260930-{n:04d}" for n in range(1, 41)]


def test_every_change_is_audited_with_personal_data_masked(sessions, clerk):
    with sessions.begin() as session:
        case = open_one(session, hall_time(2026, 11, 2))
        for action, inputs in [("request_materials", GOOD_INPUTS["request_materials"]), ("materials_supplied", {}),
                               ("accept", {"routing": "专班", "coordinator": "王主任"}), ("submit", {}),
                               ("finish", {"result": "已办好", "delivery": "邮寄", "tracking_no": "SF1",
                                           "recipient_name": NAME, "recipient_phone": PHONE,
                                           "csrf_token": "secret-token"})]:
            service.move(session, case, action, inputs, actor=service.actor_of(clerk), calendar=CALENDAR,
                         now=hall_time(2026, 11, 3))
        service.assign(session, case, clerk, actor=service.actor_of(clerk), now=hall_time(2026, 11, 3))
        case_id = case.id
    with sessions() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(AuditEntry.id)).all()
    assert [(e.action, e.from_state, e.to_state) for e in entries] == [
        ("open", None, s.SCREENING), ("request_materials", s.SCREENING, s.AWAITING_MATERIALS),
        ("materials_supplied", s.AWAITING_MATERIALS, s.SCREENING), ("accept", s.SCREENING, s.ACCEPTED),
        ("submit", s.ACCEPTED, s.IN_PROGRESS), ("finish", s.IN_PROGRESS, s.DONE), ("assign", s.DONE, s.DONE)]
    assert entries[0].actor == "staff:1" and all(e.actor == f"staff:{clerk.id}" for e in entries[1:])
    assert all(e.at is not None and e.at.tzinfo is not None for e in entries)
    opened = entries[0].detail
    assert opened["item"] == "居住证申领" and opened["name"] == "张**" and opened["phone"] == "138****5678"
    assert opened["id_number"] == "110105********002X"
    finished = entries[5].detail
    assert finished["recipient_name"] == "张**" and finished["recipient_phone"] == "138****5678"
    assert "csrf_token" not in finished and finished["tracking_no"] == "SF1"
    assert entries[6].detail == {"from": None, "to": clerk.id}
    everything = repr([(e.detail, e.reason) for e in entries])
    for secret in (NAME, PHONE, ID_NUMBER, "secret-token"):
        assert secret not in everything


def test_terminate_and_reject_keep_the_reason_in_the_audit(sessions, clerk):
    with sessions.begin() as session:
        rejected = case_in(session, s.REJECTED)
        terminated = case_in(session, s.TERMINATED)
        reasons = {e.action: e.reason for e in session.scalars(
            select(AuditEntry).where(AuditEntry.case_id.in_([rejected.id, terminated.id])))}
    assert reasons["reject"] == "不在帮办代办范围" and reasons["terminate"] == "申请人不办了"


def test_a_change_made_by_someone_else_in_between_is_refused(sessions, clerk):
    with sessions.begin() as session:
        number = open_one(session, hall_time(2026, 11, 2)).number
    first, second = sessions(), sessions()
    try:
        mine = first.scalar(select(Case).where(Case.number == number))
        theirs = second.scalar(select(Case).where(Case.number == number))
        service.move(second, theirs, "accept", {"routing": "单部门"}, actor="staff:2", calendar=CALENDAR)
        second.commit()
        service.move(first, mine, "reject", GOOD_INPUTS["reject"], actor="staff:1", calendar=CALENDAR)
        with pytest.raises(StaleDataError):
            first.commit()
        first.rollback()
    finally:
        first.close()
        second.close()
    with sessions() as session:
        case = session.scalar(select(Case).where(Case.number == number))
        assert case.state == s.ACCEPTED and case.version == 2
        assert session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.case_id == case.id, AuditEntry.action == "reject")) == 0


def test_assign_changes_the_clerk_and_bumps_the_version(sessions, clerk):
    with sessions.begin() as session:
        case = open_one(session, hall_time(2026, 11, 2))
        session.flush()
        version = case.version
        service.assign(session, case, clerk, actor="staff:9", reason="首问负责")
        session.flush()
        assert case.assigned_staff_id == clerk.id and case.version == version + 1
        service.assign(session, case, None, actor="staff:9")
        session.flush()
        assert case.assigned_staff_id is None


# ---- what the citizen is told --------------------------------------------------------------------------------
def notice_case(**fields) -> Case:
    case = Case(**{"number": "BB20260930-0007", "item_title": "居住证申领", "state": s.SCREENING, **fields})
    case.unit = Unit(name="区公安分局")
    return case


def test_one_time_notice_lists_every_missing_material_numbered_with_how_to_get_it():
    case = notice_case(missing_materials=GOOD_INPUTS["request_materials"]["missing"], state=s.AWAITING_MATERIALS)
    text_ = notices.citizen_notice(case, "request_materials", GOOD_INPUTS["request_materials"])
    assert "BB20260930-0007" in text_ and "居住证申领" in text_ and "2项" in text_
    assert "1. 户口本——怎么办：到户籍派出所开具" in text_ and "2. 租房合同——怎么办：找房东签" in text_


def test_notices_for_reject_accept_submit_terminate():
    rejected = notice_case(reason="不在帮办代办范围", redirect_unit="区民政局", state=s.REJECTED)
    text_ = notices.citizen_notice(rejected, "reject", {})
    assert "不予受理" in text_ and "原因：不在帮办代办范围" in text_ and "请到区民政局办理" in text_
    accepted = notice_case(due_date=date(2026, 10, 9), promised_days=5, state=s.ACCEPTED)
    text_ = notices.citizen_notice(accepted, "accept", {"routing": "单部门"})
    assert "已受理" in text_ and "10月9日（周五）前" in text_ and "5个工作日" in text_
    working = notice_case(due_date=date(2026, 10, 15), state=s.IN_PROGRESS)
    assert "10月15日（周四）前办结" in notices.citizen_notice(working, "submit", {})
    ended = notice_case(termination_kind="申请人要求终止", reason="不办了", materials_returned=True)
    text_ = notices.citizen_notice(ended, "terminate", {})
    assert "已终止" in text_ and "申请人要求终止" in text_ and "已退还" in text_
    assert notices.citizen_notice(notice_case(), "materials_supplied", {}) is None


def test_the_finish_notice_says_how_to_get_the_result_and_asks_for_a_rating():
    mailed = notice_case(result="居住证已制好", delivery="邮寄", tracking_no="SF1234567890", state=s.DONE)
    text_ = notices.citizen_notice(mailed, "finish", {})
    assert "已办结" in text_ and "居住证已制好" in text_ and "快递单号：SF1234567890" in text_
    assert text_.endswith("请回复数字评价：1非常满意 2满意 3基本满意 4不满意 5非常不满意")
    collected = notice_case(result="居住证已制好", delivery="自取", state=s.DONE)
    text_ = notices.citizen_notice(collected, "finish", {"pickup": "1楼8号窗口，工作日9:00-17:00"})
    assert "到1楼8号窗口，工作日9:00-17:00领取" in text_ and notices.RATING_REQUEST in text_


def test_the_default_pickup_place_is_the_units_published_window(tmp_path):
    from bot.config import Config
    from bot.wechat import knowledge_base_for

    kb = knowledge_base_for(Config.from_env({"BANGBAN_DATA_DIR": str(tmp_path)}))
    place = notices.pickup_place(notice_case(), kb.hall)
    assert "区公安分局窗口（示例政务服务中心1楼 A区 1-8号窗口）" in place and "时间：" in place
