"""未送达: what the worker could not deliver (through a local fake of WeChat's API on loopback) is listed for staff,
with why in plain Chinese, shown to the staff who may see that citizen's conversation or case, and marked followed
up once dealt with."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.db import utcnow
from bot.outbox import FAILED, UNDELIVERABLE, OutboxMessage, enqueue_text
from bot.staff.undelivered import FAILED_SENDS, HIDDEN, INTERRUPTED, NO_WINDOW, why_for_staff
from bot.wechat_api import WeChatAPI
from bot.worker import INTERRUPTED_WHY, Worker
from fake_wechat import FakeWeChat
from staff_helpers import csrf_of, record_escalation, services_of
from test_staff_cases import app, client_for  # noqa: F401 (app is a fixture)

WAITING = "oWAITING-CITIZEN"  # asked for a person about 居住证 (区公安分局), then unfollowed
STRANGER = "oNEVER-WROTE"  # no case, no conversation: only 管理员 sees what went to them
REPLY = "您好，居住证的材料已收齐，请明天上午来取。"


@pytest.fixture
def lost(app):
    """Two messages the worker could not deliver: a staff reply WeChat refused (43004, unfollowed) and a late
    answer to a citizen outside any window. Returns their ids."""
    svc = services_of(app)
    escalation = record_escalation(svc.sessions, None, WAITING, utcnow() - timedelta(minutes=3), item_id="EXT-015",
                                   question="居住证怎么办", status="taken")
    with svc.sessions.begin() as session:
        [refused] = [m.id for m in enqueue_text(session, WAITING, REPLY, "staff")]
        [late] = [m.id for m in enqueue_text(session, STRANGER, "结婚登记要带身份证和户口簿。", "late_reply")]
    with FakeWeChat() as fake:
        fake.fail_next(43004)
        done = Worker(svc.sessions, WeChatAPI(fake.app_id, fake.secret, base_url=fake.url)).run_once()
    assert done.undeliverable == 2
    return {"refused": refused, "late": late, "escalation": escalation}


def rows(html: str) -> dict[int, str]:
    return {int(i): body for i, body in re.findall(r'<tr id="undelivered-(\d+)"(.*?)</tr>', html, re.S)}


def test_the_unit_sees_what_did_not_reach_its_citizen_and_why(app, lost):
    clerk = client_for(app, "lixy")
    html = clerk.get("/staff/undelivered").get_data(as_text=True)
    shown = rows(html)
    assert set(shown) == {lost["refused"], lost["late"]}
    assert REPLY in shown[lost["refused"]] and "工作人员回复" in shown[lost["refused"]]
    assert "群众已取消关注公众号" in shown[lost["refused"]]
    assert f'/staff/conversation/{lost["escalation"]}' in shown[lost["refused"]]
    assert HIDDEN in shown[lost["late"]] and "结婚登记" not in shown[lost["late"]]
    assert NO_WINDOW in shown[lost["late"]] and "由办理单位处理" in shown[lost["late"]]
    assert "未送达" in html  # in the header's links

    conversation = clerk.get(f"/staff/conversation/{lost['escalation']}").get_data(as_text=True)
    assert re.search(r'id="undelivered-note" class="error" data-count="1">', conversation)
    assert clerk.get(f"/staff/conversation/{lost['escalation']}.json").get_json()["undelivered"] == 1


def test_another_unit_sees_it_masked_and_cannot_mark_it(app, lost):
    other = client_for(app, "wangxy")
    html = other.get("/staff/undelivered").get_data(as_text=True)
    assert REPLY not in html and rows(html)[lost["refused"]].count(HIDDEN) == 1
    assert other.post(f"/staff/undelivered/{lost['refused']}/done",
                      data={"csrf_token": csrf_of(html)}).status_code == 403
    admin = client_for(app, "admin")
    assert "结婚登记要带身份证" in admin.get("/staff/undelivered").get_data(as_text=True)


def test_marking_it_followed_up_moves_it_to_the_done_list_once(app, lost):
    clerk = client_for(app, "lixy")
    page = clerk.get("/staff/undelivered").get_data(as_text=True)
    marked = clerk.post(f"/staff/undelivered/{lost['refused']}/done",
                        data={"csrf_token": csrf_of(page), "note": "已电话联系，  明天来取"})
    assert marked.status_code == 303
    assert lost["refused"] not in rows(clerk.get("/staff/undelivered").get_data(as_text=True))
    done = rows(clerk.get("/staff/undelivered?done=1").get_data(as_text=True))
    assert set(done) == {lost["refused"]} and "李晓燕" in done[lost["refused"]]
    assert "已电话联系， 明天来取" in done[lost["refused"]]
    again = clerk.post(f"/staff/undelivered/{lost['refused']}/done",
                       data={"csrf_token": csrf_of(page), "note": "又打了一次"}, follow_redirects=True)
    assert "已经有人处理过了" in again.get_data(as_text=True)
    with services_of(app).sessions() as session:
        assert session.get(OutboxMessage, lost["refused"]).follow_up_note == "已电话联系， 明天来取"
    assert clerk.get(f"/staff/conversation/{lost['escalation']}.json").get_json()["undelivered"] == 0
    assert clerk.post("/staff/undelivered/999999/done", data={"csrf_token": csrf_of(page)}).status_code == 404


def test_why_is_said_in_plain_chinese():
    def message(status: str, error: str) -> OutboxMessage:
        return OutboxMessage(status=status, last_error=error)

    assert why_for_staff(message(UNDELIVERABLE, "undeliverable: the user has not written within 48 h")) == NO_WINDOW
    assert "条数上限" in why_for_staff(message(UNDELIVERABLE, "undeliverable: WeChat said errcode 45047: quota"))
    assert why_for_staff(message(FAILED, "failed after 5 attempts; last: HTTP 502")) == FAILED_SENDS
    assert why_for_staff(message(FAILED, INTERRUPTED_WHY)) == INTERRUPTED
