"""WeChat's protocol without Flask: the official signature and encryption vectors (wechat.md A1, A8), hostile
input, and how every message and event type becomes a dialogs `Inbound`."""
from __future__ import annotations

import re

import pytest
from wechatpy.crypto import PrpCrypto, WeChatCrypto

from bot.wechat import protocol
from bot.wechat.protocol import BadPush, Forbidden, Keys, check_plain_signature, parse_push, signature
from dialogs import messages as m
from dialogs.messages import Inbound
from bot.wechat.pushes import event, message, push_xml, text

SAMPLE_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"

# ---- A1 and Set 4: the plain signature -------------------------------------------------------------------


def test_the_plain_signature_of_the_official_access_guide():
    assert signature("AAAAA", "1714037059", "486452656") == "899cf89e464efb63f54ddac96b0a0a235f53aa78"


def test_wechatpys_signature_vector_and_its_last_digit_changed():
    good = {"signature": "f21891de399b4e33a1a93c9a7b8a8fffb5a443ff", "timestamp": "1410685589", "nonce": "test"}

    check_plain_signature("test", good)
    with pytest.raises(Forbidden):
        check_plain_signature("test", {**good, "signature": "f21891de399b4e33a1a93c9a7b8a8fffb5a443fe"})


@pytest.mark.parametrize("missing", ["signature", "timestamp", "nonce"])
def test_a_missing_signature_part_is_forbidden(missing):
    args = {"signature": "899cf89e464efb63f54ddac96b0a0a235f53aa78", "timestamp": "1714037059", "nonce": "486452656"}
    del args[missing]

    with pytest.raises(Forbidden):
        check_plain_signature("AAAAA", args)


def test_a_non_ascii_signature_is_forbidden_not_a_crash():
    with pytest.raises(Forbidden):
        check_plain_signature("AAAAA", {"signature": "签名", "timestamp": "1714037059", "nonce": "486452656"})


# ---- A8 Set 1: the official cryptoDemo (decrypt) ---------------------------------------------------------

SET1_BODY = (
    "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]>"
    "</FromUserName><CreateTime>1409735668</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[abcdteT]]>"
    "</Content><MsgId>6054768590064713728</MsgId><Encrypt><![CDATA[hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655"
    "HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWy"
    "WNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8t"
    "COp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumE"
    "Po5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=]]></Encrypt></xml>")
SET1_ARGS = {"timestamp": "1409735669", "nonce": "1320562132",
             "msg_signature": "5d197aaffba7e9b25a30732f161a50dee96bd5fa"}
SET1_PLAIN = (
    "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]>"
    "</FromUserName>\n<CreateTime>1409735668</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[abcdteT]]>"
    "</Content>\n<MsgId>6054768590064713728</MsgId>\n</xml>")


def test_the_official_crypto_demo_decrypts_byte_for_byte():
    plaintext, _ = Keys.of("spamtest", "wx2c2769f8efd9abc2", SAMPLE_KEY).decrypt(SET1_BODY, SET1_ARGS)

    assert plaintext == SET1_PLAIN
    push = parse_push(plaintext)
    assert push.inbound == Inbound("oyORnuP8q7ou2gfYjqLzSIWZf0rs", m.TEXT, text="abcdteT")
    assert push.key == "msg:6054768590064713728"


def test_the_official_crypto_demo_with_another_appid_is_forbidden():
    with pytest.raises(Forbidden, match="AppID"):
        Keys.of("spamtest", "wx_wrong_appid", SAMPLE_KEY).decrypt(SET1_BODY, SET1_ARGS)


def test_the_official_crypto_demo_with_a_wrong_msg_signature_is_forbidden():
    with pytest.raises(Forbidden, match="msg_signature"):
        Keys.of("spamtest", "wx2c2769f8efd9abc2", SAMPLE_KEY).decrypt(
            SET1_BODY, {**SET1_ARGS, "msg_signature": "5d197aaffba7e9b25a30732f161a50dee96bd5fb"})


def test_the_official_crypto_demo_opens_with_the_previous_key_during_rotation():
    keys = Keys.of("spamtest", "wx2c2769f8efd9abc2", "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR", SAMPLE_KEY)

    plaintext, crypto = keys.decrypt(SET1_BODY, SET1_ARGS)

    assert plaintext == SET1_PLAIN
    assert crypto is keys.cryptos[1]


