"""What a turn does: WeChat's retries get the first reply and repeat no effect, one user's messages are handled one
at a time, a slow turn answers "success" and still delivers through the outbox, effects reach the database."""
from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text as sql_text

import dialogs.engine
from bot.escalations import Escalation
from bot.media import KeptMedia
from bot.outbox import OutboxMessage, UserWindow
from dialogs.effects import Escalate, ForgetUser, KeepMedia
from dialogs.engine import Turn
from bot.wechat.pushes import event, next_msg_id, push_xml, text
from wechat_builders import WeChat, gateway_of, new_app, random_user, set_hall_clock


def engine_of(app):
    return app.extensions["bangban"].engine


def count(app, model, **where) -> int:
    statement = select(func.count()).select_from(model)
    for name, value in where.items():
        statement = statement.where(getattr(model, name) == value)
    with engine_of(app).connect() as connection:
        return connection.execute(statement).scalar_one()


def rows(app, model, **where):
    from sqlalchemy.orm import Session

    with Session(engine_of(app)) as session:
        statement = select(model)
        for name, value in where.items():
            statement = statement.where(getattr(model, name) == value)
        return list(session.scalars(statement.order_by(model.id)))


MONDAY_MORNING = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(params=["embedded", "redis"])
def app(request, tmp_path):
    """The app on SQLite with the embedded store, and with the Redis store; the hall is open (a Monday 10:00)."""
    if request.param == "embedded":
        made = new_app(tmp_path)
    else:
        made = new_app(tmp_path, REDIS_URL=request.getfixturevalue("redis_url"))
    set_hall_clock(made, MONDAY_MORNING)
    return made


@pytest.fixture
def wechat(app):
    return WeChat(app.test_client())


class Dialogue:
    """A stand-in dialogue with a counter in its state; can be slow, fail, or return effects and more replies."""

    def __init__(self, delay: float = 0.0, effects=(), replies: tuple[str, ...] | None = None, fail_times: int = 0):
        self.delay, self.effects, self.replies, self.fail_times = delay, tuple(effects), replies, fail_times
        self.calls = []
        self.guard = threading.Lock()

    def __call__(self, state, message, env):
        with self.guard:
            self.calls.append(message)
            if self.fail_times:
                self.fail_times -= 1
                raise RuntimeError("the dialogue broke")
        state = dict(state or {"v": 1, "count": 0, "seen": []})
        time.sleep(self.delay)  # between reading and writing the state: a second turn at once would corrupt it
        state["count"] += 1
        state["seen"] = [*state["seen"], message.text]
        replies = self.replies if self.replies is not None else (f"第{state['count']}条：{message.text}",)
        return Turn(state=state, replies=replies, effects=self.effects)


@pytest.fixture
def use(monkeypatch):
    def install(dialogue):
        monkeypatch.setattr(dialogs.engine, "handle", dialogue, raising=False)
        return dialogue

    return install


def state_of(app, user):
    return gateway_of(app).store.get_state(user)


# ---- retries -----------------------------------------------------------------------------------------------


def test_a_retried_msgid_gets_the_same_reply_and_runs_once(app, wechat, use):
    dialogue = use(Dialogue())
    user = random_user()
    push = text(user, "你好", msg_id=uuid.uuid4().int >> 65)

    first = wechat.post(push)
    again = [wechat.post(push) for _ in range(3)]

    assert wechat.reply_text(first) == "第1条：你好"
    assert [wechat.reply_text(response) for response in again] == ["第1条：你好"] * 3
    assert len(dialogue.calls) == 1
    assert state_of(app, user)["count"] == 1


def test_a_retried_event_is_recognised_by_sender_and_time(wechat, use):
    dialogue = use(Dialogue())
    push = event(random_user(), "CLICK", "MENU_HELP", create_time=1_700_000_000)

    replies = {wechat.reply_text(wechat.post(push)) for _ in range(2)}

    assert len(replies) == 1 and len(dialogue.calls) == 1


def test_two_menu_buttons_tapped_within_one_second_are_both_answered(wechat, use):
    dialogue = use(Dialogue())
    user = random_user()
    book = wechat.post(event(user, "CLICK", "BOOK", create_time=1_700_000_000))
    human = wechat.post(event(user, "CLICK", "HUMAN", create_time=1_700_000_000))

    assert wechat.reply_text(book) != wechat.reply_text(human) and len(dialogue.calls) == 2


def test_a_retry_while_the_first_delivery_runs_waits_for_its_reply(wechat, use):
    dialogue = use(Dialogue(delay=0.6))
    push = text(random_user(), "慢一点")
    first = {}
    thread = threading.Thread(target=lambda: first.setdefault("response", wechat.post(push)))
    thread.start()
    time.sleep(0.2)

    retry = wechat.post(push)
    thread.join()

    assert wechat.reply_text(retry) == wechat.reply_text(first["response"]) == "第1条：慢一点"
    assert len(dialogue.calls) == 1


