"""Photos citizens send are fetched from WeChat (a local fake of its API on loopback) into the case database before
WeChat drops them, on SQLite and PostgreSQL; failures are retried later, and a photo WeChat no longer has says so."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from bot.media import (FAILED, FETCHED, GONE, PENDING, TOO_LARGE, KeptMedia, PhotoFetcher, case_photos, keep_media,
                       photo_file, status_text)
from bot.wechat_api import MAX_MEDIA_BYTES, WeChatAPI
from dialogs.effects import KeepMedia
from fake_wechat import FakeWeChat

import pytest

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=timezone.utc)
JPEG = b"\xff\xd8\xff\xe0" + b"photo of a household register" * 50


@pytest.fixture
def fake():
    with FakeWeChat() as server:
        yield server


def api_of(fake) -> WeChatAPI:
    return WeChatAPI(fake.app_id, fake.secret, base_url=fake.url)


def kept(sessions, media_id: str, received: datetime = NOW) -> int:
    with sessions.begin() as session:
        row = keep_media(session, "oCITIZEN", KeepMedia(media_id, note="材料照片"), at=received)
        session.flush()
        return row.id


def row_of(sessions, row_id: int) -> KeptMedia:
    with sessions() as session:
        row = session.get(KeptMedia, row_id)
        session.expunge(row)
        return row


def fetch_requests(fake) -> int:
    return len([r for r in fake.requests if r[0] == "/cgi-bin/media/get"])


def test_a_kept_photo_is_fetched_and_stored(model_sessions, fake):
    fake.media["M1"] = (JPEG, "image/jpeg")
    row_id = kept(model_sessions, "M1")
    assert row_of(model_sessions, row_id).fetch_status == PENDING
    assert "正在从微信取回" in status_text(row_of(model_sessions, row_id))

    assert PhotoFetcher(model_sessions, api_of(fake))(NOW) == 1
    row = row_of(model_sessions, row_id)
    assert (row.fetch_status, row.content_type, row.size) == (FETCHED, "image/jpeg", len(JPEG))
    assert row.shown_inline and status_text(row) == ""
    with model_sessions() as session:
        assert photo_file(session, row) == JPEG
    assert PhotoFetcher(model_sessions, api_of(fake))(NOW + timedelta(hours=1)) == 0  # fetched once only
    assert fetch_requests(fake) == 1


def test_a_failed_fetch_is_tried_again_later_not_at_once(model_sessions, fake):
    fake.media["M1"] = (JPEG, "image/jpeg")
    row_id = kept(model_sessions, "M1")
    fetcher = PhotoFetcher(model_sessions, api_of(fake))
    fake.http_error_next(502)
    assert fetcher(NOW) == 0
    row = row_of(model_sessions, row_id)
    assert row.fetch_status == PENDING and row.fetch_attempts == 1 and "稍后自动再试" in status_text(row)
    assert fetcher(NOW + timedelta(seconds=30)) == 0  # backing off: not asked again yet
    assert fetch_requests(fake) == 1
    assert fetcher(NOW + timedelta(seconds=61)) == 1
    assert row_of(model_sessions, row_id).fetch_status == FETCHED


def test_a_photo_wechat_no_longer_has_is_marked_for_staff(model_sessions, fake):
    gone = kept(model_sessions, "NOT-AT-WECHAT")
    old = kept(model_sessions, "OLD", received=NOW - timedelta(days=3, minutes=1))
    fake.media["OLD"] = (JPEG, "image/jpeg")
    assert PhotoFetcher(model_sessions, api_of(fake))(NOW) == 0
    for row_id in (gone, old):
        row = row_of(model_sessions, row_id)
        assert row.fetch_status == FAILED and status_text(row) == GONE and not row.shown_inline
    assert [r[1]["media_id"] for r in fake.requests if r[0] == "/cgi-bin/media/get"] == ["NOT-AT-WECHAT"]


def test_a_photo_over_the_size_limit_is_marked_for_staff_at_once_not_fetched_for_days(model_sessions, fake):
    fake.media["BIG"] = (JPEG[:4] + b"\0" * MAX_MEDIA_BYTES, "image/jpeg")
    row_id = kept(model_sessions, "BIG")
    fetcher = PhotoFetcher(model_sessions, api_of(fake))
    assert fetcher(NOW) == 0
    row = row_of(model_sessions, row_id)
    assert row.fetch_status == FAILED and status_text(row) == TOO_LARGE and "重新" in TOO_LARGE
    assert fetcher(NOW + timedelta(hours=7)) == 0 and fetch_requests(fake) == 1
    with model_sessions() as session:
        assert photo_file(session, row) is None


def test_something_that_is_not_an_image_is_kept_but_not_shown_inline(model_sessions, fake):
    fake.media["M1"] = (b"<html>not a photo</html>", "text/html")
    row_id = kept(model_sessions, "M1")
    PhotoFetcher(model_sessions, api_of(fake))(NOW)
    row = row_of(model_sessions, row_id)
    assert row.fetch_status == FETCHED and not row.shown_inline and "下载" in status_text(row)


def test_two_workers_never_fetch_the_same_photo(model_sessions, fake):
    fake.media.update({f"M{i}": (JPEG, "image/jpeg") for i in range(6)})
    for i in range(6):
        kept(model_sessions, f"M{i}")
    fetchers = [PhotoFetcher(model_sessions, api_of(fake)) for _ in range(3)]
    counts: list[int] = []
    threads = [threading.Thread(target=lambda f=f: counts.append(f(NOW))) for f in fetchers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sum(counts) == 6
    assert fetch_requests(fake) == 6
    with model_sessions() as session:
        assert {r.fetch_status for r in session.scalars(select(KeptMedia))} == {FETCHED}


def test_photos_of_a_case_in_the_order_received(model_sessions):
    from report_builders import make_case

    with model_sessions.begin() as session:
        case_id = make_case(session, None, opened=NOW).id
        for minute, media in ((5, "LATER"), (1, "FIRST")):
            keep_media(session, "oCITIZEN", KeepMedia(media), at=NOW + timedelta(minutes=minute), case_id=case_id)
    with model_sessions() as session:
        assert [r.media_id for r in case_photos(session, case_id)] == ["FIRST", "LATER"]
