"""The real app under gunicorn (3 gthread workers × 8 threads, the Procfile's command otherwise) on real Redis and
PostgreSQL: a burst of one citizen's messages spread over the workers keeps the conversation state consistent,
answers a retry as the first time, records one escalation per 转人工 and loses no reply; many citizens at once get
no 5xx.

The database is a schema of its own (dropped afterwards), so rows from other tests cannot mix in; users and MsgIds
are random, and their Redis keys are deleted afterwards.
"""
from __future__ import annotations

import itertools
import json
import os
import re
import secrets
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest
from sqlalchemy import create_engine, func, select, text as sql
from sqlalchemy.engine import make_url

from bot.escalations import Escalation
from bot.outbox import OutboxMessage
from bot.wechat.pushes import ACCOUNT, Pusher, push_xml, text as text_push
from dialogs.state import load
from dialogs.wording import MISS_OFFER, VOICE_NOT_HEARD
from gunicorn_server import ROOT, Gunicorn
from wechat_builders import random_user

WORKERS, THREADS = 3, 8  # every message of a burst is in flight at once, in three processes
BUDGET_SECONDS = 1.0  # the reply budget (default 4 s): short, so that the test can push turns past it quickly
STORE_PREFIX = "bangban:"  # bot/store.py RedisStore's key prefix
ESCALATED = "工作人员"  # in every reply to 转人工 (dialogs/wording.py queued_text, still_queued_text)

# One citizen's burst: consultation, follow-ups about the item being discussed, numbered choices, 转人工 twice.
BURST = ["结婚登记要带什么材料", "居住证怎么办理", "在哪办", "电话多少", "要带什么材料", "转人工", "身份证丢了怎么补",
         "社保卡坏了去哪里换", "1", "公积金怎么提取", "小孩出生了怎么上户口", "离婚登记", "低保怎么申请", "转人工",
         "新房子要装水表", "多久能办好", "预约", "出生医学证明", "2", "谢谢"]
STALLED = ["结婚登记要带什么", "转人工", "在哪办", "低保怎么申请", "居住证多久能拿到", "谢谢"]


# ---- the server ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def database(postgres_url):
    """A fresh schema in the test database: (URL whose connections use it, engine for the checks)."""
    schema = f"burst_{secrets.token_hex(6)}"
    admin = create_engine(postgres_url)
    with admin.begin() as connection:
        connection.execute(sql(f'CREATE SCHEMA "{schema}"'))
    url = make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
    url = url.render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        yield url, engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(sql(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="module")
def redis_client(redis_url):
    import redis

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    made: list[str] = []
    client.made_by_test = made  # keys to delete afterwards
    yield client
    for start in range(0, len(made), 500):
        client.delete(*made[start:start + 500])
    client.close()


@pytest.fixture(scope="module")
def server(database, redis_url, tmp_path_factory):
    directory = tmp_path_factory.mktemp("gunicorn")
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("WECHAT_", "BANGBAN_", "DATABASE_", "REDIS_", "GUNICORN_", "WEB_CONCURRENCY"))}
    env.update(DATABASE_URL=database[0], REDIS_URL=redis_url, BANGBAN_DATA_DIR=str(directory / "data"),
               BANGBAN_REPLY_BUDGET_SECONDS=str(BUDGET_SECONDS), LOG_LEVEL="WARNING")  # development credentials
    gunicorn = Gunicorn("bot:create_app()", env, directory, workers=WORKERS, worker_class="gthread",
                        threads=THREADS, cwd=ROOT)
    try:
        gunicorn.start()
        gunicorn.wait_until_ready()
        yield gunicorn
    finally:
        gunicorn.stop()
    log = gunicorn.log()
    assert not any(sign in log for sign in ("Traceback", "WORKER TIMEOUT", "failed", "lost")), log[-4000:]


# ---- talking to it like WeChat ---------------------------------------------------------------------------------


class Citizen:
    """One citizen's pushes, signed as WeChat signs them (development token, plain mode), and their answers."""

    def __init__(self, server: Gunicorn, redis_client) -> None:
        self.server = server
        self.wechat = Pusher(nonces=itertools.count(secrets.randbelow(10**9)))  # thread-safe, unlike the default
        self.user = random_user()
        redis_client.made_by_test.extend([f"{STORE_PREFIX}state:{self.user}", f"{STORE_PREFIX}lock:{self.user}"])
        self._redis = redis_client

    def push(self, content: str) -> tuple[int, str]:
        """A text push with a fresh MsgId: (MsgId, XML)."""
        msg_id = self._msg_id()
        return msg_id, text_push(self.user, content, msg_id=msg_id)

    def voice_not_recognised(self) -> tuple[int, str]:
        """A voice message without Recognition (speech recognition off): the assistant cannot use it."""
        msg_id = self._msg_id()
        return msg_id, push_xml(self.user, "voice", {"MediaId": f"media-{msg_id}", "Format": "amr"}, msg_id=msg_id)

    def _msg_id(self) -> int:
        msg_id = uuid.uuid4().int >> 65
        self._redis.made_by_test.append(f"{STORE_PREFIX}claim:msg:{msg_id}")
        return msg_id

    def post(self, xml: str) -> tuple[int, bytes]:
        query, body = self.wechat.request(xml, openid=self.user)
        return self.server.request("POST", "/wechat?" + urlencode(query), body, timeout=30)

    def reply(self, answer: tuple[int, bytes]) -> str | None:
        """The text of a passive reply (checked to be WeChat's text reply to this citizen), None for "success"."""
        status, body = answer
        assert status == 200, (status, body[:200])
        if body == b"success":
            return None
        fields = self.wechat.read_reply(body.decode("utf-8"))
        assert fields is not None, body
        assert (fields["ToUserName"], fields["FromUserName"], fields["MsgType"]) == (self.user, ACCOUNT, "text")
        assert fields["CreateTime"].isdigit() and fields["Content"].strip()
        return fields["Content"]