def test_a_duplicated_request_for_a_person_records_one_escalation(app, wechat):
    """The real dialogue: 转人工 sent and retried by WeChat gives one escalation row and the same reply."""
    user = random_user()
    push = text(user, "转人工")

    responses = [wechat.post(push) for _ in range(3)]

    # the same reply each time (the XML's CreateTime is the second each was sent in, so the text is compared)
    assert {response.status_code for response in responses} == {200}
    assert len({wechat.reply_text(response) for response in responses}) == 1
    assert wechat.reply_text(responses[0])
    [escalation] = rows(app, Escalation, openid=user)
    assert (escalation.status, escalation.reason) == ("waiting", "asked")
    assert escalation.created_at.tzinfo is not None


def test_a_failed_turn_answers_503_and_lets_the_retry_handle_the_message(app, wechat, use, caplog):
    dialogue = use(Dialogue(fail_times=1, effects=[Escalate("asked", None, None, "找人")]))
    user = random_user()
    push = text(user, "帮我找人")

    failed = wechat.post(push)
    retried = wechat.post(push)

    assert failed.status_code == 503
    assert wechat.reply_text(retried) == "第1条：帮我找人"
    assert len(dialogue.calls) == 2
    assert count(app, Escalation, openid=user) == 1
    assert user not in caplog.text and "帮我找人" not in caplog.text


# ---- the reply budget and the outbox --------------------------------------------------------------------------


@contextmanager
def locked_for(seconds: float, lock):
    """`lock()` takes a lock in the database on a connection of its own and returns how to let it go; a thread lets
    it go after `seconds` whatever the test does meanwhile (a request that waited on it would not hang the test)."""
    taken = threading.Event()

    def hold():
        let_go = lock()
        taken.set()
        time.sleep(seconds)
        let_go()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    assert taken.wait(10)
    yield
    thread.join(timeout=10)


