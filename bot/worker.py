"""`bangban worker`: delivers the outbox (bot/outbox.py) through WeChat's customer-service message API.

Each round: messages left in "sending" by a worker that died are marked failed (delivery unknown — never sent
twice); then due messages are taken one at a time, oldest first, and only the oldest pending message of each user
(so the parts of a long answer arrive in order). Taking a message is a conditional UPDATE from queued/held to
sending, after `SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL, so several workers never take the same one.

Before sending, one message is counted against the user's allowance with a conditional UPDATE (the minute after a
click or follow first, then the 48 h window after a message): not more than 3 in that minute, 5 in 48 h. With no
allowance left but a window open the message is held; with no window open it is undeliverable. The count is given
back if the send fails and will be retried.

A failed send is retried after 10 s, 30 s, 2 min and 10 min, then the message is failed. WeChat's 45015 (out of
the 48 h window or unfollowed), 45047 (quota) and a few other final answers make it undeliverable at once.
Logs name users only by `mask_openid`.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Callable

from sqlalchemy import exists, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import aliased, sessionmaker

from .outbox import (EVENT_QUOTA, FAILED, HELD, MESSAGE_QUOTA, PENDING, QUEUED, SENDING, SENT, SUBSCRIPTION,
                     UNDELIVERABLE, OutboxMessage, UserWindow, mask_openid, quota_of, utcnow, window_mark)
from .wechat_api import UNDELIVERABLE_ERRCODES, WeChatAPIError, WeChatUnavailable, scrub

if TYPE_CHECKING:
    from .store import ConversationStore

log = logging.getLogger(__name__)

BACKOFF = (10, 30, 120, 600)  # seconds to wait after the 1st, 2nd, 3rd, 4th failed attempt; the 5th gives up
LEASE = timedelta(minutes=5)  # a message "sending" for longer than this belongs to a worker that died
HOLD_RECHECK = timedelta(minutes=1)  # a held message is looked at again this often (and when the user writes)
BATCH = 50  # messages at most per round
CHORE_SECONDS = 30  # how often the chores (reminders, expired handoffs) run

HELD_WHY = (f"held: the user's allowance is used up ({MESSAGE_QUOTA} within 48 h of their last message, {EVENT_QUOTA} "
            "within a minute of a menu click or follow); it goes when they write again")
INTERRUPTED_WHY = "a worker stopped while sending it: delivery unknown, so it is not sent again"
NO_WINDOW_WHY = ("undeliverable: the user has not written within 48 h (nor clicked the menu or followed within a "
                 "minute), so WeChat accepts no customer-service message")


@dataclass(frozen=True)
class _Claim:
    id: int
    openid: str
    payload: str
    reason: str
    attempts: int
    claimed_at: datetime
    slot: str | None  # None: a subscription message, which counts against no window
    slot_opened_at: datetime | None
    kind: str = "text"


@dataclass(frozen=True)
class _Refusal:
    status: str  # HELD or UNDELIVERABLE
    next_attempt_at: datetime
    why: str


@dataclass
class Round:
    """What one round did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    undeliverable: int = 0
    held: int = 0
    interrupted: int = 0  # found "sending" past the lease: marked failed
    ids: dict[str, list[int]] = field(default_factory=dict)

    @property
    def worked(self) -> bool:
        return bool(self.sent or self.retried or self.failed or self.undeliverable or self.interrupted)

    def count(self, outcome: str, message_id: int) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)
        self.ids.setdefault(outcome, []).append(message_id)


