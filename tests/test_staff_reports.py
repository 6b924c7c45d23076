"""台账, 统计, 超期 and 回访 pages through Flask's test client, and `bangban report monthly`."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.cases.models import ADMIN, CLERK, LIAISON, Evaluation, FollowUp, Unit
from bot.cli import main
from bot.db import utcnow
from tests.report_builders import CIVIL, POLICE, make_case, november
from tests.staff_helpers import add_staff, console_app, csrf_of, login, services_of


@pytest.fixture
def app(tmp_path):
    app = console_app(tmp_path)
    add_staff(app, "lixy", POLICE, CLERK, name="李晓燕")
    add_staff(app, "wangxiu", CIVIL, CLERK, name="王秀英")
    add_staff(app, "boss", POLICE, ADMIN, name="管理员甲")
    with services_of(app).sessions.begin() as session:
        cases = november(session)
        app.config["cases"] = {key: case.number for key, case in cases.items()}
        app.config["units"] = {name: ident for ident, name in session.execute(select(Unit.id, Unit.name))}
    return app


def client_for(app, username):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def page(client, url, status=200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def ledger_rows(html: str) -> dict[str, str]:
    """case number -> the row's HTML."""
    return {m.group(2): m.group(0) for m in re.finditer(
        r'<tr class="ledger-row( masked)?" data-case="([^"]+)">.*?</tr>', html, re.S)}


# ---- pages ---------------------------------------------------------------------------------------------------

def test_every_report_page_renders_and_is_in_the_header(app):
    client = client_for(app, "lixy")
    for url in ("/staff/ledger", "/staff/statistics?month=2026-11", "/staff/overdue", "/staff/follow-ups"):
        html = page(client, url)
        for label in ("台账", "统计", "回访", "超期"):
            assert f">{label}</a>" in html
    assert app.test_client().get("/staff/ledger").status_code == 302  # a login is needed


def test_ledger_filters_and_pages(app):
    client = client_for(app, "boss")
    numbers = app.config["cases"]
    units = app.config["units"]
    everything = ledger_rows(page(client, "/staff/ledger"))
    assert len(everything) == 11 and numbers["a8"] not in everything  # never accepted: not in the 台账
    if "staff.case" in app.view_functions:  # the case pages link from the case number
        assert f'href="/staff/cases/{numbers["a1"]}"' in everything[numbers["a1"]]
    civil = ledger_rows(page(client, f"/staff/ledger?unit={units[CIVIL]}"))
    assert set(civil) == {numbers["b1"], numbers["b2"]}
    done = ledger_rows(page(client, f"/staff/ledger?unit={units[POLICE]}&state=已办结&start=2026-11-01"))
    assert set(done) == {numbers["a2"], numbers["a3"]}
    by_item = ledger_rows(page(client, "/staff/ledger?item=事项a1"))
    assert set(by_item) == {numbers["a1"], numbers["a10"]}
    html = page(client, "/staff/ledger?start=2026-13-01")
    assert "看不懂" in html and len(ledger_rows(html)) == 11
    from bot.staff import reports as views

    old, views.PER_PAGE = views.PER_PAGE, 4
    try:
        second = page(client, "/staff/ledger?page=2&unit=" + str(units[POLICE]))
    finally:
        views.PER_PAGE = old
    assert len(ledger_rows(second)) == 4 and "第 2 / 3 页" in second and "page=3" in second


def test_ledger_masks_another_units_cases_on_the_page_and_in_the_export(app):
    client = client_for(app, "wangxiu")  # 区民政局
    numbers = app.config["cases"]
    rows = ledger_rows(page(client, "/staff/ledger"))
    police, civil = rows[numbers["a1"]], rows[numbers["b1"]]
    assert "masked" in police and "张** 138****5678" in police and "张三丰" not in police
    assert "masked" not in civil and "张三丰 13812345678" in civil

    response = client.get(f"/staff/ledger.xlsx?unit={app.config['units'][POLICE]}")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet["A1"].value == "帮办代办工作登记台账" and sheet.cell(3, 3).value == "申请人姓名及电话"
    applicants = [sheet.cell(r, 3).value for r in range(5, 5 + 9)]
    assert applicants == ["张** 138****5678"] * 9
    assert "单位 区公安分局" in sheet["A2"].value
    texts = " ".join(str(c.value) for line in sheet.iter_rows() for c in line if c.value is not None)
    assert "张三丰" not in texts and "13812345678" not in texts

    admin = client_for(app, "boss").get(f"/staff/ledger.xlsx?unit={app.config['units'][POLICE]}")
    sheet = load_workbook(io.BytesIO(admin.data)).active
    assert sheet.cell(5, 3).value == "张三丰 13812345678"