def sqlite_written(app):
    """A long write transaction on the app's SQLite database: every other write waits for it."""
    blocker = sqlite3.connect(engine_of(app).url.database, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")
    return lambda: (blocker.execute("COMMIT"), blocker.close())


def cases_locked(app):
    """PostgreSQL's cases table locked by a long transaction (a migration, say): even reading it waits."""
    connection = engine_of(app).connect()
    connection.execute(sql_text("LOCK TABLE cases IN ACCESS EXCLUSIVE MODE"))
    return lambda: (connection.rollback(), connection.close())


def wait_for_outbox(app, user):
    """The citizen's outbox rows, once there is one (at most 10 s)."""
    deadline = time.monotonic() + 10
    while count(app, OutboxMessage, openid=user) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    return rows(app, OutboxMessage, openid=user)


def test_a_turn_held_up_by_the_database_answers_success_and_delivers_through_the_outbox(tmp_path, use):
    app = new_app(tmp_path, BANGBAN_REPLY_BUDGET_SECONDS="0.2")
    wechat = WeChat(app.test_client())
    dialogue = use(Dialogue())
    user = random_user()
    push = text(user, "数据库很慢时的问题")  # a citizen's first message: its sending window is written

    with locked_for(0.8, lambda: sqlite_written(app)):
        started = time.monotonic()
        response = wechat.post(push)
        answered_in = time.monotonic() - started

    assert response.get_data(as_text=True) == "success"
    assert answered_in < 0.7
    [late] = wait_for_outbox(app, user)
    assert (late.payload, late.reason) == ("第1条：数据库很慢时的问题", "late_reply")

    retry = wechat.post(push)  # WeChat does not retry after success, but if it did: no second delivery
    assert retry.get_data(as_text=True) == "success"
    time.sleep(0.1)
    assert count(app, OutboxMessage, openid=user) == 1
    assert len(dialogue.calls) == 1
    assert state_of(app, user)["count"] == 1


def test_a_question_that_reads_the_cases_while_postgresql_is_locked_is_answered_through_the_outbox(
        tmp_path, postgres_url):
    app = new_app(tmp_path, DATABASE_URL=postgres_url, BANGBAN_REPLY_BUDGET_SECONDS="0.3")
    wechat = WeChat(app.test_client())
    user = random_user()
    wechat.post(text(user, "你好"))  # the sending window is written: what follows only reads the cases

    with locked_for(1.0, lambda: cases_locked(app)):
        started = time.monotonic()
        response = wechat.post(text(user, "查进度"))
        answered_in = time.monotonic() - started

    assert response.get_data(as_text=True) == "success"
    assert answered_in < 0.9
    [late] = wait_for_outbox(app, user)
    assert late.reason == "late_reply" and "没有" in late.payload  # this citizen has no case


def test_replies_after_the_first_go_to_the_outbox_in_order(app, wechat, use):
    use(Dialogue(replies=("第一段", "第二段", "第三段")))
    user = random_user()

    response = wechat.post(text(user, "长问题"))

    assert wechat.reply_text(response) == "第一段"
    assert [(row.payload, row.reason) for row in rows(app, OutboxMessage, openid=user)] == [
        ("第二段", "reply"), ("第三段", "reply")]


def test_a_message_opens_the_users_sending_window(app, wechat, use):
    use(Dialogue())
    user = random_user()

    wechat.post(text(user, "你好", create_time=1_700_000_000))

    from sqlalchemy.orm import Session

    with Session(engine_of(app)) as session:
        window = session.get(UserWindow, user)
    assert window is not None and window.last_user_message_at is not None


def test_a_turn_that_failed_does_not_keep_the_next_message_from_opening_the_window(app, wechat, use):
    use(Dialogue(fail_times=1))
    user = random_user()

    assert wechat.post(text(user, "你好")).status_code == 503  # WeChat will try again
    wechat.post(text(user, "你好"))

    assert count(app, UserWindow, openid=user) == 1


def test_writing_again_after_staff_used_up_the_allowance_lets_the_held_message_go(app, wechat, use):
    """A chat writes its window once in a while, not per message; a send into the window makes the next message
    write it again, so the citizen who answers gets the staff's further messages."""
    from bot.db import session_factory
    from bot.outbox import enqueue_text
    from bot.wechat_api import WeChatAPI
    from bot.worker import Worker
    from fake_wechat import FakeWeChat

    use(Dialogue())
    user = random_user()
    wechat.post(text(user, "你好"))
    wechat.post(text(user, "还有一个问题"))
    sessions = session_factory(engine_of(app))
    with sessions.begin() as session:
        for number in range(6):
            enqueue_text(session, user, f"工作人员的第{number + 1}条回复", "staff_reply")
    with FakeWeChat() as fake:
        worker = Worker(sessions, WeChatAPI(fake.app_id, fake.secret, base_url=fake.url),
                        window_marks=gateway_of(app).store)
        done = worker.run_once()
        assert (done.sent, done.held) == (5, 1)

        wechat.post(text(user, "收到，谢谢"))

        assert worker.run_once().sent == 1
        assert [content for _, content in fake.sent][-1] == "工作人员的第6条回复"


def test_a_question_asked_again_is_answered_alike_from_the_recent_questions(app, wechat):
    consult = gateway_of(app).runner.consult
    question = "结婚登记要带什么材料"
    first = wechat.reply_text(wechat.post(text(random_user(), question)))
    remembered = consult.cache_info().hits

    again = wechat.reply_text(wechat.post(text(random_user(), question)))

    assert "结婚登记" in first and again == first
    assert consult.cache_info().hits > remembered  # not matched a second time


# ---- one user at a time ---------------------------------------------------------------------------------------


def test_a_burst_of_one_users_messages_is_handled_one_at_a_time(app, use):
    dialogue = use(Dialogue(delay=0.02))
    user = random_user()
    words = [f"消息{i}" for i in range(12)]
    answers = {}

    def send(word):
        answers[word] = WeChat(app.test_client()).post(text(user, word))

    threads = [threading.Thread(target=send, args=(word,)) for word in words]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    state = state_of(app, user)
    assert state["count"] == len(words)
    assert sorted(state["seen"]) == sorted(words)
    assert len(dialogue.calls) == len(words)
    replies = [WeChat(None).reply_text(answers[word]) for word in words]
    assert sorted(int(reply[1:reply.index("条")]) for reply in replies) == list(range(1, len(words) + 1))


def test_a_burst_that_outlasts_the_budget_loses_nothing(tmp_path, use):
    """Messages queued behind the user's lock past the budget answer success; their replies go to the outbox."""
    app = new_app(tmp_path, BANGBAN_REPLY_BUDGET_SECONDS="0.5")
    use(Dialogue(delay=0.2))  # one after another, the fourth cannot start before 0.6 s: it is late on any machine
    WeChat(app.test_client()).post(text(random_user(), "预热"))  # first-turn costs (schema, imports) paid elsewhere
    user = random_user()
    words = [f"消息{i}" for i in range(6)]
    answers = []

    def send(word):
        answers.append(WeChat(app.test_client()).post(text(user, word)))

    threads = [threading.Thread(target=send, args=(word,)) for word in words]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    deadline = time.monotonic() + 10
    while (state_of(app, user) or {}).get("count") != len(words) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.1)

    passive = [reply for reply in (WeChat(None).reply_text(answer) for answer in answers) if reply is not None]
    late = [row.payload for row in rows(app, OutboxMessage, openid=user)]
    assert late, "the last of the burst went over the budget and out through the outbox"
    assert sorted(int(reply[1:reply.index("条")]) for reply in passive + late) == list(range(1, len(words) + 1))
    assert sorted(state_of(app, user)["seen"]) == sorted(words)


