"""The outbox and its worker against a local fake of WeChat: delivery, retries with backoff, quotas, undeliverable
messages, splitting, and several workers on one PostgreSQL sending each message exactly once."""
from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, select

from bot.db import Base, session_factory
from conftest import fresh_postgres_schema
from bot.outbox import (FAILED, HELD, MAX_TEXT_BYTES, QUEUED, SENDING, SENT, UNDELIVERABLE, OutboxMessage, UserWindow,
                        enqueue_text, mask_openid, note_user_message, pending_for, quota, split_text,
                        undelivered)
from bot.wechat_api import WeChatAPI
from bot.worker import BACKOFF, Worker
from fake_wechat import FakeWeChat

TABLES = [OutboxMessage.__table__, UserWindow.__table__]
T0 = datetime(2030, 5, 6, 9, 0, tzinfo=timezone.utc)
USER = "oyORnuP8q7ou2gfYjqLzSIWZf0rs"


class Clock:
    def __init__(self, now: datetime = T0):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def fake():
    with FakeWeChat() as server:
        yield server


@pytest.fixture
def sessions(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'outbox.db'}")
    Base.metadata.create_all(engine, tables=TABLES)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def worker(sessions, fake, clock):
    return Worker(sessions, WeChatAPI(fake.app_id, fake.secret, base_url=fake.url), clock=clock, name="w1")


def _wrote(sessions, openid=USER, at=T0, kind="message"):
    with sessions.begin() as session:
        note_user_message(session, openid, at, kind)


def _enqueue(sessions, text_, openid=USER, reason="late_reply", due_at=T0):
    with sessions.begin() as session:
        return [row.id for row in enqueue_text(session, openid, text_, reason, due_at=due_at)]


def _message(sessions, message_id) -> OutboxMessage:
    with sessions() as session:
        return session.get(OutboxMessage, message_id)


# ---- splitting --------------------------------------------------------------------------------------------------
def test_long_text_is_split_at_lines_into_parts_within_2048_bytes(sessions):
    lines = [f"第{i}条：请携带身份证原件、营业执照副本和申请表，到政务服务中心二楼窗口办理。" for i in range(60)]
    text_ = "\n".join(lines)
    assert len(text_.encode()) > 3 * MAX_TEXT_BYTES
    ids = _enqueue(sessions, text_)
    with sessions() as session:
        parts = [session.get(OutboxMessage, i).payload for i in ids]
    assert len(parts) >= 4
    assert all(len(part.encode("utf-8")) <= MAX_TEXT_BYTES for part in parts)
    assert "\n".join(parts) == text_  # cut at line ends only: nothing lost, nothing reordered
    assert all(part.startswith("第") for part in parts)


def test_one_long_line_is_cut_after_a_sentence_and_short_text_is_one_message():
    line = "办理营业执照需要提交申请书。" * 300
    parts = split_text(line)
    assert all(len(part.encode()) <= MAX_TEXT_BYTES for part in parts)
    assert "".join(parts) == line and all(part.endswith("。") for part in parts)
    assert split_text("好的") == ["好的"]
    assert split_text("a" * 5000, limit=2048) == ["a" * 2048, "a" * 2048, "a" * 904]
    with pytest.raises(ValueError):
        split_text("x", limit=2)


def test_enqueue_checks_its_arguments(sessions):
    with sessions() as session:
        with pytest.raises(ValueError):
            enqueue_text(session, USER, "  \n ", "late_reply")
        with pytest.raises(ValueError):
            enqueue_text(session, "", "hi", "late_reply")
        with pytest.raises(ValueError):
            enqueue_text(session, USER, "hi", "late_reply", due_at=datetime(2030, 1, 1))  # naive
        with pytest.raises(ValueError):
            note_user_message(session, USER, T0, "click")


# ---- delivery ---------------------------------------------------------------------------------------------------
def test_a_queued_message_is_sent(sessions, worker, fake, clock):
    _wrote(sessions)
    [message_id] = _enqueue(sessions, "您咨询的事项已有答复：请带身份证到二楼5号窗口。")
    done = worker.run_once()
    assert done.sent == 1 and done.ids["sent"] == [message_id]
    assert fake.sent == [(USER, "您咨询的事项已有答复：请带身份证到二楼5号窗口。")]
    message = _message(sessions, message_id)
    assert (message.status, message.attempts, message.sent_at, message.last_error) == (SENT, 1, T0, None)
    assert message.slot == "message"
    assert worker.run_once().sent == 0  # sent once only
    with sessions() as session:
        assert quota(session, USER, T0).message_remaining == 4


def test_a_message_due_later_waits(sessions, worker, fake, clock):
    _wrote(sessions)
    [message_id] = _enqueue(sessions, "提醒：明天上午9点预约办理。", reason="reminder", due_at=T0 + timedelta(hours=1))
    assert worker.run_once().sent == 0
    clock.advance(hours=1)
    assert worker.run_once().sent == 1
    assert _message(sessions, message_id).sent_at == T0 + timedelta(hours=1)