def test_without_an_aes_key_an_encrypted_push_is_forbidden():
    with pytest.raises(Forbidden, match="WECHAT_ENCODING_AES_KEY"):
        Keys.of("spamtest", "wx2c2769f8efd9abc2").decrypt(SET1_BODY, SET1_ARGS)


# ---- A8 Set 2: the official Java sample (deterministic encryption) ----------------------------------------

SET2_XML = (
    "<xml><ToUserName><![CDATA[oia2Tj我是中文jewbmiOUlr6X-1crbLOvLw]]></ToUserName><FromUserName><![CDATA[gh_7f083739789a]]>"
    "</FromUserName><CreateTime>1407743423</CreateTime><MsgType><![CDATA[video]]></MsgType><Video><MediaId><![CDATA["
    "eYJ1MbwPRJtOvIEabaxHs7TX2D-HV71s79GUxqdUkjm6Gs2Ed1KF3ulAOA9H1xG0]]></MediaId><Title><![CDATA[testCallBackReplyVideo]]>"
    "</Title><Description><![CDATA[testCallBackReplyVideo]]></Description></Video></xml>")
SET2_ENCRYPT = (
    "jn1L23DB+6ELqJ+6bruv23M2GmYfkv0xBh2h+XTBOKVKcgDFHle6gqcZ1cZrk3e1qjPQ1F4RsLWzQRG9udbKWesxlkupqcEcW7ZQweImX9+wLMa0Ga"
    "UzpkycA8+IamDBxn5loLgZpnS7fVAbExOkK5DYHBmv5tptA9tklE/fTIILHR8HLXa5nQvFb3tYPKAlHF3rtTeayNf0QuM+UW/wM9enGIDIJHF7CLH"
    "iDNAYxr+r+OrJCmPQyTy8cVWlu9iSvOHPT/77bZqJucQHQ04sq7KZI27OcqpQNSto2OdHCoTccjggX5Z9Mma0nMJBU+jLKJ38YB1fBIz+vBzsYjrT"
    "mFQ44YfeEuZ+xRTQwr92vhA9OxchWVINGC50qE/6lmkwWTwGX9wtQpsJKhP+oS7rvTY8+VdzETdfakjkwQ5/Xka042OlUb1/slTwo4RscuQ+RdxSGv"
    "DahxAJ6+EAjLt9d8igHngxIbf6YyqqROxuxqIeIch3CssH/LqRs+iAcILvApYZckqmA7FNERspKA5f8GoJ9sv8xmGvZ9Yrf57cExWtnX8aCMMaBrop"
    "U/1k+hKP5LVdzbWCG0hGwx/dQudYR/eXp3P0XxjlFiy+9DMlaFExWUZQDajPkdPrEeOwofJb")


class FixedRandom(PrpCrypto):
    def get_random_string(self):
        return "aaaabbbbccccdddd"


def test_the_official_java_sample_encrypts_to_the_published_ciphertext():
    crypto = WeChatCrypto("pamtest", SAMPLE_KEY, "wxb11529c136998cb6")

    short = crypto._encrypt_message("我是中文abcd123", "xxxxxx", "1409304348", FixedRandom)
    long = crypto._encrypt_message(SET2_XML, "xxxxxx", "1409304348", FixedRandom)

    assert "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==" in short
    assert SET2_ENCRYPT in long and len(SET2_ENCRYPT) == 640


def test_the_official_java_ciphertext_opens_with_our_keys():
    envelope = f"<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName><Encrypt><![CDATA[{SET2_ENCRYPT}]]></Encrypt></xml>"
    args = {"timestamp": "1409304348", "nonce": "xxxxxx",
            "msg_signature": signature("pamtest", "1409304348", "xxxxxx", SET2_ENCRYPT)}

    plaintext, _ = Keys.of("pamtest", "wxb11529c136998cb6", SAMPLE_KEY).decrypt(envelope, args)

    assert plaintext == SET2_XML


# ---- A8 Set 4: wechatpy's (WeCom) vector, same cipher -----------------------------------------------------

