"""The WeChat API client against a local fake: the access token is fetched once and shared, refreshed after 40001."""
from __future__ import annotations

import json
import threading
import uuid

import pytest

from bot.wechat_api import (MemoryTokenCache, RedisTokenCache, WeChatAPI, WeChatAPIError, WeChatUnavailable, scrub)
from fake_wechat import FakeWeChat


@pytest.fixture
def fake():
    with FakeWeChat() as server:
        yield server


@pytest.fixture
def redis_client(redis_url):
    import redis

    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def token_key(redis_client):
    key = f"bangban-test:{uuid.uuid4().hex}:access_token"
    yield key
    redis_client.delete(key, f"{key}:lock")


def _api(fake, **kwargs) -> WeChatAPI:
    return WeChatAPI(fake.app_id, fake.secret, base_url=fake.url, **kwargs)


def _in_threads(count, target):
    errors = []

    def run(i):
        try:
            target(i)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors


def test_stable_token_request_and_json_body(fake):
    api = _api(fake)
    api.send_text("oUSER", "您好，材料已收到。")
    assert fake.token_bodies == [{"grant_type": "client_credential", "appid": fake.app_id, "secret": fake.secret,
                                  "force_refresh": False}]
    path, query, body = fake.requests[-1]
    assert path == "/cgi-bin/message/custom/send" and query == {"access_token": "TOKEN-1"}
    assert body == {"touser": "oUSER", "msgtype": "text", "text": {"content": "您好，材料已收到。"}}
    assert fake.sent == [("oUSER", "您好，材料已收到。")]  # the fake refuses \u escapes: ensure_ascii=False


def test_token_is_fetched_once_per_process_without_redis(fake):
    fake.token_delay = 0.2
    api = _api(fake)
    _in_threads(8, lambda i: api.send_text(f"o{i}", "hi"))
    assert fake.token_calls == 1
    assert len(fake.sent) == 8
    api.send_text("o9", "again")
    assert fake.token_calls == 1  # never per request


def test_two_clients_share_one_fetch_through_redis(fake, redis_client, token_key):
    fake.token_delay = 0.3  # a slow stable_token: without the lock every thread would fetch
    clients = [_api(fake, cache=RedisTokenCache(redis_client, token_key)) for _ in range(2)]
    _in_threads(8, lambda i: clients[i % 2].send_text(f"o{i}", "hi"))
    assert fake.token_calls == 1
    assert sum(client.token_fetches for client in clients) == 1
    assert redis_client.get(token_key) == b"TOKEN-1"
    assert 7000 < redis_client.ttl(token_key) <= 7200
    assert not redis_client.exists(f"{token_key}:lock")  # released


def test_token_refreshed_once_after_40001_and_shared(fake, redis_client, token_key):
    first = _api(fake, cache=RedisTokenCache(redis_client, token_key))
    second = _api(fake, cache=RedisTokenCache(redis_client, token_key))
    first.send_text("o1", "one")
    fake.rotate()  # the stored token stops working
    fake.token_delay = 0.2
    # Both clients hit 40001 with the same stale token at the same time: one fetch between them.
    _in_threads(2, lambda i: (first, second)[i].send_text(f"o{i}", "two"))
    assert fake.token_calls == 2
    assert redis_client.get(token_key) == b"TOKEN-2"
    assert sorted(fake.sent[1:]) == [("o0", "two"), ("o1", "two")]


def test_refresh_in_memory_after_40001(fake):
    api = _api(fake, cache=MemoryTokenCache())
    api.send_text("o1", "one")
    fake.rotate()
    api.send_text("o1", "two")
    assert fake.token_calls == 2
    assert fake.sent == [("o1", "one"), ("o1", "two")]


def test_token_error_after_refresh_is_raised_not_looped(fake):
    api = _api(fake)
    api.send_text("o1", "one")
    fake.fail_next(40001, 40001)  # WeChat keeps refusing: one refresh, one retry, then the error
    with pytest.raises(WeChatAPIError) as caught:
        api.send_text("o1", "two")
    assert caught.value.errcode == 40001
    assert fake.token_calls == 2
    assert len([r for r in fake.requests if r[0] == "/cgi-bin/message/custom/send"]) == 3  # one, two, two again


def test_errors_are_classified(fake):
    api = _api(fake)
    fake.fail_next(45015)
    with pytest.raises(WeChatAPIError) as caught:
        api.send_text("o1", "late")
    assert caught.value.errcode == 45015 and caught.value.undeliverable
    fake.fail_next(-1)
    with pytest.raises(WeChatAPIError) as caught:
        api.send_text("o1", "busy")
    assert not caught.value.undeliverable
    fake.http_error_next(502)
    with pytest.raises(WeChatUnavailable, match="HTTP 502"):
        api.send_text("o1", "down")


def test_bad_secret_is_an_api_error_and_unreachable_is_unavailable(fake):
    with pytest.raises(WeChatAPIError) as caught:
        WeChatAPI(fake.app_id, "wrong", base_url=fake.url).send_text("o1", "x")
    assert caught.value.errcode == 40125
    with pytest.raises(WeChatUnavailable) as caught:
        WeChatAPI(fake.app_id, fake.secret, base_url="http://127.0.0.1:9", timeout=(0.5, 0.5)).send_text("o1", "x")
    assert "secret" not in str(caught.value) or "***" in str(caught.value)


JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8  # the bytes of a photo, as WeChat sends them


def test_a_photo_is_fetched_as_bytes_with_its_type(fake):
    fake.media["MEDIA1"] = (JPEG, "image/jpeg")
    media = _api(fake).get_media("MEDIA1")
    assert media.content == JPEG and media.content_type == "image/jpeg"
    path, query, _ = fake.requests[-1]
    assert path == "/cgi-bin/media/get" and query["media_id"] == "MEDIA1" and query["access_token"] == fake.token


def test_a_photo_after_the_token_expired_is_fetched_with_a_new_one(fake):
    fake.media["MEDIA1"] = (JPEG, "image/jpeg")
    api = _api(fake)
    api.get_media("MEDIA1")
    fake.rotate()
    assert api.get_media("MEDIA1").content == JPEG
    assert fake.token_calls == 2


def test_a_photo_wechat_no_longer_has_is_an_api_error(fake):
    api = _api(fake)
    with pytest.raises(WeChatAPIError) as caught:
        api.get_media("GONE")
    assert caught.value.errcode == 40007
    fake.http_error_next(503)
    with pytest.raises(WeChatUnavailable, match="HTTP 503"):
        api.get_media("GONE")


def test_scrub_hides_tokens():
    text = "Max retries exceeded with url: /cgi-bin/message/custom/send?access_token=SECRET123&x=1"
    assert "SECRET123" not in scrub(text)
    assert json.dumps(scrub(text))