class Worker:
    """Sends due outbox messages with `api.send_text(openid, text)`; safe to run in several processes at once."""

    def __init__(self, sessions: sessionmaker, api, *, name: str | None = None,
                 clock: Callable[[], datetime] = utcnow, backoff: tuple[int, ...] = BACKOFF,
                 lease: timedelta = LEASE, chores: tuple[Callable[[], object], ...] = (),
                 window_marks: "ConversationStore | None" = None):
        self.sessions = sessions
        self.window_marks = window_marks  # the gateway's store: a send into a window makes its mark stale
        self.chores = chores  # run between rounds (bot/chores.py): reminders, handoffs nobody took, photos
        self._chores_due = 0.0
        self.api = api
        self.clock = clock
        self.backoff = backoff
        self.lease = lease
        self.name = (name or f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:6]}")[:64]

    # ---- the loop -------------------------------------------------------------------------------------------
    def run_forever(self, poll_seconds: float, stop: threading.Event) -> None:
        """Rounds until `stop` is set; waits `poll_seconds` after a round that found nothing to do."""
        log.info("outbox worker %s: started, polling every %.1f s", self.name, poll_seconds)
        while not stop.is_set():
            self._run_chores()
            try:
                done = self.run_once()
            except Exception:  # the database or Redis went away: say so, wait, try again
                log.exception("outbox worker %s: round failed; trying again in %.1f s", self.name, poll_seconds)
                done = None
            if done is None or not done.worked:
                stop.wait(poll_seconds)
        log.info("outbox worker %s: stopped", self.name)

    def _run_chores(self) -> None:
        """The chores every CHORE_SECONDS; those marked `each_round` (fetching photos) on every round."""
        import time

        timed = time.monotonic() >= self._chores_due
        if timed:
            self._chores_due = time.monotonic() + CHORE_SECONDS
        for chore in self.chores:
            if not (timed or getattr(chore, "each_round", False)):
                continue
            try:
                chore()
            except Exception:  # one chore failing must not stop the outbox
                log.exception("worker %s: %s failed; trying again later", self.name,
                              getattr(chore, "__name__", "a chore"))

    def run_once(self, limit: int = BATCH) -> Round:
        done = Round()
        self._reap(done)
        for _ in range(limit):
            try:
                claim = self._claim(done)
            except OperationalError as exc:  # SQLite: another writer holds the database; next round
                log.warning("outbox worker %s: could not take a message: %s", self.name,
                            scrub(str(getattr(exc, "orig", exc))))
                break
            if claim is None:
                break
            if isinstance(claim, _Claim):
                if claim.slot == "message" and self.window_marks is not None:
                    # counted: the user's next message must write the window again (bot/outbox.py)
                    self.window_marks.release(window_mark(claim.openid))
                self._deliver(claim, done)
        return done

    # ---- taking a message -----------------------------------------------------------------------------------
    def _reap(self, done: Round) -> None:
        now = self.clock()
        with self.sessions.begin() as session:
            rows = session.scalars(
                update(OutboxMessage)
                .where(OutboxMessage.status == SENDING, OutboxMessage.claimed_at < now - self.lease)
                .values(status=FAILED,
                        last_error=INTERRUPTED_WHY)
                .returning(OutboxMessage.id)
                .execution_options(synchronize_session=False)).all()
        for message_id in rows:
            log.warning("outbox: message %s was left in sending by a stopped worker; marked failed", message_id)
            done.count("interrupted", message_id)

    def _claim(self, done: Round) -> _Claim | str | None:
        """The next due message, taken and counted against its user's allowance; or "held"/"undeliverable" when
        there was one that cannot go; or None when nothing is due."""
        now = self.clock()
        earlier = aliased(OutboxMessage)
        blocked = exists().where(earlier.openid == OutboxMessage.openid, earlier.id < OutboxMessage.id,
                                 earlier.status.in_(PENDING), earlier.due_at <= now)
        candidates = (
            select(OutboxMessage.id, OutboxMessage.openid, OutboxMessage.status, OutboxMessage.payload,
                   OutboxMessage.reason, OutboxMessage.attempts, OutboxMessage.kind)
            .where(OutboxMessage.status.in_((QUEUED, HELD)), OutboxMessage.next_attempt_at <= now, ~blocked)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(1)
            .with_for_update(skip_locked=True, of=OutboxMessage)
        )
        for _ in range(5):  # another worker may take the candidate between the SELECT and the UPDATE (SQLite)
            with self.sessions.begin() as session:
                row = session.execute(candidates).first()
                if row is None:
                    return None
                taken = session.execute(
                    update(OutboxMessage).where(OutboxMessage.id == row.id, OutboxMessage.status == row.status)
                    .values(status=SENDING, claimed_by=self.name, claimed_at=now)
                    .execution_options(synchronize_session=False))
                if taken.rowcount != 1:
                    continue
                if row.kind == SUBSCRIPTION:  # the citizen agreed to it: no customer-service window needed
                    return _Claim(row.id, row.openid, row.payload, row.reason, row.attempts, now, None, None,
                                  SUBSCRIPTION)
                slot = self._reserve(session, row.openid, now)
                if isinstance(slot, tuple):
                    session.execute(
                        update(OutboxMessage).where(OutboxMessage.id == row.id)
                        .values(slot=slot[0], slot_opened_at=slot[1])
                        .execution_options(synchronize_session=False))
                    return _Claim(row.id, row.openid, row.payload, row.reason, row.attempts, now, *slot)
                status, next_at, why = slot.status, slot.next_attempt_at, slot.why
                session.execute(
                    update(OutboxMessage).where(OutboxMessage.id == row.id)
                    .values(status=status, next_attempt_at=next_at, last_error=why, claimed_by=None,
                            claimed_at=None)
                    .execution_options(synchronize_session=False))
            if status == UNDELIVERABLE:
                log.warning("outbox: message %s (%s) to %s is undeliverable: %s", row.id, row.reason,
                            mask_openid(row.openid), why)
            elif row.status != HELD:
                log.info("outbox: message %s (%s) to %s held: %s", row.id, row.reason, mask_openid(row.openid), why)
            done.count("undeliverable" if status == UNDELIVERABLE else "held", row.id)
            return status
        return None

    def _reserve(self, session, openid: str, now: datetime):
        """Count one message against `openid`'s allowance: ("event"|"message", when that window opened), or a
        _Refusal when nothing may go now."""
        for _ in range(3):  # the user may write or click again meanwhile: read the window again
            window = session.execute(select(UserWindow).where(UserWindow.openid == openid)
                                     .execution_options(populate_existing=True)).scalar_one_or_none()
            allowance = quota_of(window, now)
            if allowance.event_remaining and self._count(session, openid, "event", window.last_event_at):
                return ("event", window.last_event_at)
            if allowance.message_remaining and self._count(session, openid, "message", window.last_user_message_at):
                return ("message", window.last_user_message_at)
            if not allowance.remaining:
                break
        if allowance.open_until is not None:
            return _Refusal(HELD, min(allowance.open_until, now + HOLD_RECHECK), HELD_WHY)
        return _Refusal(UNDELIVERABLE, now, NO_WINDOW_WHY)

    @staticmethod
    def _count(session, openid: str, slot: str, opened_at: datetime, step: int = 1) -> bool:
        stamp, counter, limit = ((UserWindow.last_event_at, UserWindow.event_window_count, EVENT_QUOTA)
                                 if slot == "event" else
                                 (UserWindow.last_user_message_at, UserWindow.messages_since, MESSAGE_QUOTA))
        condition = counter < limit if step > 0 else counter > 0
        result = session.execute(
            update(UserWindow).where(UserWindow.openid == openid, stamp == opened_at, condition)
            .values({counter: counter + step}).execution_options(synchronize_session=False))
        return result.rowcount == 1

    # ---- sending --------------------------------------------------------------------------------------------
    def _deliver(self, claim: _Claim, done: Round) -> None:
        who = mask_openid(claim.openid)
        try:
            if claim.kind == SUBSCRIPTION:
                self.api.send_subscription(claim.openid, json.loads(claim.payload))
            else:
                self.api.send_text(claim.openid, claim.payload)
        except WeChatAPIError as exc:
            error = f"errcode {exc.errcode}: {exc.errmsg}"
            if exc.undeliverable:
                reason = UNDELIVERABLE_ERRCODES[exc.errcode]
                self._finish(claim, UNDELIVERABLE, f"undeliverable: WeChat said {error} ({reason})")
                log.warning("outbox: message %s (%s) to %s undeliverable: %s", claim.id, claim.reason, who, error)
                done.count("undeliverable", claim.id)
                return
            self._retry(claim, error, done)
        except WeChatUnavailable as exc:
            self._retry(claim, str(exc), done)
        except Exception as exc:  # a bug or an unexpected answer: keep the message, keep the worker
            log.exception("outbox: sending message %s failed unexpectedly", claim.id)
            self._retry(claim, f"{type(exc).__name__}: {scrub(str(exc))}", done)
        else:
            self._finish(claim, SENT, None)
            log.info("outbox: sent message %s (%s) to %s", claim.id, claim.reason, who)
            done.count("sent", claim.id)

    def _retry(self, claim: _Claim, error: str, done: Round) -> None:
        attempts = claim.attempts + 1
        with self.sessions.begin() as session:
            if claim.slot is not None:  # not sent: give the allowance back
                self._count(session, claim.openid, claim.slot, claim.slot_opened_at, step=-1)
            if attempts > len(self.backoff):
                self._finish(claim, FAILED, f"failed after {attempts} attempts; last: {error}", session)
                log.warning("outbox: message %s (%s) to %s failed after %s attempts: %s", claim.id, claim.reason,
                            mask_openid(claim.openid), attempts, error)
                done.count("failed", claim.id)
                return
            delay = self.backoff[attempts - 1]
            self._update(session, claim, status=QUEUED, attempts=attempts, last_error=_cut(error),
                         next_attempt_at=self.clock() + timedelta(seconds=delay), claimed_by=None, claimed_at=None,
                         slot=None, slot_opened_at=None)
        log.info("outbox: message %s (%s) to %s not sent (%s); retrying in %s s", claim.id, claim.reason,
                 mask_openid(claim.openid), error, delay)
        done.count("retried", claim.id)

    def _finish(self, claim: _Claim, status: str, error: str | None, session=None) -> None:
        values = dict(status=status, attempts=claim.attempts + 1, last_error=_cut(error) if error else None)
        if status == SENT:
            values["sent_at"] = self.clock()
        if session is not None:
            self._update(session, claim, **values)
            return
        with self.sessions.begin() as session:
            self._update(session, claim, **values)

    def _update(self, session, claim: _Claim, **values) -> None:
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == claim.id, OutboxMessage.claimed_by == self.name,
                   OutboxMessage.claimed_at == claim.claimed_at)
            .values(**values).execution_options(synchronize_session=False))
        if result.rowcount != 1:
            log.error("outbox: message %s was no longer this worker's when it came to record %s", claim.id,
                      values.get("status"))


