"""The simulator without a browser: on only with the development credentials, the pushes it builds are WeChat's
(signed, and encrypted in safe mode), every action reaches the real endpoint, the fake WeChat API delivers the
outbox to the page's inbox, and `bangban serve` / `bangban chat` work with no configuration."""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import xmltodict
from sqlalchemy import select

import dialogs.engine
from bot.config import Config
from bot.db import session_factory
from bot.escalations import Escalation
from bot.outbox import enqueue_text
from bot.serve import LocalServer
from bot.simulator import Action, Simulator, SimulatorMessage, WSGITransport, hall_position
from bot.wechat.protocol import signature
from bot.wechat.pushes import Pusher
from bot.wechat_api import WeChatAPI, WeChatAPIError
from bot.worker import Worker
from wechat_builders import AES_KEY, OLD_AES_KEY, new_app

ROOT = Path(__file__).resolve().parents[1]
REAL = {"WECHAT_TOKEN": "hallToken2024", "WECHAT_APP_ID": "wx1234567890abcdef",
        "WECHAT_APP_SECRET": "0123456789abcdef0123456789abcdef"}
QUESTION = "结婚登记要带什么"
NUMBERED = re.compile(r"^1\. \S", re.MULTILINE)


def send(client, user: str, kind: str, **fields):
    return client.post("/simulator/send", json={"user": user, "type": kind, **fields})