SET4_ENCRYPT = (
    "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283dGymzxh6ydJ"
    "RvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZ"
    "BtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMx"
    "uGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0=")


def test_wechatpys_vector_decrypts_to_its_text_message():
    envelope = f"<xml><ToUserName><![CDATA[wx49f0ab532d5d035a]]></ToUserName><Encrypt><![CDATA[{SET4_ENCRYPT}]]></Encrypt></xml>"
    args = {"timestamp": "1411525903", "nonce": "461056294", "msg_signature": "74d92dfeb87ba7c714f89d98870ae5eb62dff26d"}

    plaintext, _ = Keys.of("123456", "wx49f0ab532d5d035a", "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR").decrypt(
        envelope, args)

    push = parse_push(plaintext)
    assert (push.inbound.user, push.inbound.kind, push.inbound.text) == ("messense", m.TEXT, "test")


def test_an_encrypted_push_without_encrypt_is_malformed():
    with pytest.raises(BadPush):
        Keys.of("spamtest", "wx2c2769f8efd9abc2", SAMPLE_KEY).decrypt(
            "<xml><ToUserName><![CDATA[gh]]></ToUserName></xml>", SET1_ARGS)


# ---- every type becomes an Inbound ------------------------------------------------------------------------

U = "oUser00000000000000000000001"


@pytest.mark.parametrize(
    ("xml", "expected"),
    [
        (text(U, "结婚登记要带什么"), Inbound(U, m.TEXT, text="结婚登记要带什么")),
        (message(U, "voice", MediaId="v1", Format="amr", Recognition="结婚登记"),
         Inbound(U, m.VOICE, text="结婚登记", media_id="v1")),
        (message(U, "voice", MediaId="v1", Format="amr", Recognition=""), Inbound(U, m.VOICE, media_id="v1")),
        (message(U, "voice", MediaId="v1", Format="amr"), Inbound(U, m.VOICE, media_id="v1")),
        (message(U, "image", PicUrl="http://x/p.jpg", MediaId="img1"), Inbound(U, m.IMAGE, media_id="img1")),
        (message(U, "location", Location_X=23.134521, Location_Y=113.358803, Scale=20, Label="位置信息"),
         Inbound(U, m.LOCATION, latitude=23.134521, longitude=113.358803, label="位置信息")),
        (message(U, "video", MediaId="vid", ThumbMediaId="t"), Inbound(U, m.VIDEO, media_id="vid")),
        (message(U, "shortvideo", MediaId="vid", ThumbMediaId="t"), Inbound(U, m.VIDEO, media_id="vid")),
        (message(U, "link", Title="公众平台官网链接", Description="d", Url="http://x"), Inbound(U, m.LINK)),
        (message(U, "file", Title="a.pdf", FileKey="k", FileMd5="m", FileTotalLen=3), Inbound(U, m.FILE)),
        (message(U, "miniprogrampage", Title="t"), Inbound(U, m.OTHER)),
        (message(U, "notsure"), Inbound(U, m.OTHER)),
        (event(U, "subscribe"), Inbound(U, m.EVENT, event=m.SUBSCRIBE)),
        (event(U, "subscribe", "qrscene_123123", Ticket="T"), Inbound(U, m.EVENT, event=m.SUBSCRIBE_SCAN, key="123123")),
        (event(U, "SCAN", "123123", Ticket="T"), Inbound(U, m.EVENT, event=m.SCAN, key="123123")),
        (event(U, "unsubscribe"), Inbound(U, m.EVENT, event=m.UNSUBSCRIBE)),
        (event(U, "CLICK", "MENU_CONSULT"), Inbound(U, m.EVENT, event=m.CLICK, key="MENU_CONSULT")),
        (event(U, "VIEW", "https://example.org/"), Inbound(U, m.EVENT, event=m.VIEW, key="https://example.org/")),
        (event(U, "LOCATION", Latitude=23.137466, Longitude=113.352425, Precision=119.38504),
         Inbound(U, m.EVENT, event=m.LOCATION_REPORT, latitude=23.137466, longitude=113.352425)),
        (event(U, "scancode_push", "k"), Inbound(U, m.EVENT, event="scancode_push", key="k")),
        (event(U, "unknown"), Inbound(U, m.EVENT, event="unknown")),
    ],
    ids=lambda value: value.kind + (f"-{value.event}" if value.event else "") if isinstance(value, Inbound) else "",
)
def test_every_type_becomes_an_inbound(xml, expected):
    assert parse_push(xml).inbound == expected


