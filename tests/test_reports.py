"""台账, 办件统计表 (seed 003 附件4 / 附件8), 超期 and 评价 / 回访 against cases with hand-chosen dates."""
from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import create_engine, select

from bot.cases import states as s
from conftest import fresh_postgres_schema
from bot.cases.models import AuditEntry, Case, Evaluation, FollowUp, Staff, Unit
from bot.db import Schema, session_factory
from bot.evaluations import RatingError, close_follow_up, record_rating, FollowUpError
from bot.reports import (LedgerFilter, ledger_rows, ledger_workbook, monthly_statistics, next_due_date,
                         overdue_cases, parse_month, percent, statistics_text, statistics_workbook)
from tests.report_builders import CALENDAR, CIVIL, POLICE, at, make_case, november


@pytest.fixture
def sessions(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'reports.db'}")
    Schema(engine).ensure()
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def month(sessions):
    with sessions.begin() as session:
        cases = november(session)
        return {key: case.id for key, case in cases.items()}


def by_unit(stats):
    return {row.unit: row for row in stats.rows}


def check_november(stats):
    rows = by_unit(stats)
    police, civil = rows[POLICE], rows[CIVIL]
    assert (police.accepted, police.open, police.done, police.satisfied) == (6, 3, 3, 2)
    assert (police.new, police.carried, police.terminated, police.rated) == (4, 2, 1, 3)
    assert police.satisfaction == Decimal("66.7") and police.satisfaction_text == "66.7%"
    assert (civil.accepted, civil.open, civil.done, civil.satisfied, civil.rated) == (2, 0, 2, 1, 1)
    assert civil.satisfaction_text == "50.0%"
    total = stats.total
    assert (total.accepted, total.open, total.done, total.satisfied) == (8, 3, 5, 3)
    assert total.satisfaction_text == "60.0%"
    for row in [*stats.rows, total]:
        assert row.accepted == row.open + row.done  # 附件8 说明1
    return rows


# ---- 办件统计表 ----------------------------------------------------------------------------------------------

def test_november_counts_as_computed_by_hand(sessions, month):
    with sessions() as session:
        stats = monthly_statistics(session, 2026, 11)
    rows = check_november(stats)
    assert rows["区民政局"].unit == CIVIL
    idle = rows["区税务局"] if "区税务局" in rows else None
    assert idle is None or (idle.accepted, idle.satisfaction_text) == (0, "—")


def test_the_month_before_and_after_follow_the_same_rules(sessions, month):
    with sessions() as session:
        october = by_unit(monthly_statistics(session, 2026, 10))[POLICE]
        december = by_unit(monthly_statistics(session, 2026, 12))[POLICE]
    # October: a7 办结 (非常满意); open at the end: a1, a5 (accepted in October)
    assert (october.accepted, october.open, october.done, october.satisfied) == (3, 2, 1, 1)
    # December: a5 办结 (unrated); open: a4, a9, a10 (a8 was never accepted)
    assert (december.accepted, december.open, december.done, december.satisfaction_text) == (4, 3, 1, "0.0%")
    assert december.new == 1 and december.carried == 3


def test_one_unit_only_and_without_empty_units(sessions, month):
    with sessions() as session:
        unit_id = session.scalar(select(Unit.id).where(Unit.name == CIVIL))
        one = monthly_statistics(session, 2026, 11, unit_id=unit_id)
        busy = monthly_statistics(session, 2026, 11, include_empty=False)
    assert [r.unit for r in one.rows] == [CIVIL] and one.total.accepted == 2
    assert {r.unit for r in busy.rows} == {POLICE, CIVIL}


def test_satisfaction_is_rounded_half_up_and_a_dash_without_any_done():
    assert percent(2, 3) == Decimal("66.7")
    assert percent(1, 8) == Decimal("12.5") and percent(1, 16) == Decimal("6.3")
    assert percent(19, 20) == Decimal("95.0") and percent(0, 0) is None


def test_months_are_read_strictly():
    assert parse_month("2026-11") == (2026, 11) and parse_month("2026-1") == (2026, 1)
    for bad in ("2026-13", "2026/11", "11-2026", "", None, "2026-00"):
        with pytest.raises(ValueError, match="YYYY-MM"):
            parse_month(bad)


def test_the_report_is_due_on_the_25th():
    assert next_due_date(date(2026, 11, 3)) == date(2026, 11, 25)
    assert next_due_date(date(2026, 11, 25)) == date(2026, 11, 25)
    assert next_due_date(date(2026, 12, 26)) == date(2027, 1, 25)