def at_once(calls) -> list:
    """Runs the calls in threads released together; their results in order (an exception is re-raised)."""
    results: list = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(index, call):
        start.wait()
        try:
            results[index] = call()
        except BaseException as exc:  # noqa: BLE001 - reported below
            results[index] = exc

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def without_create_time(body: bytes) -> bytes:
    """A passive reply carries the second it was rendered in (CreateTime): a retry in another second differs there."""
    return re.sub(rb"<CreateTime>\d+</CreateTime>", b"<CreateTime/>", body)


def count(engine, model, **where) -> int:
    statement = select(func.count()).select_from(model)
    for name, value in where.items():
        statement = statement.where(getattr(model, name) == value)
    with engine.connect() as connection:
        return connection.execute(statement).scalar_one()


def late_replies(engine, user: str) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(
            select(OutboxMessage.payload).where(OutboxMessage.openid == user, OutboxMessage.reason == "late_reply")
            .order_by(OutboxMessage.id)).scalars())


def wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {seconds:g} s: {what}")
        time.sleep(0.05)


class CatalogueIds:
    """Just enough of a Catalogue for dialogs.state.load: the bundled item ids."""

    def __init__(self) -> None:
        directory = ROOT / "knowledge" / "data" / "catalogue"
        self.ids = {json.loads(line)["id"] for path in sorted(directory.glob("*.jsonl"))
                    for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}

    def get(self, item_id):
        return item_id if item_id in self.ids else None


def assert_valid_state(redis_client, user: str, texts: list[str], since: datetime) -> dict:
    raw = redis_client.get(f"{STORE_PREFIX}state:{user}")
    assert raw is not None, "no conversation state in Redis"
    stored = json.loads(raw)
    loaded = load(stored, datetime.now(timezone.utc), 30, CatalogueIds())
    assert loaded.valid and not loaded.expired, stored
    assert loaded.state == stored, "the stored state is not in the engine's schema (dialogs/state.py)"
    assert stored["asked"] is None or stored["asked"] in texts
    updated = datetime.fromisoformat(stored["updated"])
    assert since - timedelta(seconds=5) <= updated <= datetime.now(timezone.utc) + timedelta(seconds=5)
    return stored


# ---- the tests -------------------------------------------------------------------------------------------------


