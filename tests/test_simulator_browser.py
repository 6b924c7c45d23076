"""The simulator page in a real headless browser: Playwright driving Debian's chromium (installed by .ci/run).

The app runs on a free loopback port in a thread (Werkzeug's make_server, as `bangban serve` does), with its
outbox worker in another thread sending to the simulator's fake WeChat API, on a fresh data directory.

Without chromium or playwright the tests are skipped on a laptop (`apt-get install chromium` and
`pip install -e '.[test]'` to run them) and FAIL in CI (BANGBAN_CI=1), which must not go green by skipping them.
Playwright is never asked to download a browser; BANGBAN_CHROMIUM names another chromium binary.
"""
from __future__ import annotations

import os
import re
import shutil

import pytest

from bot.db import session_factory
from bot.escalations import Escalation
from bot.outbox import enqueue_text
from bot.serve import LocalServer, OutboxThread
from wechat_builders import AES_KEY, new_app

CHROMIUM = os.environ.get("BANGBAN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 20_000
QUESTION = "结婚登记要带什么"


def _unavailable(message: str) -> None:
    if os.environ.get("BANGBAN_CI") == "1":
        pytest.fail(f"{message} (BANGBAN_CI=1: .ci/run installs chromium, and the [test] extra playwright)",
                    pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("needs playwright: pip install -e '.[test]'")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)) and not shutil.which(CHROMIUM):
        _unavailable(f"needs chromium at {CHROMIUM}: apt-get install -y chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def serve(tmp_path):
    """Starts an app like `bangban serve` does; returns (app, base URL)."""
    running = []

    def start(**environ):
        app = new_app(tmp_path / f"app{len(running)}", BANGBAN_WORKER_POLL_SECONDS="0.2", **environ)
        server = LocalServer(app).start()
        outbox = OutboxThread(app, server.url).start()
        running.append((server, outbox))
        return app, server.url

    yield start
    for server, outbox in running:
        outbox.stop()
        server.stop()


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], errors


def bot_bubbles(page):
    return page.locator(".msg.bot:not(.kf) .bubble")


def test_the_page_answers_a_question_hands_over_and_shows_a_later_customer_service_message(serve, phone, tmp_path):
    from playwright.sync_api import expect

    app, base = serve()
    page = phone
    page.goto(f"{base}/simulator")
    expect(page.locator("#account")).to_contain_text("示例政务服务中心")
    user = page.locator("body").get_attribute("data-user")
    assert re.fullmatch(r"sim-[0-9a-f]{10}", user)

    page.fill("#text", QUESTION)
    page.press("#text", "Enter")
    answer = bot_bubbles(page).last
    expect(answer).to_contain_text("结婚登记")
    expect(answer).to_contain_text(re.compile(r"^1\. \S", re.MULTILINE))
    expect(page.locator(".msg.me .bubble").last).to_have_text(QUESTION)
    assert page.input_value("#text") == ""

    page.click("#menu button[data-key=HUMAN]")
    expect(bot_bubbles(page).last).to_contain_text("工作人员")
    expect(page.locator(".msg.me .bubble").last).to_have_text("[点击菜单] 转人工")
    with session_factory(app.extensions["bangban"].engine)() as session:
        assert [e.openid for e in session.query(Escalation)] == [user]

    staff = "工作人员：您好，结婚登记请双方本人一起来，带好身份证和户口簿。"
    with session_factory(app.extensions["bangban"].engine).begin() as session:
        enqueue_text(session, user, staff, "staff")
    customer_service = page.locator(".msg.kf")
    expect(customer_service).to_have_count(1)
    expect(customer_service.locator(".bubble")).to_have_text(staff)
    expect(customer_service.locator(".tag")).to_have_text("客服消息")

    # Large readable text, no sideways scrolling on a phone
    assert float(answer.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 18
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(tmp_path / "simulator.png"))

    # The same user and conversation after a reload; the customer-service message is not shown twice
    page.reload()
    assert page.locator("body").get_attribute("data-user") == user
    expect(page.locator(".msg.kf")).to_have_count(1)
    expect(bot_bubbles(page).first).to_contain_text("结婚登记")
    page.wait_for_timeout(2500)  # one more poll of the inbox
    expect(page.locator(".msg.kf")).to_have_count(1)

    # Another user starts an empty conversation; switching back shows the first one again
    page.click("#new-user")
    other = page.locator("body").get_attribute("data-user")
    assert other != user and other.startswith("sim-")
    expect(page.locator(".msg")).to_have_count(0)
    page.click("[data-action=subscribe]")
    expect(bot_bubbles(page).last).to_contain_text("欢迎关注")
    page.select_option("#user", user)
    expect(page.locator(".msg.kf")).to_have_count(1)


def test_the_tools_send_a_location_a_photo_and_follow_events(serve, phone):
    from playwright.sync_api import expect

    _, base = serve()
    page = phone
    page.goto(f"{base}/simulator")
    page.click("text=发送位置")
    expect(bot_bubbles(page).last).to_contain_text("离您最近的服务大厅")
    expect(bot_bubbles(page).last).to_contain_text(re.compile(r"约\d+米"))
    page.click("text=发送图片")
    expect(bot_bubbles(page).last).to_contain_text("照片收到了")
    page.click("[data-action=unsubscribe]")
    expect(page.locator(".note").last).to_contain_text("已取消关注")
    page.click("#menu button[data-key=BOOK]")
    expect(bot_bubbles(page)).to_have_count(3)


def test_the_page_works_in_safe_mode_and_shows_the_encrypted_exchange(serve, phone):
    from playwright.sync_api import expect

    _, base = serve(WECHAT_ENCODING_AES_KEY=AES_KEY)
    page = phone
    page.goto(f"{base}/simulator")
    expect(page.locator("header")).to_contain_text("安全模式")

    page.fill("#text", QUESTION)
    page.click("#send")
    expect(bot_bubbles(page).last).to_contain_text("结婚登记")
    expect(bot_bubbles(page).last).to_contain_text(re.compile(r"^1\. \S", re.MULTILINE))

    page.check("#wire")
    wire = page.locator(".msg.me details.wire").last
    expect(wire).to_be_visible()
    wire.locator("summary").click()
    expect(wire).to_contain_text("安全模式")
    expect(wire).to_contain_text("encrypt_type=aes")
    expect(wire).to_contain_text("msg_signature=")
    expect(wire.locator("pre").nth(1)).to_contain_text("<Encrypt>")
    expect(wire.locator("pre").nth(2)).to_contain_text("<MsgSignature>")