def test_statistics_as_text_are_aligned(sessions, month):
    with sessions() as session:
        out = statistics_text(monthly_statistics(session, 2026, 11, include_empty=False))
    lines = out.splitlines()
    police = next(line for line in lines if line.startswith(POLICE))
    assert police.split() == [POLICE, "6", "3", "3", "66.7%"]
    assert lines[-2].split() == ["合计", "8", "3", "5", "60.0%"]
    from bot.reports import display_width

    widths = {display_width(line) for line in lines[1:-1] if not line.startswith("-")}
    assert len(widths) == 1, out  # every row as wide as the header


def test_statistics_workbook_is_laid_out_like_attachment_8(sessions, month):
    with sessions() as session:
        stats = monthly_statistics(session, 2026, 11, include_empty=False)
    data = statistics_workbook(stats, reporting_unit="示例政务服务中心", filled_on=date(2026, 12, 3))
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet["A1"].value == "帮办代办服务事项办件统计表" and sheet["A1"].font.bold
    assert sheet["A2"].value == "填报单位：示例政务服务中心" and sheet["F2"].value == "填报日期：2026年12月3日"
    assert sheet["C2"].value == "统计月份：2026年11月"
    assert [sheet.cell(3, c).value for c in (1, 2, 3, 7)] == ["序号", "单位名称", "帮办代办服务事项情况", "备注"]
    assert [sheet.cell(4, c).value for c in range(3, 7)] == ["受理数量", "在办数量", "办结数量", "满意度"]
    assert sheet.cell(4, 3).font.bold and sheet.freeze_panes == "A5"
    rows = {sheet.cell(r, 2).value: r for r in range(5, 8)}
    police = rows[POLICE]
    assert [sheet.cell(police, c).value for c in range(3, 6)] == [6, 3, 3]
    assert sheet.cell(police, 6).value == pytest.approx(0.667) and sheet.cell(police, 6).number_format == "0.0%"
    assert "上月结转2件" in sheet.cell(police, 7).value and "终止1件不计入" in sheet.cell(police, 7).value
    total = rows["合计"]
    assert [sheet.cell(total, c).value for c in range(3, 7)] == [8, 3, 5, pytest.approx(0.6)]
    notes = [sheet.cell(r, 1).value for r in range(total + 1, total + 7) if sheet.cell(r, 1).value]
    assert any("受理数量=在办数量+办结数量" in n for n in notes) and any("25日" in n for n in notes)


def test_a_month_without_any_done_shows_a_dash_in_the_workbook(sessions):
    with sessions.begin() as session:
        make_case(session, POLICE, opened=at(11, 2), accepted=at(11, 3))
    with sessions() as session:
        stats = monthly_statistics(session, 2026, 11, include_empty=False)
    sheet = load_workbook(io.BytesIO(statistics_workbook(stats))).active
    assert sheet.cell(5, 6).value == "—" and stats.rows[0].satisfaction_text == "—"


# ---- 台账 ----------------------------------------------------------------------------------------------------

def everyone(case):
    return True


def test_ledger_lists_accepted_cases_with_the_attachment_4_fields(sessions):
    with sessions.begin() as session:
        unit = Unit(name=POLICE)
        session.add(unit)
        session.flush()
        clerk = Staff(username="lixy", name="李晓燕", unit_id=unit.id, role="帮办代办员", password_hash="x",
                      created_at=at(1, 1))
        session.add(clerk)
        session.flush()
        make_case(session, POLICE, opened=at(11, 2, 9), accepted=at(11, 3), finished=at(11, 10, 15),
                  told=at(11, 10, 16, 30), rating=2, actor=f"staff:{clerk.id}", note="帮我办身份证",
                  title="居民身份证换领")
        make_case(session, POLICE, opened=at(11, 4), title="未受理的事项")  # 待甄别: not in the 台账
    with sessions() as session:
        page = ledger_rows(session, LedgerFilter(), everyone)
    assert page.total == 1
    row = page.rows[0]
    assert row.applied_on == date(2026, 11, 2) and row.applicant == "张三丰 13812345678"
    assert row.item == "居民身份证换领" and row.receiver == "李晓燕"
    assert [(f.unit, f.accepted_on, f.closed_on) for f in row.flows] == [(POLICE, date(2026, 11, 3),
                                                                          date(2026, 11, 10))]
    assert row.feedback_at == datetime(2026, 11, 10, 16, 30) and row.rating == "满意"
    assert row.number in row.remark and "帮我办身份证" in row.remark and not row.masked