def _cut(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---- `bangban worker` ---------------------------------------------------------------------------------------------
def run_worker(config, once: bool = False) -> int:
    """`bangban worker`: deliver the outbox until SIGTERM/SIGINT (or, with `once`, until nothing more is due)."""
    import signal
    import time

    from sqlalchemy.exc import SQLAlchemyError

    from .config import redact_url
    from .db import create_schema, session_factory
    from .logs import configure_logging
    from .store import open_store
    from .wechat_api import WeChatAPI

    configure_logging(config.log_level)
    engine = connect_database(config)
    for attempt in range(3):  # the web workers may be creating the same tables at this moment
        try:
            create_schema(engine)
            break
        except SQLAlchemyError:
            if attempt == 2:
                raise
            time.sleep(0.5)
    redis_client = connect_redis(config)
    api = WeChatAPI.from_config(config, redis_client)
    sessions = session_factory(engine)
    store = open_store(redis_client, config.data_dir)
    worker = Worker(sessions, api, chores=_chores(config, sessions, store, api), window_marks=store)
    if once:
        total = Round()
        while True:
            done = worker.run_once()
            for outcome in ("sent", "retried", "failed", "undeliverable", "held", "interrupted"):
                setattr(total, outcome, getattr(total, outcome) + getattr(done, outcome))
            if not done.worked:
                break
        print(f"outbox: {total.sent} sent, {total.retried} to retry, {total.failed} failed, "
              f"{total.undeliverable} undeliverable, {total.held} held", flush=True)
        return 0
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())  # finish the message being sent, then stop
    print(f"bangban worker {worker.name}: delivering the outbox in {redact_url(config.database_url)} through "
          f"{api.base_url} every {config.worker_poll_seconds:g} s when idle; token store: "
          f"{'Redis' if config.redis_url else 'this process'}", flush=True)
    worker.run_forever(config.worker_poll_seconds, stop)
    return 0


def _chores(config, sessions, store, api):
    """The timers (bot/chores.py), with the hall's data (the catalogue and the hall, not the matcher)."""
    from knowledge.catalogue import bundled_paths, load_catalogue
    from knowledge.hall import load_hall

    from .chores import make_chores
    from .config import BUNDLED_HALL_DIR

    catalogue = load_catalogue([*bundled_paths(), *config.catalogue_paths])
    hall = load_hall(None if config.hall_dir == BUNDLED_HALL_DIR else config.hall_dir, catalogue)
    return make_chores(config, sessions, store, hall, api)


def connect_database(config):
    """The worker's database: pre-pinged, since it may sit idle between messages."""
    from .connections import connect_database as connect

    return connect(config, pre_ping=True, timeout=5)


def connect_redis(config):
    """A Redis client for the shared access token, or None in embedded mode (the token stays in this process)."""
    from .connections import connect_redis as connect

    return connect(config, timeout=5)