def test_failure_is_retried_with_backoff_then_sent(sessions, worker, fake, clock):
    _wrote(sessions)
    [message_id] = _enqueue(sessions, "答复")
    fake.fail_next(-1)  # 系统繁忙
    fake.http_error_next(502)
    done = worker.run_once()
    assert done.retried == 1 and not fake.sent
    message = _message(sessions, message_id)
    assert (message.status, message.attempts, message.next_attempt_at) == (QUEUED, 1, T0 + timedelta(seconds=10))
    assert message.last_error == "errcode -1: fake error -1"
    with sessions() as session:
        assert quota(session, USER, T0).message_remaining == 5  # the failed send gave its count back

    clock.advance(seconds=9)
    assert worker.run_once().retried == 0  # not yet
    clock.advance(seconds=1)
    assert worker.run_once().retried == 1  # HTTP 502
    message = _message(sessions, message_id)
    assert (message.attempts, message.next_attempt_at) == (2, T0 + timedelta(seconds=40))
    assert "HTTP 502" in message.last_error

    clock.advance(seconds=30)
    assert worker.run_once().sent == 1
    message = _message(sessions, message_id)
    assert (message.status, message.attempts, message.last_error) == (SENT, 3, None)
    assert fake.sent == [(USER, "答复")]


def test_failing_every_time_ends_failed_after_the_backoff_schedule(sessions, worker, fake, clock):
    _wrote(sessions)
    [message_id] = _enqueue(sessions, "答复")
    fake.fail_next(*[-1] * (len(BACKOFF) + 1))
    for delay in BACKOFF:
        assert worker.run_once().retried == 1
        assert _message(sessions, message_id).next_attempt_at == clock.now + timedelta(seconds=delay)
        clock.advance(seconds=delay)
    assert worker.run_once().failed == 1
    message = _message(sessions, message_id)
    assert message.status == FAILED and message.attempts == len(BACKOFF) + 1
    assert message.last_error.startswith("failed after 5 attempts")
    assert not fake.sent


def test_45015_is_recorded_as_undeliverable_without_personal_data(sessions, worker, fake, clock):
    _wrote(sessions)
    [message_id] = _enqueue(sessions, "张三您好，您的身份证号码已核验。")
    fake.fail_next(45015)
    done = worker.run_once()
    assert done.undeliverable == 1 and done.retried == 0
    message = _message(sessions, message_id)
    assert message.status == UNDELIVERABLE and message.attempts == 1
    assert "45015" in message.last_error
    assert USER not in message.last_error and "张三" not in message.last_error
    clock.advance(minutes=30)
    assert worker.run_once().sent == 0  # not retried


def test_outside_any_window_is_undeliverable_at_once(sessions, worker, fake, clock):
    [never] = _enqueue(sessions, "答复", openid="oNeverWrote")
    _wrote(sessions, at=T0 - timedelta(hours=48, seconds=1))
    [late] = _enqueue(sessions, "答复")
    done = worker.run_once()
    assert done.undeliverable == 2 and not fake.sent
    for message_id in (never, late):
        message = _message(sessions, message_id)
        assert message.status == UNDELIVERABLE and message.attempts == 0
        assert "48 h" in message.last_error
    with sessions() as session:
        assert [m.id for m in undelivered(session)] == [late, never]  # what staff sees, newest first
    assert not fake.requests  # nothing was asked of WeChat


# ---- quotas -----------------------------------------------------------------------------------------------------
def test_the_sixth_message_within_48_hours_is_held_until_the_user_writes_again(sessions, worker, fake, clock):
    _wrote(sessions)
    ids = _enqueue(sessions, "\n".join(["答" * 600] * 6))  # six parts of ~1800 bytes
    assert len(ids) == 6
    done = worker.run_once()
    assert done.sent == 5 and done.held == 1
    held = _message(sessions, ids[5])
    assert held.status == HELD and held.attempts == 0 and "used up" in held.last_error
    with sessions() as session:
        allowance = quota(session, USER, T0)
        assert (allowance.remaining, allowance.until, allowance.open_until) == (0, None, T0 + timedelta(hours=48))
        assert [m.id for m in pending_for(session, USER)] == [ids[5]]

    clock.advance(hours=1)
    assert worker.run_once().held == 1  # looked at again: still nothing left
    _wrote(sessions, at=clock.now)  # the user writes again: a new window of 5
    done = worker.run_once()
    assert done.sent == 1 and _message(sessions, ids[5]).status == SENT
    assert [content for _, content in fake.sent] == ["答" * 600] * 6  # in order


def test_a_held_message_becomes_undeliverable_when_the_window_closes(sessions, worker, fake, clock):
    _wrote(sessions)
    ids = _enqueue(sessions, "\n".join(["答" * 600] * 6))
    worker.run_once()
    clock.advance(hours=48)
    done = worker.run_once()
    assert done.undeliverable == 1
    assert _message(sessions, ids[5]).status == UNDELIVERABLE