def test_ledger_filters(sessions, month):
    with sessions() as session:
        police = session.scalar(select(Unit.id).where(Unit.name == POLICE))

        def numbers(**kw):
            rows = ledger_rows(session, LedgerFilter(**kw), everyone, per_page=None).rows
            return sorted(r.item for r in rows)

        assert len(numbers()) == 11  # every accepted case (a8 never was)
        assert numbers(start=date(2026, 11, 1), end=date(2026, 11, 30)) == sorted(
            ["事项a2", "事项a3", "事项a4", "事项a6", "事项a9", "事项a10", "事项b1", "事项b2"])
        assert numbers(start=date(2026, 11, 30), end=date(2026, 11, 30)) == ["事项a10", "事项a9"]
        assert numbers(unit_id=police, state=s.DONE) == ["事项a1", "事项a2", "事项a3", "事项a5", "事项a7"]
        assert numbers(item="a1") == ["事项a1", "事项a10"]
        assert numbers(item="%") == []  # LIKE wildcards are taken literally
        first = ledger_rows(session, LedgerFilter(), everyone, page=1, per_page=4)
        third = ledger_rows(session, LedgerFilter(), everyone, page=3, per_page=4)
    assert first.total == 11 and first.pages == 3 and len(first.rows) == 4 and len(third.rows) == 3
    assert first.rows[0].item == "事项a10"  # newest first (opened 11-30 23:40)


def test_ledger_masks_personal_data_for_another_units_staff_also_in_the_export(sessions, month):
    with sessions() as session:
        civil = session.scalar(select(Unit.id).where(Unit.name == CIVIL))

        def civil_staff_may_see(case):  # what bot/staff/auth.may_see_personal says for a 区民政局 clerk
            return civil in (case.unit_id, case.lead_unit_id)

        rows = ledger_rows(session, LedgerFilter(), civil_staff_may_see, per_page=None, newest_first=False).rows
    police_rows = [r for r in rows if r.flows[0].unit == POLICE]
    civil_rows = [r for r in rows if r.flows[0].unit == CIVIL]
    assert police_rows and all(r.masked and r.applicant == "张** 138****5678" for r in police_rows)
    assert civil_rows and all(not r.masked and r.applicant == "张三丰 13812345678" for r in civil_rows)
    sheet = load_workbook(io.BytesIO(ledger_workbook(rows, description="全部"))).active
    texts = [str(c.value) for line in sheet.iter_rows() for c in line if c.value is not None]
    assert sum("张** 138****5678" in t for t in texts) == len(police_rows)
    assert sum("张三丰 13812345678" in t for t in texts) == len(civil_rows)


def test_ledger_workbook_has_bold_frozen_headers_and_real_dates(sessions, month):
    with sessions() as session:
        rows = ledger_rows(session, LedgerFilter(), everyone, per_page=None, newest_first=False).rows
    sheet = load_workbook(io.BytesIO(ledger_workbook(rows))).active
    assert sheet["A1"].value == "帮办代办工作登记台账"
    heads = [sheet.cell(3, c).value for c in range(1, 12)]
    assert heads == ["序号", "申请日期", "申请人姓名及电话", "帮办代办事项名称", "帮办代办窗口收件人姓名",
                     "相关单位流转情况", None, None, "帮办代办窗口反馈时间", "评价情况", "备注"]
    assert [sheet.cell(4, c).value for c in (6, 7, 8)] == ["单位", "受理日期", "办结日期"]
    assert all(sheet.cell(r, c).font.bold for r in (3, 4) for c in range(1, 12) if sheet.cell(r, c).value)
    assert sheet.freeze_panes == "A5"
    assert sheet.column_dimensions["D"].width > 20
    first = [sheet.cell(5, c).value for c in range(1, 12)]
    assert first[0] == 1 and first[1] == datetime(2026, 8, 31) and first[3] == "事项a7"
    assert first[6] == datetime(2026, 9, 1) and first[7] == datetime(2026, 10, 15) and first[9] == "非常满意"
    assert sheet.cell(5, 2).number_format == "yyyy-mm-dd" and sheet.cell(5, 9).number_format == "yyyy-mm-dd hh:mm"
    assert sheet.cell(5 + len(rows), 1).value is None or "说明" in str(sheet.cell(5 + len(rows), 1).value)


# ---- 超期 ----------------------------------------------------------------------------------------------------

def test_overdue_cases_by_unit_in_working_days(sessions):
    with sessions.begin() as session:
        late = make_case(session, POLICE, opened=at(11, 2), accepted=at(11, 3))  # 办结 due 5 working days later
        make_case(session, CIVIL, opened=at(11, 26))  # 甄别 due 11-27
        make_case(session, CIVIL, opened=at(11, 2), accepted=at(11, 3), finished=at(11, 5))  # closed: never late
        due = late.due_date
    assert due == date(2026, 11, 10)
    with sessions() as session:
        groups = overdue_cases(session, date(2026, 11, 30), CALENDAR)
    found = {g.unit: g.cases for g in groups}
    assert set(found) == {POLICE, CIVIL}
    police = found[POLICE][0]
    assert police.due_step == "办结" and police.days_over == 20 and police.workdays_over == 14
    assert found[CIVIL][0].workdays_over == 1 and found[CIVIL][0].state == s.SCREENING


# ---- 评价 and 回访 ------------------------------------------------------------------------------------------