def clean_env(**more: str) -> dict[str, str]:
    """A laptop's environment: no DATABASE_URL, REDIS_URL or WeChat settings (CI exports some)."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", **more}


# ---- on only with the development credentials ---------------------------------------------------------------------

SIMULATOR_PATHS = [("GET", "/simulator"), ("POST", "/simulator/send"), ("GET", "/simulator/inbox?user=sim-a"),
                   ("POST", "/simulator/api/cgi-bin/stable_token"),
                   ("POST", "/simulator/api/cgi-bin/message/custom/send"),
                   ("GET", "/simulator/api/cgi-bin/media/get?media_id=sim-media-0123456789abcdef01234567")]


@pytest.mark.parametrize("environ", [REAL, {"BANGBAN_SIMULATOR": "off"}], ids=["real-credentials", "switched-off"])
def test_the_simulator_is_not_there_with_real_credentials_or_when_switched_off(tmp_path, environ):
    client = new_app(tmp_path, **environ).test_client()

    for method, path in SIMULATOR_PATHS:
        assert client.open(path, method=method).status_code == 404, path
    assert client.get("/health").status_code == 200


def test_with_the_simulator_the_new_app_still_holds_no_pooled_connection(tmp_path):
    """Nothing pooled may cross a fork (gunicorn --preload): the simulator's table is made before the engine is
    disposed."""
    app = new_app(tmp_path)

    assert app.extensions["bangban"].engine.pool.checkedin() == 0
    assert app.test_client().get("/simulator/inbox?user=sim-pool").status_code == 200


def test_real_credentials_may_switch_the_simulator_on(tmp_path):
    client = new_app(tmp_path, BANGBAN_SIMULATOR="on", **REAL).test_client()

    assert client.get("/simulator").status_code == 200
    reply = send(client, "sim-real1", "text", text=QUESTION).get_json()
    assert reply["status"] == 200 and "结婚登记" in reply["reply"]


def test_the_worker_sends_to_the_simulators_fake_api_only_with_the_development_credentials():
    development = Config.from_env({})
    assert development.simulated_wechat_api
    assert development.api_base() == "http://127.0.0.1:5000/simulator/api"
    assert development.api_base("http://127.0.0.1:8123") == "http://127.0.0.1:8123/simulator/api"
    assert development.wechat_api_base == "https://api.weixin.qq.com"  # as configured (not at all)

    assert Config.from_env(REAL).api_base("http://127.0.0.1:8123") == "https://api.weixin.qq.com"
    assert Config.from_env({"BANGBAN_SIMULATOR": "off"}).api_base() == "https://api.weixin.qq.com"
    given = Config.from_env({"WECHAT_API_BASE": "http://127.0.0.1:9/x"})
    assert not given.simulated_wechat_api and given.api_base("http://127.0.0.1:8123") == "http://127.0.0.1:9/x"


# ---- the page and the pushes --------------------------------------------------------------------------------------


def test_the_page_is_a_chinese_chat_with_the_menu_from_menu_json(tmp_path):
    response = new_app(tmp_path).test_client().get("/simulator")

    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert '<html lang="zh-CN">' in page and 'name="viewport"' in page
    for name, key in [("办事咨询", "CONSULT"), ("我要预约", "BOOK"), ("材料清单", "MATERIALS"), ("查进度", "PROGRESS"),
                      ("转人工", "HUMAN")]:
        assert f'data-key="{key}">{name}</button>' in page
    for tool in ("发送位置", "发送图片", "关注", "取消关注"):
        assert f">{tool}</button>" in page
    assert "localStorage" in page and '"/simulator/send"' in page and '"/simulator/inbox"' in page


def test_a_text_becomes_a_signed_push_exactly_as_wechat_sends_it(tmp_path):
    client = new_app(tmp_path).test_client()
    data = send(client, "sim-plain1", "text", text=QUESTION).get_json()

    assert data["status"] == 200 and data["mode"] == "plain" and data["error"] is None
    assert "结婚登记" in data["reply"] and NUMBERED.search(data["reply"])
    push = xmltodict.parse(data["push"])["xml"]
    assert list(push) == ["ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId"]
    assert (push["FromUserName"], push["MsgType"], push["Content"]) == ("sim-plain1", "text", QUESTION)
    assert push["MsgId"].isdigit() and len(push["MsgId"]) >= 19 and abs(int(push["CreateTime"]) - time.time()) < 60
    assert "<![CDATA[sim-plain1]]>" in data["push"]
    query = data["query"]
    assert set(query) == {"signature", "timestamp", "nonce", "openid"} and query["openid"] == "sim-plain1"
    assert query["signature"] == signature("bangban-dev", query["timestamp"], query["nonce"])
    assert data["body"] == data["push"]
    reply = xmltodict.parse(data["answer"])["xml"]  # the passive reply as WeChat receives it
    assert (reply["ToUserName"], reply["FromUserName"], reply["MsgType"]) == ("sim-plain1", push["ToUserName"], "text")


def test_in_safe_mode_the_push_and_the_reply_are_encrypted_and_it_still_works_end_to_end(tmp_path):
    client = new_app(tmp_path, WECHAT_ENCODING_AES_KEY=AES_KEY).test_client()
    data = send(client, "sim-safe1", "text", text=QUESTION).get_json()

    assert data["status"] == 200 and data["mode"] == "safe"
    assert "结婚登记" in data["reply"] and NUMBERED.search(data["reply"])
    query, body = data["query"], xmltodict.parse(data["body"])["xml"]
    assert list(body) == ["ToUserName", "Encrypt"] and QUESTION not in data["body"]
    assert query["encrypt_type"] == "aes"
    assert query["msg_signature"] == signature("bangban-dev", query["timestamp"], query["nonce"], body["Encrypt"])
    answer = xmltodict.parse(data["answer"])["xml"]
    assert set(answer) == {"Encrypt", "MsgSignature", "TimeStamp", "Nonce"} and "结婚登记" not in data["answer"]

    handoff = send(client, "sim-safe1", "click", key="HUMAN").get_json()
    assert handoff["mode"] == "safe" and "工作人员" in handoff["reply"]


def test_a_simulator_with_another_aes_key_than_the_endpoint_is_refused_and_says_so(tmp_path):
    app = new_app(tmp_path, WECHAT_ENCODING_AES_KEY=AES_KEY)
    wrong = Simulator(Pusher(aes_key=OLD_AES_KEY), WSGITransport(app), None)
    exchange = wrong.send("sim-wrong", Action("text", text="你好"))

    assert exchange.status == 403 and exchange.reply is None and "暂时无法提供服务" in exchange.error


def test_every_action_of_the_page_reaches_the_endpoint(tmp_path):
    client = new_app(tmp_path).test_client()
    user = "sim-actions"

    welcome = send(client, user, "subscribe").get_json()
    assert "欢迎关注" in welcome["reply"] and "MsgId" not in welcome["push"]
    assert xmltodict.parse(welcome["push"])["xml"]["Event"] == "subscribe"
    for key in ("CONSULT", "BOOK", "MATERIALS", "PROGRESS", "HUMAN"):
        data = send(client, user, "click", key=key).get_json()
        assert data["status"] == 200 and data["reply"], key
        assert xmltodict.parse(data["push"])["xml"]["EventKey"] == key
    place = send(client, user, "location").get_json()
    fields = xmltodict.parse(place["push"])["xml"]
    hall_latitude, hall_longitude = hall_position(Config.from_env({}).hall_dir)
    assert abs(float(fields["Location_X"]) - hall_latitude) < 0.01
    assert abs(float(fields["Location_Y"]) - hall_longitude) < 0.01
    assert "离您最近" in place["reply"] and re.search(r"约\d+米", place["reply"])
    photo = send(client, user, "image").get_json()
    assert xmltodict.parse(photo["push"])["xml"]["MediaId"].startswith("sim-media-") and "照片" in photo["reply"]
    gone = send(client, user, "unsubscribe").get_json()
    assert gone["status"] == 200 and gone["reply"] is None and gone["answer"] == "success"


@pytest.mark.parametrize("payload, says", [
    ({"user": "oRealOpenId123", "type": "text", "text": "你好"}, "sim-"),
    ({"type": "text", "text": "你好"}, "sim-"),
    ({"user": "sim-a", "type": "voice"}, "type"),
    ({"user": "sim-a", "type": "text", "text": "   "}, "请输入"),
    ({"user": "sim-a", "type": "text", "text": "长" * 2001}, "太长"),
    ({"user": "sim-a", "type": "click"}, "key"),
    ({"user": "sim-a", "type": "location", "latitude": 200, "longitude": 1}, "纬度"),
    ({"user": "sim-a", "type": "location", "latitude": "x", "longitude": 1}, "数字"),
], ids=["real-openid", "no-user", "unknown-type", "blank", "too-long", "click-without-key", "bad-latitude", "not-a-number"])
def test_what_cannot_be_sent_is_a_bad_request_with_a_reason(tmp_path, payload, says):
    client = new_app(tmp_path).test_client()

    response = client.post("/simulator/send", json=payload)
    assert response.status_code == 400 and says in response.get_json()["error"]
    assert client.post("/simulator/send", data="not json").status_code == 400
    assert client.get("/simulator/inbox?user=oRealOpenId123").status_code == 400


# ---- customer-service messages: outbox → worker → fake API → inbox -----------------------------------------------


def test_the_fake_api_checks_appid_secret_and_token_like_wechat(tmp_path):
    client = new_app(tmp_path).test_client()
    token_url = "/simulator/api/cgi-bin/stable_token"

    assert client.post(token_url, json={"grant_type": "client_credential", "appid": "wxbangbandev0000",
                                        "secret": "wrong"}).get_json()["errcode"] == 40125
    assert client.post(token_url, json={"grant_type": "client_credential", "appid": "wxother0000000",
                                        "secret": "dev-secret"}).get_json()["errcode"] == 40013
    good = client.post(token_url, json={"grant_type": "client_credential", "appid": "wxbangbandev0000",
                                        "secret": "dev-secret", "force_refresh": False}).get_json()
    assert good["expires_in"] == 7200 and good["access_token"]
    send_url = "/simulator/api/cgi-bin/message/custom/send"
    message = {"touser": "sim-kf1", "msgtype": "text", "text": {"content": "您好"}}
    assert client.post(send_url, query_string={"access_token": "stale"}, json=message).get_json()["errcode"] == 40001
    answer = client.post(send_url, query_string={"access_token": good["access_token"]}, json=message).get_json()
    assert answer == {"errcode": 0, "errmsg": "ok"}
    assert client.post("/simulator/api/cgi-bin/menu/create", json={}).get_json()["errcode"] == 48001
    inbox = client.get("/simulator/inbox?user=sim-kf1").get_json()
    assert [m["text"] for m in inbox["messages"]] == ["您好"] and inbox["pending"] == 0
    after = inbox["messages"][0]["id"]
    assert client.get(f"/simulator/inbox?user=sim-kf1&after={after}").get_json()["messages"] == []
    assert client.get("/simulator/inbox?user=sim-other").get_json()["messages"] == []


def test_an_outbox_message_goes_through_the_real_worker_and_http_client_to_the_inbox(tmp_path):
    app = new_app(tmp_path)
    client = app.test_client()
    user = "sim-outbox1"
    assert send(client, user, "text", text=QUESTION).get_json()["reply"]  # opens the 48 h window
    sessions = session_factory(app.extensions["bangban"].engine)
    with sessions.begin() as session:
        enqueue_text(session, user, "工作人员：材料齐全，请周三上午来。", "staff")
    assert client.get(f"/simulator/inbox?user={user}").get_json()["pending"] == 1

    server = LocalServer(app).start()
    try:
        api = WeChatAPI.from_config(app.extensions["bangban"].config, server_url=server.url)
        assert api.base_url == server.url + "/simulator/api"
        done = Worker(sessions, api).run_once()
    finally:
        server.stop()

    assert done.sent == 1
    inbox = client.get(f"/simulator/inbox?user={user}").get_json()
    assert [m["text"] for m in inbox["messages"]] == ["工作人员：材料齐全，请周三上午来。"] and inbox["pending"] == 0


def test_a_simulated_photo_is_fetched_by_the_worker_through_the_fake_media_api(tmp_path):
    from bot.media import FETCHED, KeptMedia, PhotoFetcher, photo_file

    app = new_app(tmp_path)
    client = app.test_client()
    send(client, "sim-photo1", "text", text="转人工")  # a photo sent while waiting for a person is kept for staff
    assert "照片" in send(client, "sim-photo1", "image").get_json()["reply"]
    sessions = session_factory(app.extensions["bangban"].engine)
    server = LocalServer(app).start()
    try:
        api = WeChatAPI.from_config(app.extensions["bangban"].config, server_url=server.url)
        assert PhotoFetcher(sessions, api)() == 1
        with pytest.raises(WeChatAPIError) as caught:  # not the id of a simulated photo
            api.get_media("MEDIA-FROM-ELSEWHERE")
        assert caught.value.errcode == 40007
    finally:
        server.stop()
    with sessions() as session:
        row = session.scalar(select(KeptMedia).where(KeptMedia.openid == "sim-photo1"))
        assert row.fetch_status == FETCHED and row.content_type == "image/png"
        assert photo_file(session, row).startswith(b"\x89PNG\r\n\x1a\n")
    stale = client.get("/simulator/api/cgi-bin/media/get", query_string={"access_token": "stale",
                                                                         "media_id": row.media_id})
    assert stale.get_json()["errcode"] == 40001


# ---- bangban chat -------------------------------------------------------------------------------------------------


def run_chat_subprocess(lines: str, *args: str, data_dir: Path, timeout: int = 180, **env: str):
    return subprocess.run([sys.executable, "-m", "bot.cli", "chat", *args], input=lines, capture_output=True,
                          text=True, encoding="utf-8", cwd=ROOT, timeout=timeout,
                          env=clean_env(BANGBAN_DATA_DIR=str(data_dir), **env))


def test_bangban_chat_reads_lines_and_prints_the_answers(tmp_path):
    result = run_chat_subprocess(f"{QUESTION}\n/菜单 转人工\n/位置\n/图片\n/取消关注\n/关注\n/菜单 不存在\n/退出\n这行不再发送\n",
                                 "--user", "sim-chat1", data_dir=tmp_path)

    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "模拟微信用户 sim-chat1" in out and "明文" in out
    assert f"> {QUESTION}\n公众号：【结婚登记】" in out and NUMBERED.search(out)
    assert "工作人员" in out and "离您最近的服务大厅" in out and "照片" in out
    assert "（已取消关注，公众号不再回复）" in out and "欢迎关注" in out and "没有这个菜单按钮：不存在" in out
    assert "这行不再发送" not in out
    engine = new_app(tmp_path).extensions["bangban"].engine
    with session_factory(engine)() as session:
        assert session.scalars(select(Escalation.openid)).all() == ["sim-chat1"]


def test_bangban_chat_refuses_a_user_that_is_not_simulated(tmp_path):
    result = run_chat_subprocess("你好\n", "--user", "oRealOpenId", data_dir=tmp_path, timeout=60)

    assert result.returncode == 2 and "sim-" in result.stderr


def test_bangban_chat_over_http_in_safe_mode(tmp_path):
    app = new_app(tmp_path / "server", WECHAT_ENCODING_AES_KEY=AES_KEY)
    server = LocalServer(app).start()
    try:
        result = run_chat_subprocess(f"{QUESTION}\n", "--url", server.url, data_dir=tmp_path / "client",
                                     WECHAT_ENCODING_AES_KEY=AES_KEY)
        wrong_key = run_chat_subprocess("你好\n", "--url", server.url, data_dir=tmp_path / "client",
                                        WECHAT_ENCODING_AES_KEY=OLD_AES_KEY)
    finally:
        server.stop()

    assert result.returncode == 0, result.stderr
    assert "加密（安全模式）" in result.stdout and f"{server.url}/wechat" in result.stdout
    assert "公众号：【结婚登记】" in result.stdout and NUMBERED.search(result.stdout)
    assert "暂时无法提供服务" in wrong_key.stdout and "HTTP 403" in wrong_key.stdout


def test_bangban_chat_shows_a_late_answer_that_came_through_the_outbox(tmp_path, monkeypatch):
    from bot.chat import run_chat

    real = dialogs.engine.handle

    def slow(state, message, env):
        time.sleep(0.6)
        return real(state, message, env)

    monkeypatch.setattr(dialogs.engine, "handle", slow)
    config = Config.from_env({"BANGBAN_DATA_DIR": str(tmp_path), "BANGBAN_REPLY_BUDGET_SECONDS": "0.1",
                              "BANGBAN_WORKER_POLL_SECONDS": "0.1"})
    out = io.StringIO()

    assert run_chat(config, user="sim-late1", stdin=io.StringIO(f"{QUESTION}\n"), out=out, wait_seconds=20) == 0

    text = out.getvalue()
    assert "（公众号没有立即回复；如有答复，会以客服消息送达）" in text
    assert "公众号（客服消息）：【结婚登记】" in text and NUMBERED.search(text)
    engine = new_app(tmp_path).extensions["bangban"].engine
    with session_factory(engine)() as session:
        assert [row.openid for row in session.scalars(select(SimulatorMessage))] == ["sim-late1"]


# ---- bangban serve on a fresh laptop ------------------------------------------------------------------------------


def test_bangban_serve_needs_no_configuration_and_prints_its_addresses(tmp_path):
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--port", "0"], cwd=tmp_path,
                               env=clean_env(PYTHONPATH=str(ROOT)), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, encoding="utf-8")
    try:
        lines = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("Stop with Ctrl+C"):
                break
        out = "".join(lines)
        assert "Stop with Ctrl+C" in out, (out, process.poll())
        base = re.search(r"WeChat endpoint:\s+(http://127\.0\.0\.1:\d+)/wechat", out).group(1)
        assert f"simulator:        {base}/simulator" in out and f"health:           {base}/health" in out
        assert "outbox worker:    in this process" in out and f"{base}/simulator/api" in out
        assert requests.get(f"{base}/health", timeout=10).json()["status"] == "ok"
        assert "转人工" in requests.get(f"{base}/simulator", timeout=10).text
        data = requests.post(f"{base}/simulator/send", json={"user": "sim-serve1", "type": "text", "text": QUESTION},
                             timeout=30).json()
        assert "结婚登记" in data["reply"]
        assert (tmp_path / "instance" / "bangban.db").is_file()
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        process.stdout.close()
        process.stderr.close()