def test_three_within_a_minute_after_a_menu_click(sessions, worker, fake, clock):
    _wrote(sessions, kind="event")  # a click does not open the 48 h window
    ids = [_enqueue(sessions, f"第{i}条", reason="menu")[0] for i in range(4)]
    with sessions() as session:
        allowance = quota(session, USER, T0)
    assert (allowance.remaining, allowance.message_remaining, allowance.until) == (3, 0, T0 + timedelta(minutes=1))
    done = worker.run_once()
    assert done.sent == 3 and done.held == 1
    assert _message(sessions, ids[3]).status == HELD
    clock.advance(seconds=61)
    assert worker.run_once().undeliverable == 1  # the minute is over and no message window is open
    assert [c for _, c in fake.sent] == ["第0条", "第1条", "第2条"]


def test_a_click_within_the_message_window_adds_its_own_three(sessions, worker, fake, clock):
    _wrote(sessions, at=T0 - timedelta(hours=1))
    _wrote(sessions, at=T0, kind="event")
    _enqueue(sessions, "\n".join(["答" * 600] * 9))
    done = worker.run_once()
    assert done.sent == 8 and done.held == 1  # 3 for the click, then 5 for the message
    with sessions() as session:
        window = session.get(UserWindow, USER)
        assert (window.event_window_count, window.messages_since) == (3, 5)


def test_an_older_record_never_replaces_a_newer_one(sessions):
    _wrote(sessions, at=T0)
    _wrote(sessions, at=int((T0 - timedelta(hours=1)).timestamp()))  # CreateTime seconds, processed late
    with sessions() as session:
        assert session.get(UserWindow, USER).last_user_message_at == T0
        assert quota(session, USER, T0 + timedelta(hours=47)).message_until == T0 + timedelta(hours=48)
        assert quota(session, "oNobody", T0).remaining == 0


def test_a_worker_that_died_while_sending_is_not_sent_again(sessions, worker, fake, clock):
    _wrote(sessions)
    [message_id] = _enqueue(sessions, "答复")
    with sessions.begin() as session:
        session.get(OutboxMessage, message_id).status = SENDING
        session.get(OutboxMessage, message_id).claimed_at = T0
    clock.advance(minutes=6)
    done = worker.run_once()
    assert done.interrupted == 1 and done.sent == 0
    message = _message(sessions, message_id)
    assert message.status == FAILED and "delivery unknown" in message.last_error
    assert not fake.sent


def test_logs_mask_openids(sessions, worker, fake, clock, caplog):
    caplog.set_level("DEBUG", logger="bot")
    _wrote(sessions)
    _enqueue(sessions, "答复")
    fake.fail_next(-1)
    worker.run_once()
    clock.advance(seconds=10)
    worker.run_once()
    assert caplog.records
    assert USER not in caplog.text and mask_openid(USER) in caplog.text
    assert "TOKEN-" not in caplog.text


# ---- several workers on one PostgreSQL -----------------------------------------------------------------------------
@pytest.fixture
def pg_sessions(postgres_url):
    with fresh_postgres_schema(postgres_url, "outbox_test") as url:
        engine = create_engine(url, pool_size=10)
        try:
            Base.metadata.create_all(engine, tables=TABLES)
            yield session_factory(engine)
        finally:
            engine.dispose()


def test_parallel_workers_on_postgresql_send_each_message_exactly_once(pg_sessions):
    users = [f"oUser{n:03d}" for n in range(12)]
    clock = Clock(datetime.now(timezone.utc))
    with pg_sessions.begin() as session:
        for openid in users:
            note_user_message(session, openid, clock.now, "message")
            for i in range(5):
                enqueue_text(session, openid, f"{openid} 第{i}条", "staff", due_at=clock.now)
    with FakeWeChat(send_delay=0.005) as fake:
        workers = [Worker(pg_sessions, WeChatAPI(fake.app_id, fake.secret, base_url=fake.url), clock=clock,
                          name=f"w{n}") for n in range(4)]
        start = threading.Barrier(len(workers))
        errors = []

        def drain(worker):
            try:
                start.wait()
                while worker.run_once(limit=3).worked:
                    pass
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=drain, args=(w,)) for w in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not errors, errors
        # A worker may stop while another still held a user's earlier message; one more pass picks up the rest.
        while workers[0].run_once().worked:
            pass

    counts = Counter(fake.sent)
    assert len(counts) == len(users) * 5 and set(counts.values()) == {1}
    for openid in users:  # each user's messages in order
        assert [c for u, c in fake.sent if u == openid] == [f"{openid} 第{i}条" for i in range(5)]
    with pg_sessions() as session:
        statuses = Counter(session.scalars(select(OutboxMessage.status)))
        assert statuses == {SENT: len(users) * 5}
        assert set(session.scalars(select(UserWindow.messages_since))) == {5}
        senders = Counter(session.scalars(select(OutboxMessage.claimed_by)))
    assert len(senders) > 1  # the work was really shared