def test_a_burst_of_one_citizens_messages_across_the_workers_keeps_state_and_loses_nothing(
        server, database, redis_client):
    engine = database[1]
    citizen = Citizen(server, redis_client)
    began = datetime.now(timezone.utc)
    served_before = len(server.access_log())

    # 1. Twenty messages at once, each its own MsgId, plus the same push delivered twice at the same moment (two
    #    copies of 转人工 among them), plus WeChat-style retries: sent again as soon as the first answer came back.
    pushes = [citizen.push(content) for content in BURST]
    twins = [pushes[i] for i in (0, 5, 9, 16)]  # 5: 转人工
    retried = {pushes[i][0] for i in (2, 13, 18)}  # 13: the other 转人工

    def deliver(msg_id, body):
        first = citizen.post(body)
        return [first, citizen.post(body)] if msg_id in retried else [first]

    answers: dict[int, list[tuple[int, bytes]]] = {}
    for (msg_id, _), got in zip(pushes + twins, at_once([lambda p=p: deliver(*p) for p in pushes + twins])):
        answers.setdefault(msg_id, []).extend(got)

    # 2. The same citizen again while a turn of theirs is stuck past the budget (the test holds their lock, as a
    #    stalled worker would): every answer is "success", every reply must come later through the outbox.
    lock_key, token = f"{STORE_PREFIX}lock:{citizen.user}", secrets.token_hex(8)
    wait_for(lambda: redis_client.set(lock_key, token, nx=True, px=30_000), 10, "the citizen's lock to be free")
    try:
        stalled = [citizen.push(content) for content in STALLED]
        twin = stalled[1]  # 转人工, delivered twice at once
        late = at_once([lambda p=p: citizen.post(p[1]) for p in stalled + [twin]])
    finally:
        if redis_client.get(lock_key) == token:
            redis_client.delete(lock_key)
    for (msg_id, _), got in zip(stalled + [twin], late):
        answers.setdefault(msg_id, []).append(got)
    retry_of_stalled = citizen.post(stalled[0][1])
    answers[stalled[0][0]].append(retry_of_stalled)

    # Every request: 200 with WeChat's text reply to this citizen, or "success".
    replies = {msg_id: [citizen.reply(answer) for answer in got] for msg_id, got in answers.items()}
    assert len(replies) == len(BURST) + len(STALLED)
    for msg_id, _ in stalled:
        assert replies[msg_id] == [None] * len(replies[msg_id]), "answered while the citizen's turn was stuck"

    # A retry got the first answer again, byte for byte but for the second it was rendered in.
    for msg_id, got in answers.items():
        if msg_id in retried or msg_id == stalled[0][0]:
            assert len({without_create_time(body) for _, body in got}) == 1, replies[msg_id]
    # Two copies at once: one turn, so never two different texts (a copy still waiting when the budget ran out
    # answers "success" while the first one is finishing: WeChat's own retries come 5 s apart, after the budget).
    for msg_id, _ in twins + [twin]:
        assert len({without_create_time(body) for _, body in answers[msg_id] if body != b"success"}) <= 1

    # The burst really went across the workers.
    pids = {pid for pid, method, _, path in server.access_log()[served_before:] if path == "/wechat"}
    assert len(pids) >= 2, f"the whole burst went to one worker ({pids})"

    # Nothing lost: each MsgId answered with text, or its reply went to the outbox (once the stuck turn let go).
    unanswered = [msg_id for msg_id, texts in replies.items() if not any(texts)]
    assert len(unanswered) >= len(STALLED)
    wait_for(lambda: len(late_replies(engine, citizen.user)) >= len(unanswered) and
             not redis_client.exists(lock_key), 20, f"{len(unanswered)} late replies in the outbox")
    time.sleep(0.3)  # nothing more may come
    assert len(late_replies(engine, citizen.user)) == len(unanswered)

    # One place in the queue for the citizen, however often and in how many messages they asked.
    human = [msg_id for msg_id, xml in pushes + stalled if "转人工" in xml]
    assert len(human) == 3
    assert count(engine, Escalation, openid=citizen.user) == 1
    answered_human = sum(1 for msg_id in human if any(replies[msg_id]))
    assert all(ESCALATED in reply for msg_id in human for reply in replies[msg_id] if reply)
    assert sum(ESCALATED in reply for reply in late_replies(engine, citizen.user)) >= len(human) - answered_human

    # The conversation state is one the engine wrote: valid JSON of dialogs/state.py, updated by this burst.
    assert_valid_state(redis_client, citizen.user, BURST + STALLED, began)


def test_a_burst_counts_every_message_of_the_citizen_once(server, database, redis_client):
    """The state carries a counter (messages in a row not understood): twelve at once across the workers, each read
    and written under the citizen's lock, count up in order: the third brings the offer of a person, the fourth
    puts the citizen in the queue (once), the later ones are answered while they wait."""
    citizen = Citizen(server, redis_client)
    pushes = [citizen.voice_not_recognised() for _ in range(12)]
    began = datetime.now(timezone.utc)

    replies = [citizen.reply(answer) for answer in at_once([lambda b=body: citizen.post(b) for _, body in pushes])]
    wait_for(lambda: not redis_client.exists(f"{STORE_PREFIX}lock:{citizen.user}") and
             len(late_replies(database[1], citizen.user)) == replies.count(None), 20, "late turns to finish")

    texts = [reply for reply in replies if reply] + late_replies(database[1], citizen.user)
    escalated = [reply for reply in texts if "已请工作人员来帮您" in reply]
    assert len(texts) == len(pushes) and len(escalated) == 1
    assert all(VOICE_NOT_HEARD in reply for reply in texts if reply not in escalated)
    assert sum(reply.startswith(MISS_OFFER) for reply in texts) == 1
    assert count(database[1], Escalation, openid=citizen.user) == 1
    state = assert_valid_state(redis_client, citizen.user, [], began)
    assert state["human"]["status"] == "waiting" and state["human"]["id"] is not None


def test_many_citizens_at_once_get_answers_and_no_server_errors(server, redis_client):
    citizens = [Citizen(server, redis_client) for _ in range(8)]
    questions = ["结婚登记要带什么", "在哪办", "转人工", "谢谢"]
    began = datetime.now(timezone.utc)
    sends = [(citizen, citizen.push(question)[1]) for citizen in citizens for question in questions]

    answers = at_once([lambda c=c, b=b: c.post(b) for c, b in sends])

    assert [status for status, _ in answers] == [200] * len(sends), [body[:100] for _, body in answers]
    for (citizen, _), answer in zip(sends, answers):
        citizen.reply(answer)
    for citizen in citizens:
        wait_for(lambda c=citizen: not redis_client.exists(f"{STORE_PREFIX}lock:{c.user}"), 20, "turns to finish")
        assert_valid_state(redis_client, citizen.user, questions, began)
