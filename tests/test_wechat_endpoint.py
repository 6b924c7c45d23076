"""/wechat speaks WeChat's protocol: URL verification, plain / compatible / safe mode with key rotation, and
nothing processed (nor logged personally) for a push that is forged, malformed, hostile or oversized."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest
import xmltodict

import dialogs.engine
from dialogs.engine import Turn
from bot.wechat.protocol import signature as sha1_signature
from bot.wechat.pushes import event, next_msg_id, push_xml, text
from wechat_builders import AES_KEY, OLD_AES_KEY, WeChat, new_app, random_user

# A copy of ../shared/data/wechat/messages (official and library samples of every type; sources and licences there)
SAMPLES = sorted((Path(__file__).parent / "fixtures" / "wechat_messages").glob("*.xml"))


class Echo:
    """A stand-in dialogue: answers "收到：<text>" and counts its turns (protocol tests need no real wording)."""

    def __init__(self):
        self.calls = []

    def __call__(self, state, message, env):
        self.calls.append(message)
        return Turn(state={"v": 1, "turns": (state or {}).get("turns", 0) + 1}, replies=(f"收到：{message.text}",))


@pytest.fixture
def echo(monkeypatch):
    stub = Echo()
    monkeypatch.setattr(dialogs.engine, "handle", stub, raising=False)
    return stub


@pytest.fixture
def plain(tmp_path):
    return WeChat(new_app(tmp_path).test_client())


@pytest.fixture
def safe(tmp_path):
    app = new_app(tmp_path, WECHAT_ENCODING_AES_KEY=AES_KEY)
    return WeChat(app.test_client(), aes_key=AES_KEY)


# ---- URL verification -------------------------------------------------------------------------------------


def verification(token: str, echostr: str, signature: str | None = None) -> dict[str, str]:
    timestamp, nonce = "1714037059", "486452656"
    return {"signature": signature or sha1_signature(token, timestamp, nonce), "timestamp": timestamp,
            "nonce": nonce, "echostr": echostr}


def test_url_verification_returns_echostr_unchanged(plain):
    response = plain.client.get("/wechat", query_string=verification("bangban-dev", "7283645023&x=1 中"))

    assert response.status_code == 200
    assert response.get_data(as_text=True) == "7283645023&x=1 中"


def test_url_verification_takes_the_first_of_a_repeated_argument_escaped_or_not(plain):
    query = verification("bangban-dev", "first")
    plain_text = "&".join(f"{name}={value}" for name, value in query.items()) + "&echostr=second&&nonce=other"

    assert plain.client.get("/wechat?" + plain_text).get_data(as_text=True) == "first"
    assert plain.client.get("/wechat?" + plain_text.replace("first", "fi%72st")).get_data(as_text=True) == "first"


def test_url_verification_answers_head_without_a_body(plain):
    query = verification("bangban-dev", "7283645023")
    got, head = plain.client.get("/wechat", query_string=query), plain.client.head("/wechat", query_string=query)

    assert head.status_code == 200 and head.get_data() == b""
    assert head.headers["Content-Length"] == got.headers["Content-Length"] == "10"


def test_url_verification_in_safe_mode_still_uses_the_plain_signature(safe):
    response = safe.client.get("/wechat", query_string=verification("bangban-dev", "echo123"))

    assert (response.status_code, response.get_data(as_text=True)) == (200, "echo123")


def test_url_verification_with_the_official_token_vector(tmp_path):
    client = new_app(tmp_path, WECHAT_TOKEN="AAAAA", WECHAT_APP_ID="wx134c8103faa5a59e",
                     WECHAT_APP_SECRET="secret").test_client()
    query = verification("AAAAA", "ok", signature="899cf89e464efb63f54ddac96b0a0a235f53aa78")

    assert client.get("/wechat", query_string=query).get_data(as_text=True) == "ok"


def test_url_verification_with_a_bad_signature_is_forbidden(plain):
    response = plain.client.get("/wechat", query_string=verification("another-token", "echo123"))

    assert response.status_code == 403
    assert "echo123" not in response.get_data(as_text=True)


def test_url_verification_without_echostr_is_a_bad_request(plain):
    query = verification("bangban-dev", "x")
    del query["echostr"]

    assert plain.client.get("/wechat", query_string=query).status_code == 400


def test_other_methods_on_the_endpoint_are_not_allowed(plain):
    response = plain.client.put("/wechat", data="<xml/>")

    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "POST"}


# ---- every sample WeChat may send ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_apps(tmp_path_factory):
    plain_app = new_app(tmp_path_factory.mktemp("plain"))
    safe_app = new_app(tmp_path_factory.mktemp("safe"), WECHAT_ENCODING_AES_KEY=AES_KEY)
    return {"plain": WeChat(plain_app.test_client()), "safe": WeChat(safe_app.test_client(), aes_key=AES_KEY)}


def test_the_sample_folder_is_there():
    assert len(SAMPLES) >= 80, "expected the WeChat push samples in tests/fixtures/wechat_messages"


@pytest.mark.parametrize("mode", ["plain", "safe"])
@pytest.mark.parametrize("sample", SAMPLES, ids=[path.stem for path in SAMPLES])
def test_every_sample_push_gets_a_reply_or_success(sample, mode, sample_apps):
    wechat = sample_apps[mode]
    xml = sample.read_text(encoding="utf-8")

    response = wechat.post(xml)

    assert response.status_code == 200, response.status_code
    fields = wechat.reply_fields(response)
    if fields is not None:
        sender = xmltodict.parse(xml)["xml"]["FromUserName"].strip()
        assert fields["ToUserName"] == sender
        assert fields["Content"].strip()


# ---- forged pushes: 403, nothing processed, one log line without personal data -----------------------------


def test_a_push_with_a_bad_signature_is_forbidden_and_not_processed(plain, echo, caplog):
    caplog.set_level(logging.DEBUG)
    user = random_user()
    query = plain.query(openid=user)
    query["signature"] = "0" * 40

    response = plain.post(text(user, "我的身份证号是110101199003078888"), query=query)

    assert response.status_code == 403
    assert echo.calls == []
    rejected = [r for r in caplog.records if "rejected" in r.getMessage()]
    assert len(rejected) == 1
    assert user not in caplog.text and "身份证" not in caplog.text


def test_a_push_encrypted_for_another_appid_is_forbidden(safe, echo, caplog):
    caplog.set_level(logging.DEBUG)
    user = random_user()

    response = safe.post(text(user, "你好"), app_id="wx0000000000000000")

    assert response.status_code == 403
    assert echo.calls == []
    assert user not in caplog.text and "你好" not in caplog.text


def test_a_push_with_a_bad_msg_signature_is_forbidden(safe, echo):
    body, encrypt = safe.seal(text(random_user(), "你好"))
    query = safe.query(encrypt)
    query["msg_signature"] = sha1_signature("bangban-dev", query["timestamp"], query["nonce"], encrypt + "x")

    response = safe.client.post("/wechat", query_string=query, data=body.encode())

    assert response.status_code == 403
    assert echo.calls == []


def test_a_push_encrypted_with_an_unknown_key_is_forbidden(safe, echo):
    response = safe.post(text(random_user(), "你好"), aes_key="A" * 43)

    assert response.status_code == 403
    assert echo.calls == []


def test_an_encrypted_push_to_an_account_without_aes_key_is_forbidden(plain, echo):
    plain.aes_key = AES_KEY

    response = plain.post(text(random_user(), "你好"), mode="safe")

    assert response.status_code == 403
    assert echo.calls == []


# ---- malformed and hostile pushes: 400 ----------------------------------------------------------------------

DOCTYPE = ('<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
           '<xml><ToUserName><![CDATA[gh]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName>'
           '<CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>&lol1;</Content>'
           '<MsgId>1</MsgId></xml>')


@pytest.mark.parametrize(
    "body",
    [
        "<xml><ToUserName>",
        "plain words",
        DOCTYPE,
        '<!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><MsgType>text</MsgType><Content>&e;</Content></xml>',
        "<xml><ToUserName><![CDATA[gh]]></ToUserName><FromUserName><![CDATA[oU]]></FromUserName>"
        "<CreateTime>1</CreateTime></xml>",
        "<xml><MsgType>text</MsgType><Content>" + "长" * 22_000 + "</Content></xml>",
    ],
    ids=["truncated", "not-xml", "entity-expansion", "external-entity", "no-msgtype", "over-64kb"],
)
@pytest.mark.parametrize("mode", ["plain", "safe"])
def test_malformed_hostile_or_oversized_pushes_are_bad_requests(body, mode, tmp_path, echo):
    environ = {"WECHAT_ENCODING_AES_KEY": AES_KEY} if mode == "safe" else {}
    wechat = WeChat(new_app(tmp_path, **environ).test_client(), aes_key=environ.get("WECHAT_ENCODING_AES_KEY"))

    response = wechat.post(body)

    assert response.status_code == 400
    assert echo.calls == []


def test_an_unknown_encrypt_type_is_a_bad_request(plain, echo):
    query = plain.query()
    query["encrypt_type"] = "rot13"

    assert plain.post(text(random_user(), "你好"), query=query).status_code == 400


def test_a_safe_mode_envelope_without_encrypt_is_a_bad_request(safe, echo):
    body = "<xml><ToUserName><![CDATA[gh]]></ToUserName></xml>"
    query = safe.query("")

    response = safe.client.post("/wechat", query_string=query, data=body.encode())

    assert response.status_code == 400


# ---- plain, compatible and safe mode ------------------------------------------------------------------------


def test_plain_mode_answers_in_plain_xml_to_the_sender(plain, echo):
    user = random_user()

    fields = plain.reply_fields(plain.post(text(user, "你好")))

    assert fields["Content"] == "收到：你好"
    assert fields["ToUserName"] == user
    assert fields["FromUserName"] == "gh_bangban0000"
    assert echo.calls[0].user == user


def test_safe_mode_round_trip_with_the_real_dialogue(safe):
    response = safe.post(text(random_user(), "结婚登记要带什么"))

    body = response.get_data(as_text=True)
    assert "<Encrypt>" in body and "结婚" not in body
    assert "结婚登记" in safe.reply_text(response)


def test_compatible_mode_is_answered_encrypted(safe, echo):
    response = safe.post(text(random_user(), "你好"), mode="compatible")

    assert "<Encrypt>" in response.get_data(as_text=True)
    assert safe.reply_text(response) == "收到：你好"


def test_a_plain_push_to_a_safe_mode_account_is_answered_in_plain(safe, echo):
    response = safe.post(text(random_user(), "你好"), mode="plain")

    assert "<Encrypt>" not in response.get_data(as_text=True)
    assert safe.reply_text(response) == "收到：你好"


def test_during_key_rotation_a_push_under_the_previous_key_is_answered_with_it(tmp_path, echo):
    app = new_app(tmp_path, WECHAT_ENCODING_AES_KEY=AES_KEY, WECHAT_PREVIOUS_ENCODING_AES_KEY=OLD_AES_KEY)
    wechat = WeChat(app.test_client(), aes_key=AES_KEY)

    old = wechat.post(text(random_user(), "旧钥匙"), aes_key=OLD_AES_KEY)
    new = wechat.post(text(random_user(), "新钥匙"))

    assert wechat.reply_text(old, aes_key=OLD_AES_KEY) == "收到：旧钥匙"
    with pytest.raises(Exception):
        wechat.reply_text(old, aes_key=AES_KEY)
    assert wechat.reply_text(new) == "收到：新钥匙"


def test_after_rotation_ends_the_previous_key_is_refused(safe, echo):
    assert safe.post(text(random_user(), "旧钥匙"), aes_key=OLD_AES_KEY).status_code == 403


# ---- replies and logs ---------------------------------------------------------------------------------------


def test_an_event_without_anything_to_say_is_answered_success(plain, monkeypatch):
    monkeypatch.setattr(dialogs.engine, "handle", lambda state, message, env: Turn(state=state, replies=()),
                        raising=False)

    response = plain.post(event(random_user(), "VIEW", "https://example.org/"))

    assert (response.status_code, response.get_data(as_text=True)) == (200, "success")


def test_logs_name_no_openid_and_no_content(plain, caplog):
    caplog.set_level(logging.DEBUG, logger="bot")  # every line, also the per-answer ones at DEBUG
    user = random_user()

    plain.post(text(user, "结婚登记要带什么"))
    plain.post(push_xml(user, "image", {"PicUrl": "http://x", "MediaId": "media-secret-1"}, msg_id=next_msg_id()))

    assert "wechat:" in caplog.text
    for secret in (user, "结婚登记", "media-secret-1"):
        assert secret not in caplog.text
