"""The whole journey in real headless browsers (Playwright + Debian's chromium): a citizen on the simulator asks
for a person → a clerk logs in to the console, takes the conversation and replies → the citizen sees the reply
and sends a photo, which the clerk sees →
the clerk registers the case, accepts, submits and closes it → the citizen rates it by chat → the month's
statistics show it. Skipped on a laptop without chromium/playwright, FAILS in CI (see test_simulator_browser.py).
"""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from sqlalchemy import select

from bot.cases.models import CLERK, Case, Evaluation
from bot.cases.service import HALL_TIME_ZONE, hall_today
from bot.db import utcnow
from dialogs.workdays import Calendar
from staff_helpers import PASSWORD, add_staff
from test_simulator_browser import PHONE, TIMEOUT_MS, bot_bubbles, browser, serve  # noqa: F401 (fixtures)
from wechat_builders import set_hall_clock

QUESTION = "结婚登记要带什么"
REPLY = "您好，结婚登记请双方本人一起来，带好身份证和户口簿。"


def next_working_morning() -> datetime:
    """A working day after today at 10:00, hall time: the hall is open, and no timer sees the wait as too long."""
    day = Calendar().add_workdays(hall_today(utcnow()) + timedelta(days=1), 0)
    return datetime.combine(day, time(10), tzinfo=HALL_TIME_ZONE)


def test_a_citizens_request_is_taken_answered_closed_rated_and_counted(browser, serve, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    app, base = serve()
    set_hall_clock(app, next_working_morning())
    add_staff(app, "lixy", "区民政局", CLERK, name="李晓燕")
    errors: list[str] = []

    citizen_context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    citizen_context.set_default_timeout(TIMEOUT_MS)
    citizen = citizen_context.new_page()
    citizen.on("pageerror", lambda error: errors.append(f"citizen: {error}"))
    clerk_context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    clerk_context.set_default_timeout(TIMEOUT_MS)
    clerk = clerk_context.new_page()
    clerk.on("pageerror", lambda error: errors.append(f"clerk: {error}"))

    # The citizen asks, then asks for a person
    citizen.goto(f"{base}/simulator")
    citizen.fill("#text", QUESTION)
    citizen.press("#text", "Enter")
    expect(bot_bubbles(citizen).last).to_contain_text("结婚登记")
    citizen.fill("#text", "转人工")
    citizen.press("#text", "Enter")
    expect(bot_bubbles(citizen).last).to_contain_text("已为您转人工")

    # A clerk logs in and finds the conversation in the queue, with the question asked
    clerk.goto(f"{base}/staff/")
    clerk.fill("input[name=username]", "lixy")
    clerk.fill("input[name=password]", PASSWORD)
    clerk.click("button[type=submit]")
    clerk.goto(f"{base}/staff/queue")
    row = clerk.locator("#queue-waiting tr.queue-row").first
    expect(row).to_contain_text("结婚登记")
    row.locator("button[name=take]").click()
    expect(clerk.locator("#conversation")).to_be_visible()
    expect(clerk.locator("#messages")).to_contain_text(QUESTION)
    expect(clerk.locator("#guide")).to_contain_text("身份证")

    # … replies; the citizen sees the reply as a customer-service message
    clerk.fill("#reply-text", REPLY)
    clerk.click("#send")
    expect(citizen.locator(".msg.kf .bubble", has_text=REPLY)).to_have_count(1)
    expect(citizen.locator(".msg.kf .bubble").first).to_contain_text("李工作人员")

    # The citizen answers while the clerk holds the conversation: the bot stays out, the clerk sees it
    bot_answers = bot_bubbles(citizen).count()
    citizen.fill("#text", "好的，我们下周一去")
    citizen.press("#text", "Enter")
    expect(clerk.locator("#messages")).to_contain_text("我们下周一去")
    assert bot_bubbles(citizen).count() == bot_answers

    # … and sends a photo: the worker fetches it from WeChat's API (here the simulator's), the clerk sees it
    citizen.click("text=发送图片")
    photo = clerk.locator("#messages figure.photo[data-status=fetched] img")
    expect(photo).to_have_count(1)
    clerk.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=photo.element_handle())
    expect(clerk.locator("#allowance")).not_to_contain_text("刷新失败")  # the page's refresh ran through
    expect(clerk.locator("#undelivered-note")).to_be_hidden()  # every message reached the citizen

    # The clerk registers the case from the conversation, then ends the conversation
    clerk.click("a#register-case")
    expect(clerk.locator("#from-escalation")).to_be_visible()
    clerk.fill("#f-name", "张三")
    clerk.fill("#f-phone", "13812345678")
    clerk.select_option("#f-form", "现场帮办")
    clerk.click("#case-new-submit")
    expect(clerk.locator("#case-state")).to_have_text("待甄别")
    number = clerk.locator("h1").inner_text().split()[0]
    assert re.fullmatch(r"BB\d{8}-\d{4}", number)
    with app.extensions["bangban"].sessions() as session:
        case_openid = session.scalar(select(Case.openid).where(Case.number == number))
    assert case_openid == citizen.locator("body").get_attribute("data-user")  # the case belongs to the citizen
    clerk.go_back()
    clerk.go_back()
    clerk.locator("form.queue-action button[name=close]").first.click()
    expect(citizen.locator(".msg.kf .bubble", has_text="人工服务已结束")).to_have_count(1)

    # … accepts, submits and closes it; the citizen is told each step and asked to rate
    clerk.goto(f"{base}/staff/cases/{number}")
    clerk.select_option("#move-accept select[name=routing]", "单部门")
    clerk.click("#move-accept button[type=submit]")
    expect(clerk.locator("#case-state")).to_have_text("已受理")
    clerk.click("#move-submit button[type=submit]")
    expect(clerk.locator("#case-state")).to_have_text("办理中")
    clerk.fill("#move-finish textarea[name=result]", "已办结，结婚证已发")
    clerk.select_option("#move-finish select[name=delivery]", "自取")
    clerk.click("#move-finish button[type=submit]")
    expect(clerk.locator("#case-state")).to_have_text("已办结")
    expect(citizen.locator(".msg.kf .bubble", has_text="评价")).to_have_count(1)

    # The citizen rates it by chat
    citizen.fill("#text", "1")
    citizen.press("#text", "Enter")
    expect(bot_bubbles(citizen).last).to_contain_text("意见")
    citizen.fill("#text", "没有")
    citizen.press("#text", "Enter")
    expect(bot_bubbles(citizen).last).to_contain_text("谢谢")
    with app.extensions["bangban"].sessions() as session:
        rating = session.scalar(select(Evaluation.rating).join(Case).where(Case.number == number))
    assert rating == 1

    # The month's statistics count it: accepted, done, 100% satisfied
    month = hall_today(utcnow()).strftime("%Y-%m")
    clerk.goto(f"{base}/staff/statistics?month={month}")
    unit_row = clerk.locator("#statistics tr.unit-row[data-unit=区民政局]")
    expect(unit_row.locator("td.accepted")).to_have_text("1")
    expect(unit_row.locator("td.done")).to_have_text("1")
    expect(unit_row.locator("td.satisfaction")).to_have_text("100.0%")
    clerk.screenshot(path=str(tmp_path / "statistics.png"))

    citizen_context.close()
    clerk_context.close()
    assert errors == [], errors
