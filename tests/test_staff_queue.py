"""The 转人工 queue and conversation pages of the staff console, driven through Flask's test client: the order of
the queue, taking (the conversation state says taken), replying through the outbox within WeChat's allowance,
一次性告知, passing on and closing, unit scoping and CSRF."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.cases.models import ADMIN, CLERK, Message, Staff
from bot.db import utcnow
from bot.escalations import CLOSED, TAKEN, WAITING, Escalation
from bot.outbox import OutboxMessage, mask_openid
from tests.staff_helpers import add_staff, console_app, csrf_of, login, record_escalation, services_of

RESIDENCE = "EXT-015"  # 居住证申领, listed for 区公安分局


@pytest.fixture
def app(tmp_path):
    app = console_app(tmp_path)
    add_staff(app, "lixy", "区公安分局", CLERK, name="李晓燕")
    add_staff(app, "chenzq", "区公安分局", CLERK, name="陈志强")
    add_staff(app, "wangxiu", "区民政局", CLERK, name="王秀英")
    return app


def civil_item(app) -> str:
    listing = services_of(app).parts["knowledge_base"].hall.listing
    return next(item for item, entry in listing.items() if entry.unit == "区民政局")


def escalate(app, openid="oCitizen0001", item_id=RESIDENCE, minutes_ago=3, priority=False, wrote=True,
             question="居住证要带什么") -> int:
    svc = services_of(app)
    return record_escalation(svc.sessions, svc.parts["store"], openid, utcnow() - timedelta(minutes=minutes_ago),
                             item_id=item_id, question=question, status=WAITING, priority=priority, wrote=wrote)


def logged_in(app, username="lixy"):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def post(client, url: str, page: str, **data):
    token = csrf_of(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def take(client, ident):
    return post(client, f"/staff/queue/{ident}", "/staff/queue", take="1")


def outbox(app, openid="oCitizen0001") -> list[OutboxMessage]:
    with services_of(app).sessions() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.openid == openid)
                                    .order_by(OutboxMessage.id)))


# ---- the queue ----------------------------------------------------------------------------------------------------
def test_the_queue_shows_the_green_channel_first_then_by_arrival_without_the_openid(app):
    early = escalate(app, "oCitizenEarly", minutes_ago=9)
    green = escalate(app, "oCitizenGreen", minutes_ago=1, priority=True)
    page = logged_in(app).get("/staff/queue")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    order = [int(n) for n in re.findall(r'id="escalation-(\d+)"', html)]
    assert order == [green, early]
    assert "绿色通道·老年人" in html and "9分钟" in html and "居住证" in html and "居住证要带什么" in html
    assert "oCitizenEarly" not in html and mask_openid("oCitizenEarly") in html


def test_the_queue_json_gives_the_table_for_the_page_to_refresh_itself(app):
    ident = escalate(app)
    data = logged_in(app).get("/staff/queue.json").get_json()
    assert data["waiting"] == 1 and data["ids"] == [ident]
    assert f'id="escalation-{ident}"' in data["html"] and "<html" not in data["html"]


def test_the_queue_needs_a_login(app):
    assert "/staff/login" in app.test_client().get("/staff/queue").headers["Location"]
    assert app.test_client().get("/staff/queue.json").status_code == 302


def test_the_home_page_and_the_nav_lead_to_the_queue(app):
    client = logged_in(app)
    assert client.get("/staff/").headers["Location"].endswith("/staff/queue")
    assert 'href="/staff/queue"' in client.get("/staff/queue").get_data(as_text=True)


# ---- taking and replying ------------------------------------------------------------------------------------------
def test_taking_opens_the_conversation_and_the_citizens_state_says_taken(app):
    ident = escalate(app)
    client = logged_in(app)
    response = take(client, ident)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/staff/conversation/{ident}")
    assert services_of(app).parts["store"].get_state("oCitizen0001")["human"] == {"id": ident, "status": "taken"}
    assert [m.payload for m in outbox(app)] == ["工作人员（李工作人员）已接入，请直接说您的问题。"]
    page = client.get(f"/staff/conversation/{ident}").get_data(as_text=True)
    assert "已接手" in page and 'id="reply-text"' in page and "还可发送4条，至" in page
    assert f'id="escalation-{ident}"' in client.get("/staff/queue").get_data(as_text=True)  # under 我接手的


def test_a_second_clerk_is_told_who_took_it(app):
    ident = escalate(app)
    take(logged_in(app), ident)
    other = logged_in(app, "chenzq")
    response = take(other, ident)
    assert response.status_code == 302
    assert "已被李工作人员接手" in other.get("/staff/queue").get_data(as_text=True)


def test_a_reply_lands_in_the_outbox_and_in_the_conversation(app):
    ident = escalate(app)
    client = logged_in(app)
    take(client, ident)
    page = f"/staff/conversation/{ident}"
    response = post(client, f"{page}/reply", page, text="您好，居住证需要带身份证和租房合同。")
    assert response.status_code == 302
    assert outbox(app)[-1].payload == "您好，居住证需要带身份证和租房合同。" and outbox(app)[-1].reason == "staff"
    with services_of(app).sessions() as session:
        kept = session.scalar(select(Message).where(Message.author == "staff"))
        assert kept.escalation_id == ident and kept.outbox_id == outbox(app)[-1].id
    html = client.get(page).get_data(as_text=True)
    assert "居住证需要带身份证和租房合同" in html and "还可发送3条" in html


def test_a_reply_is_refused_with_the_reason_when_wechat_allows_nothing_and_the_text_is_kept(app):
    ident = escalate(app, wrote=False)
    client = logged_in(app)
    take(client, ident)
    page = f"/staff/conversation/{ident}"
    response = post(client, f"{page}/reply", page, text="请问还在吗")
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert 'id="reply-error"' in html and "48小时内没有发过消息" in html and ">请问还在吗</textarea>" in html
    assert all(m.reason != "staff" for m in outbox(app))


def test_new_citizen_messages_reach_the_conversation_json(app):
    ident = escalate(app)
    client = logged_in(app)
    take(client, ident)
    before = client.get(f"/staff/conversation/{ident}.json").get_json()
    with services_of(app).sessions.begin() as session:
        session.add(Message(openid="oCitizen0001", escalation_id=ident, direction="in", author="citizen",
                            text="我是外地户口", at=utcnow()))
    after = client.get(f"/staff/conversation/{ident}.json").get_json()
    assert after["count"] == before["count"] + 1 and "我是外地户口" in after["html"]
    assert after["status"] == TAKEN and after["mine"] is True and after["allowance"].startswith("还可发送")


def test_the_guide_is_at_hand_and_the_one_time_notice_goes_into_the_reply_box_unsent(app):
    ident = escalate(app)
    client = logged_in(app)
    take(client, ident)
    page = f"/staff/conversation/{ident}"
    html = client.get(page).get_data(as_text=True)
    materials = re.findall(r'class="material" name="missing" value="([^"]+)"', html)
    assert len(materials) >= 2 and 'id="guide"' in html and "办理地点" in html
    response = post(client, f"{page}/reply", page, notice="1", missing=materials[:2], text="")
    box = re.search(r'<textarea id="reply-text"[^>]*>(.*?)</textarea>', response.get_data(as_text=True), re.S)
    assert box.group(1).startswith(f"您还缺：\n1. {materials[0]}\n2. {materials[1]}\n请备齐后")
    assert all(m.reason != "staff" for m in outbox(app))


def test_the_register_as_case_link_is_only_shown_when_the_case_pages_exist(app):
    ident = escalate(app)
    client = logged_in(app)
    html = client.get(f"/staff/conversation/{ident}").get_data(as_text=True)
    assert ('id="register-case"' in html) == ("staff.case_new" in app.view_functions)


# ---- releasing, passing on, closing -------------------------------------------------------------------------------
def test_release_puts_it_back_for_colleagues(app):
    ident = escalate(app)
    client = logged_in(app)
    take(client, ident)
    response = post(client, f"/staff/queue/{ident}", "/staff/queue", release="1")
    assert response.status_code == 302
    assert services_of(app).parts["store"].get_state("oCitizen0001")["human"] == {"id": ident, "status": "waiting"}
    assert take(logged_in(app, "chenzq"), ident).headers["Location"].endswith(f"/staff/conversation/{ident}")


def test_passing_it_to_a_colleague_lets_the_colleague_reply(app):
    ident = escalate(app)
    client = logged_in(app)
    take(client, ident)
    with services_of(app).sessions() as session:
        chen = session.scalar(select(Staff.id).where(Staff.username == "chenzq"))
    html = client.get("/staff/queue").get_data(as_text=True)
    assert f'<option value="{chen}"' in html
    post(client, f"/staff/queue/{ident}", "/staff/queue", transfer="1", to_staff=str(chen))
    assert outbox(app)[-1].payload == "已为您转给陈工作人员，请直接说您的问题。"
    colleague = logged_in(app, "chenzq")
    page = f"/staff/conversation/{ident}"
    assert post(colleague, f"{page}/reply", page, text="我来帮您。").status_code == 302
    refused = post(client, f"{page}/reply", page, text="我也在")
    assert refused.status_code == 409 and "其他同事" in refused.get_data(as_text=True)


def test_transfer_without_choosing_a_colleague_says_so(app):
    ident = escalate(app)
    client = logged_in(app)
    take(client, ident)
    post(client, f"/staff/queue/{ident}", "/staff/queue", transfer="1", to_staff="")
    assert "请先选择要转给哪位同事" in client.get("/staff/queue").get_data(as_text=True)


def test_closing_tells_the_citizen_and_the_bot_talks_again(app):
    ident = escalate(app)
    client = logged_in(app)
    take(client, ident)
    page = f"/staff/conversation/{ident}"
    post(client, f"/staff/queue/{ident}", page, close="1")
    assert outbox(app)[-1].payload == "人工服务已结束，有问题可以继续问我。"
    assert services_of(app).parts["store"].get_state("oCitizen0001")["human"] is None
    with services_of(app).sessions() as session:
        assert session.get(Escalation, ident).status == CLOSED


# ---- who sees what, CSRF ------------------------------------------------------------------------------------------
def test_a_clerk_of_another_unit_neither_sees_nor_takes_it_but_sees_ones_without_an_item(app):
    police = escalate(app, "oCitizenPolice", item_id=RESIDENCE)
    unknown = escalate(app, "oCitizenUnknown", item_id=None)
    civil = escalate(app, "oCitizenCivil", item_id=civil_item(app))
    client = logged_in(app, "wangxiu")
    html = client.get("/staff/queue").get_data(as_text=True)
    shown = [int(n) for n in re.findall(r'id="escalation-(\d+)"', html)]
    assert shown == [unknown, civil]
    assert take(client, police).status_code == 403
    assert client.get(f"/staff/conversation/{police}").status_code == 403
    assert take(client, unknown).status_code == 302


def test_an_admin_sees_every_units_escalations(app):
    add_staff(app, "admin", "区民政局", ADMIN, name="欧阳明")
    police = escalate(app, "oCitizenPolice", item_id=RESIDENCE)
    html = logged_in(app, "admin").get("/staff/queue").get_data(as_text=True)
    assert f'id="escalation-{police}"' in html


def test_queue_actions_and_replies_need_the_csrf_token(app):
    ident = escalate(app)
    client = logged_in(app)
    assert client.post(f"/staff/queue/{ident}", data={"take": "1"}).status_code == 400
    take(client, ident)
    assert client.post(f"/staff/conversation/{ident}/reply", data={"text": "您好"}).status_code == 400
    assert all(m.reason != "staff" for m in outbox(app))


def test_an_unknown_escalation_is_404_and_a_post_without_an_action_is_400(app):
    client = logged_in(app)
    assert client.get("/staff/conversation/4242").status_code == 404
    assert post(client, "/staff/queue/4242", "/staff/queue", take="1").status_code == 404
    ident = escalate(app)
    assert post(client, f"/staff/queue/{ident}", "/staff/queue").status_code == 400