def test_a_second_rating_and_a_rating_before_the_case_is_done_are_refused(sessions):
    with sessions.begin() as session:
        done = make_case(session, POLICE, opened=at(11, 2), accepted=at(11, 3), finished=at(11, 5))
        still_open = make_case(session, POLICE, opened=at(11, 2), accepted=at(11, 3))
        first = record_rating(session, done, 1, "很好", "微信", at(11, 6), calendar=CALENDAR)
        assert first.label == "非常满意" and first.channel == "微信"
        with pytest.raises(RatingError, match="已经评价过"):
            record_rating(session, done, 4, None, "电话回访", at(11, 7), calendar=CALENDAR)
        with pytest.raises(RatingError, match="办结后才能评价"):
            record_rating(session, still_open, 2, None, "微信", at(11, 7), calendar=CALENDAR)
        with pytest.raises(RatingError):
            record_rating(session, done, 6, None, "微信", at(11, 7))
        with pytest.raises(RatingError, match="评价方式"):
            record_rating(session, done, 2, None, "短信", at(11, 7))
    with sessions() as session:
        assert session.scalar(select(Evaluation.rating).where(Evaluation.case_id == done.id)) == 1
        assert session.scalars(select(FollowUp)).all() == []
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.case_id == done.id)).all()
        assert actions.count("evaluate") == 1


def test_a_bad_rating_on_friday_opens_a_follow_up_due_on_tuesday(sessions):
    with sessions.begin() as session:
        case = make_case(session, POLICE, opened=at(11, 20), accepted=at(11, 23), finished=at(11, 26))
        unit = session.get(Unit, case.unit_id)
        liaison = Staff(username="chenzq", name="陈志强", unit_id=unit.id, role="联络员", password_hash="x",
                        created_at=at(1, 1))
        session.add(liaison)
        session.flush()
        unit.liaison_id = liaison.id
        friday = at(11, 27, 16)
        assert friday.weekday() == 4
        evaluation = record_rating(session, case, "不满意", "等太久了", "电话回访", friday, calendar=CALENDAR,
                                   actor=f"staff:{liaison.id}")
        case_id, evaluation_id, liaison_id = case.id, evaluation.id, liaison.id
    with sessions() as session:
        task = session.scalar(select(FollowUp))
        assert task.case_id == case_id and task.evaluation_id == evaluation_id
        assert task.due_date == date(2026, 12, 1)  # Friday + 2 working days, over the weekend
        assert task.unit_id == session.scalar(select(Unit.id).where(Unit.name == POLICE))
        assert task.assigned_staff_id == liaison_id and task.closed_at is None
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.case_id == case_id)).all()
        assert "evaluate" in actions and "follow_up_open" in actions
    with sessions.begin() as session:
        task = session.scalar(select(FollowUp))
        person = session.get(Staff, liaison_id)
        with pytest.raises(FollowUpError, match="处理情况"):
            close_follow_up(session, task, person, method="电话回访", said="等太久", done="", now=at(11, 30))
        close_follow_up(session, task, person, method="电话回访", said="等太久", done="已致歉并说明原因",
                        now=at(11, 30))
    with sessions() as session:
        task = session.scalar(select(FollowUp))
        assert task.closed_by == liaison_id and task.method == "电话回访" and "已致歉" in task.answer
        assert "follow_up_close" in session.scalars(select(AuditEntry.action)).all()


def test_satisfied_ratings_open_no_follow_up(sessions):
    with sessions.begin() as session:
        for rating in (1, 2, 3):
            make_case(session, POLICE, opened=at(11, 2), accepted=at(11, 3), finished=at(11, 5), rating=rating)
    with sessions() as session:
        assert session.scalars(select(FollowUp)).all() == []
        assert session.scalar(select(Case).where(Case.state == s.DONE)) is not None


# ---- the same on PostgreSQL ----------------------------------------------------------------------------------

@pytest.fixture
def pg_sessions(postgres_url):
    with fresh_postgres_schema(postgres_url, "reports") as url:
        engine = create_engine(url)
        try:
            Schema(engine).ensure()
            yield session_factory(engine)
        finally:
            engine.dispose()


def test_statistics_and_ledger_on_postgresql(pg_sessions):
    with pg_sessions.begin() as session:
        november(session)
    with pg_sessions() as session:
        check_november(monthly_statistics(session, 2026, 11))
        december = {r.unit: r for r in monthly_statistics(session, 2026, 12).rows}[POLICE]
        assert (december.accepted, december.open, december.done) == (4, 3, 1)
        rows = ledger_rows(session, LedgerFilter(start=date(2026, 11, 30), end=date(2026, 11, 30), item="a"),
                           everyone).rows
        assert sorted(r.item for r in rows) == ["事项a10", "事项a9"]
        assert ledger_rows(session, LedgerFilter(item="%"), everyone).total == 0