def test_a_message_is_deduplicated_by_msgid_and_an_event_by_sender_time_name_and_key():
    assert parse_push(text(U, "你好", msg_id=6054768590064713728)).key == "msg:6054768590064713728"
    assert parse_push(event(U, "subscribe", create_time=1700000000)).key == f"evt:{U}:1700000000:subscribe"
    book = parse_push(event(U, "CLICK", "BOOK", create_time=1700000000)).key
    assert book.startswith(f"evt:{U}:1700000000:click:")
    assert parse_push(event(U, "CLICK", "BOOK", create_time=1700000000)).key == book  # WeChat's retry
    assert parse_push(event(U, "CLICK", "HUMAN", create_time=1700000000)).key != book  # another button, same second
    no_id = push_xml(U, "link", {"Title": "t"}, create_time=1700000001)
    assert parse_push(no_id).key == f"evt:{U}:1700000001:link"


def test_sending_windows_follow_the_outbox_rules():
    assert parse_push(text(U, "你好")).window == "message"
    assert parse_push(event(U, "subscribe")).window == "event"
    assert parse_push(event(U, "CLICK", "K")).window == "event"
    assert parse_push(event(U, "VIEW", "https://x")).window is None
    assert parse_push(event(U, "unsubscribe")).window is None


# ---- hostile and malformed input --------------------------------------------------------------------------

BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
                  "<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime>"
                  "<MsgType>text</MsgType><Content>&lol2;</Content><MsgId>1</MsgId></xml>")
EXTERNAL_ENTITY = ('<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><ToUserName>a</ToUserName>'
                   "<FromUserName>b</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>"
                   "<Content>&xxe;</Content></xml>")


@pytest.mark.parametrize(
    "body",
    [
        BILLION_LAUGHS.encode(),
        EXTERNAL_ENTITY.encode(),
        b"<xml><ToUserName>a</ToUserName>",  # not well-formed
        b"not xml at all",
        b"",
        b'{"MsgType": "text"}',
        "<xml><FromUserName>b</FromUserName><CreateTime>1</CreateTime></xml>".encode(),  # no MsgType
        "<root><MsgType>text</MsgType></root>".encode(),  # not <xml>
        push_xml(U, "text", {"Content": "x"}).replace("<CreateTime>", "<CreateTime>soon").encode(),
        push_xml(U, "text", {"Content": "x"}, msg_id=1).replace("<MsgId>1", "<MsgId>one").encode(),
        push_xml(U, "text", {"Content": "x"}).replace("<Content><![CDATA[x]]>", "<Content><a>1</a>").encode(),
        push_xml("", "text", {"Content": "x"}).encode(),  # no sender
        re.sub(r"<ToUserName>.*?</ToUserName>", "", push_xml(U, "text", {"Content": "x"})).encode(),  # no account
        push_xml("o" * 65, "text", {"Content": "x"}).encode(),  # not an OpenID
        "<xml><MsgType>text</MsgType></xml>".encode("utf-16"),  # not UTF-8
        b"<xml>" + b"<Content>" + b"x" * (64 * 1024) + b"</Content></xml>",  # over 64 KB
    ],
    ids=["billion-laughs", "external-entity", "truncated", "not-xml", "empty", "json", "no-msgtype", "other-root",
         "bad-createtime", "bad-msgid", "nested-content", "no-sender", "no-account", "long-sender", "utf-16", "oversized"],
)
def test_malformed_or_hostile_bodies_are_bad_pushes(body):
    with pytest.raises(BadPush):
        protocol.parse_push(protocol.decode_body(body))


def test_a_reply_with_a_cdata_end_marker_stays_well_formed():
    import xmltodict

    push = parse_push(text(U, "你好"))

    reply = xmltodict.parse(protocol.text_reply(push, "a]]>b"))["xml"]

    assert reply["Content"] == "a]]>b"
    assert reply["ToUserName"] == U