class Meeting(Dialogue):
    """Every turn waits until all `parties` turns are in the dialogue at once: only turns run side by side meet."""

    def __init__(self, parties: int):
        super().__init__()
        self.barrier = threading.Barrier(parties, timeout=20)
        self.met = 0

    def __call__(self, state, message, env):
        self.barrier.wait()  # a turn held up by another user's would never arrive: BrokenBarrierError for all
        with self.guard:
            self.met += 1
        return super().__call__(state, message, env)


def test_two_users_are_not_held_up_by_each_other(app, use):
    meeting = use(Meeting(4))
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(WeChat(app.test_client()).post(
        text(random_user(), "你好")))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert meeting.met == 4  # the four users' turns were in the dialogue at the same time
    assert len(answers) == 4


# ---- effects --------------------------------------------------------------------------------------------------


def test_an_escalation_is_recorded_for_staff(app, wechat, use):
    use(Dialogue(effects=[Escalate("misunderstood", "item-42", "2026.1", "在哪里办结婚证")]))
    user = random_user()

    wechat.post(text(user, "在哪里办结婚证"))

    [row] = rows(app, Escalation, openid=user)
    assert (row.item_id, row.catalogue_version, row.reason, row.last_question, row.status) == (
        "item-42", "2026.1", "misunderstood", "在哪里办结婚证", "waiting")


def test_a_kept_photo_is_recorded_by_media_id(app, wechat, use):
    use(Dialogue(effects=[KeepMedia("MEDIA_ID_1", note="身份证正面")]))
    user = random_user()

    wechat.post(push_xml(user, "image", {"PicUrl": "http://x/p.jpg", "MediaId": "MEDIA_ID_1"}, msg_id=next_msg_id()))

    [row] = rows(app, KeptMedia, openid=user)
    assert (row.media_id, row.note) == ("MEDIA_ID_1", "身份证正面")
    assert row.received_at is not None


def test_forget_user_drops_the_state_but_keeps_the_records(app, wechat, use):
    user = random_user()
    use(Dialogue(effects=[Escalate("asked", None, None, "转人工")]))
    wechat.post(text(user, "转人工"))
    assert state_of(app, user) is not None

    use(Dialogue(effects=[ForgetUser()]))
    wechat.post(event(user, "unsubscribe"))

    assert state_of(app, user) is None
    assert count(app, Escalation, openid=user) == 1


def test_state_is_kept_for_the_idle_time_and_a_margin(app, wechat, use):
    use(Dialogue())
    user = random_user()
    wechat.post(text(user, "你好"))
    store = gateway_of(app).store

    ttl = gateway_of(app).runner.state_ttl
    assert ttl > 30 * 60
    if hasattr(store, "_redis"):
        assert 30 * 60 * 1000 < store._redis("PTTL", f"bangban:state:{user}") <= ttl * 1000


# ---- the real dialogue, through the whole gateway ---------------------------------------------------------------


def test_a_question_about_an_item_is_answered_with_it(wechat):
    reply = wechat.reply_text(wechat.post(text(random_user(), "结婚登记要带什么")))

    assert "结婚登记" in reply


def test_a_follow_is_welcomed_with_the_halls_name(app, wechat):
    hall_name = gateway_of(app).runner.knowledge_base.hall.hall.name

    for push in (event(random_user(), "subscribe"), event(random_user(), "subscribe", "qrscene_7", Ticket="T")):
        reply = wechat.reply_text(wechat.post(push))
        assert hall_name in reply


def test_unfollowing_drops_the_conversation(app, wechat):
    user = random_user()
    wechat.post(text(user, "结婚登记要带什么"))
    assert state_of(app, user) is not None

    response = wechat.post(event(user, "unsubscribe"))

    assert response.get_data(as_text=True) == "success"
    assert state_of(app, user) is None


def test_escalations_are_recorded_once_on_postgresql(tmp_path, postgres_url):
    app = new_app(tmp_path, DATABASE_URL=postgres_url)
    wechat = WeChat(app.test_client())
    user = random_user()
    push = text(user, "转人工")

    replies = {wechat.post(push).get_data(as_text=True) for _ in range(2)}

    assert len(replies) == 1
    assert count(app, Escalation, openid=user) == 1
    assert count(app, UserWindow, openid=user) == 1