def test_statistics_page_table_chart_reminder_and_export(app):
    client = client_for(app, "lixy")
    html = page(client, "/staff/statistics?month=2026-11")
    police = re.search(rf'<tr class="unit-row" data-unit="{POLICE}">(.*?)</tr>', html, re.S).group(1)
    cells = re.findall(r'<td class="(accepted|open|done|satisfaction)">([^<]*)</td>', police)
    assert [v for _, v in cells] == ["6", "3", "3", "66.7%"]
    total = re.search(r'<tr class="total-row">(.*?)</tr>', html, re.S).group(1)
    assert re.findall(r'<th class="(?:accepted|open|done|satisfaction)">([^<]*)</th>', total) == [
        "8", "3", "5", "60.0%"]
    idle = re.search(r'<tr class="unit-row" data-unit="区税务局">(.*?)</tr>', html, re.S).group(1)
    assert '<td class="satisfaction">—</td>' in idle
    assert '<svg id="statistics-chart"' in html and f'data-unit="{POLICE}"' in html
    assert "每月25日" in html and 'id="statistics-due"' in html
    assert "<script src=" not in html  # no CDN

    response = client.get("/staff/statistics.xlsx?month=2026-11")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet["A1"].value == "帮办代办服务事项办件统计表" and sheet["A2"].value.startswith("填报单位：示例政务服务中心")
    assert sheet["C2"].value == "统计月份：2026年11月"
    row = next(r for r in range(5, sheet.max_row + 1) if sheet.cell(r, 2).value == POLICE)
    assert [sheet.cell(row, c).value for c in range(3, 6)] == [6, 3, 3]
    assert sheet.cell(row, 6).value == pytest.approx(0.667)

    one = client.get(f"/staff/statistics.xlsx?month=2026-11&unit={app.config['units'][CIVIL]}")
    sheet = load_workbook(io.BytesIO(one.data)).active
    assert sheet["A2"].value == f"填报单位：{CIVIL}" and sheet.cell(5, 2).value == CIVIL
    assert sheet.cell(6, 2).value == "合计" and sheet.cell(6, 6).value == pytest.approx(0.5)


def test_a_bad_month_is_said_and_last_month_shown(app):
    html = page(client_for(app, "lixy"), "/staff/statistics?month=2026-13")
    assert "YYYY-MM" in html and "显示上个月" in html


def test_overdue_page_lists_late_open_cases_by_unit(app):
    long_ago = utcnow() - timedelta(days=40)
    with services_of(app).sessions.begin() as session:
        late = make_case(session, CIVIL, opened=long_ago, accepted=long_ago, title="迟到的事项").number
    client = client_for(app, "lixy")
    html = page(client, "/staff/overdue")
    section = re.search(rf'<section class="overdue-unit" data-unit="{CIVIL}">(.*?)</section>', html, re.S).group(1)
    assert late in section and "迟到的事项" in section and "个工作日" in section
    only_police = page(client, f"/staff/overdue?unit={app.config['units'][POLICE]}")
    assert late not in only_police


# ---- 回访 and ratings ---------------------------------------------------------------------------------------

def open_task_ids(html: str) -> list[int]:
    table = re.search(r'<table id="follow-ups-open">(.*?)</table>', html, re.S).group(1)
    return [int(n) for n in re.findall(r'<tr id="follow-up-(\d+)" class="follow-up', table)]


def test_a_follow_up_is_closed_with_the_recorded_answer(app):
    numbers = app.config["cases"]
    police = client_for(app, "lixy")
    html = page(police, "/staff/follow-ups")
    tasks = open_task_ids(html)
    assert len(tasks) == 1 and numbers["a2"] in html and "非常不满意" in html
    task = tasks[0]

    civil = client_for(app, "wangxiu")
    assert open_task_ids(page(civil, "/staff/follow-ups")) == []  # another unit's 回访
    refused = civil.post(f"/staff/follow-ups/{task}/close", data={
        "csrf_token": csrf_of(page(civil, "/staff/follow-ups")), "method": "电话回访", "said": "x", "done": "y"})
    assert refused.status_code == 403

    token = csrf_of(html)
    assert police.post(f"/staff/follow-ups/{task}/close", data={"method": "电话回访"}).status_code == 400  # no CSRF
    missing = police.post(f"/staff/follow-ups/{task}/close", data={"csrf_token": token, "method": "电话回访",
                                                                  "said": "等太久了", "done": ""},
                          follow_redirects=True)
    assert "请填写：处理情况" in missing.get_data(as_text=True) and open_task_ids(missing.get_data(as_text=True))
    done = police.post(f"/staff/follow-ups/{task}/close", data={
        "csrf_token": token, "method": "电话回访", "said": "等太久了", "done": "已致歉，说明了办理时限"},
        follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "回访已办结" in text and open_task_ids(text) == []
    closed = re.search(r'<table id="follow-ups-closed">(.*?)</table>', text, re.S).group(1)
    assert "已致歉，说明了办理时限" in closed and "李晓燕" in closed
    with services_of(app).sessions() as session:
        row = session.get(FollowUp, task)
        assert row.closed_at is not None and row.method == "电话回访" and "等太久了" in row.answer


def test_a_rating_taken_by_phone_is_recorded_once_and_a_bad_one_opens_a_follow_up(app):
    numbers = app.config["cases"]
    civil = client_for(app, "wangxiu")
    html = page(civil, "/staff/follow-ups")
    assert f'<option value="{numbers["b1"]}">' in html  # 已办结, unrated, of 区民政局
    token = csrf_of(html)
    form = {"csrf_token": token, "number": numbers["b1"], "rating": "4", "channel": "电话回访", "comment": "窗口说法不一"}
    unchosen = civil.post("/staff/follow-ups/rating", data={**form, "rating": ""}, follow_redirects=True)
    assert "评价应为" in unchosen.get_data(as_text=True)
    first = civil.post("/staff/follow-ups/rating", data=form, follow_redirects=True).get_data(as_text=True)
    assert "已登记案件" in first and "不满意" in first and "已生成回访任务" in first
    assert len(open_task_ids(first)) == 1
    again = civil.post("/staff/follow-ups/rating", data={**form, "rating": "1"}, follow_redirects=True)
    assert "已经评价过" in again.get_data(as_text=True)
    with services_of(app).sessions() as session:
        rows = session.scalars(select(Evaluation).where(Evaluation.comment == "窗口说法不一")).all()
        assert [(e.rating, e.channel) for e in rows] == [(4, "电话回访")]

    police = client_for(app, "lixy")
    token = csrf_of(page(police, "/staff/follow-ups"))
    other = police.post("/staff/follow-ups/rating", data={**form, "csrf_token": token, "number": numbers["a4"]},
                        follow_redirects=True).get_data(as_text=True)
    assert "办结后才能评价" in other  # a4 is still 办理中
    wrong_unit = police.post("/staff/follow-ups/rating", data={**form, "csrf_token": token,
                                                               "number": numbers["b2"]}, follow_redirects=True)
    assert "只有办理单位" in wrong_unit.get_data(as_text=True)
    wechat = police.post("/staff/follow-ups/rating", data={**form, "csrf_token": token, "channel": "微信"},
                         follow_redirects=True)
    assert "评价方式应为" in wechat.get_data(as_text=True)


def test_a_liaison_of_the_unit_sees_its_follow_ups(app):
    add_staff(app, "zhouj", POLICE, LIAISON, name="周佳")
    html = page(client_for(app, "zhouj"), "/staff/follow-ups")
    assert len(open_task_ids(html)) == 1


# ---- bangban report monthly -----------------------------------------------------------------------------------

def test_report_monthly_prints_the_table_and_writes_the_workbook(app, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BANGBAN_DATA_DIR", str(tmp_path / "instance"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    out = tmp_path / "out" / "2026-11.xlsx"
    assert main(["report", "monthly", "--month", "2026-11", "--out", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "帮办代办服务事项办件统计表  2026年11月"
    assert next(line for line in printed if line.startswith(POLICE)).split() == [POLICE, "6", "3", "3", "66.7%"]
    assert next(line for line in printed if line.startswith("合计")).split() == ["合计", "8", "3", "5", "60.0%"]
    sheet = load_workbook(out).active
    assert sheet["A1"].value == "帮办代办服务事项办件统计表"

    assert main(["report", "monthly", "--month", "2026-11", "--unit", CIVIL]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[1:-1] if not line.startswith("-")] == ["单位名称", CIVIL, "合计"]


@pytest.mark.parametrize("argv", [["--month", "2026-13"], ["--month", "11/2026"], ["--month", "2026-11",
                                                                                     "--unit", "不存在的单位"]])
def test_report_monthly_refuses_bad_input_in_one_line(app, tmp_path, monkeypatch, capsys, argv):
    monkeypatch.setenv("BANGBAN_DATA_DIR", str(tmp_path / "instance"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert main(["report", "monthly", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1 and captured.err.startswith("error:")
