"""One user turn, run in a turn thread (turn_threads.py) so that the request can give up waiting after the reply
budget.

    take the push's retry claim, the user's lock and the state (one store round trip) → dialogs.engine.handle →
    in ONE database transaction: note the user's sending window, carry out the effects, queue the replies that
    are not the passive one → save (or delete) the state, remember the reply for WeChat's retries, release the
    lock (one round trip)

The handover between the request and the turn is decided once, inside the transaction, before it commits:

- the request is still waiting → the first reply is the passive reply (the request renders it), the others go
  to the outbox;
- the request has given up (answered "success") → every reply goes to the outbox, in the same transaction as
  the effects, so a reply is never lost and never sent twice.
"""
from __future__ import annotations

import logging
import threading
import time
import traceback
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Callable

from dialogs.effects import ForgetUser

from ..clock import real_hall_now
from ..conversations import HELD_TTL_SECONDS
from ..outbox import WINDOW_MARK_SECONDS, mask_openid as mask, window_mark
from ..store import AlreadyClaimed
from .turn_threads import Signal, TurnThreads
from dialogs.messages import IMAGE, Inbound

if TYPE_CHECKING:
    from sqlalchemy.orm import sessionmaker

    from dialogs.engine import Turn
    from knowledge.service import Consultation

    from ..knowledge_base import KnowledgeBase
    from ..store import ConversationStore

log = logging.getLogger(__name__)

LOCK_WAIT_SECONDS = 60.0  # a turn waits this long for the user's previous turns (the request stops at the budget)
STATE_TTL_MARGIN_SECONDS = 2 * 3600  # state outlives the idle time so the dialogue can restart gently
LATE_REPLY, FURTHER_REPLY = "late_reply", "reply"  # outbox reasons


@dataclass(frozen=True)
class Outcome:
    passive: str | None  # the reply for the request to render; None: answer "success"
    replies: int
    effects: int
    remembered: bool = False  # the reply is recorded against the push's claim for WeChat's retries


class TurnJob:
    """One turn in a pool thread; `wait_for_reply` is the request's side of the handover."""

    def __init__(self, runner: "TurnRunner", inbound: Inbound, create_time: int, window: str | None,
                 claim: tuple[str, float] | None) -> None:
        self._runner = runner
        self.inbound = inbound
        self.create_time = create_time
        self.window = window
        self.claim = claim  # the push's retry claim (key, TTL): taken with the lock; the turn remembers its reply
        self._mutex = threading.Lock()
        self._deferred = False  # the request gave up: every reply goes to the outbox
        self._inline = False  # the turn is committing with a passive reply: the request must wait for it
        self._done = Signal()
        self.outcome: Outcome | None = None
        self.committed: Outcome | None = None  # set once effects and replies are recorded
        self.error: BaseException | None = None

    def wait_for_reply(self, seconds: float, inline_grace: float = 30.0) -> Outcome | None:
        """The outcome, or None when the turn did not reach its commit within `seconds` (it then delivers every
        reply through the outbox). Raises the turn's error (AlreadyClaimed: another delivery has the push)."""
        if not self._done.wait(max(seconds, 0)):
            with self._mutex:
                if not self._inline:
                    self._deferred = True
                    return None
            self._done.wait(inline_grace)  # committing with a passive reply: a moment more
            if not self._done.is_set():
                raise TimeoutError("the turn did not finish committing")
        if self.error is not None:
            raise self.error
        return self.outcome

    def _passive(self) -> bool:
        with self._mutex:
            if self._deferred:
                return False
            self._inline = True
            return True

    def _run(self) -> None:
        try:
            self.outcome = self._runner.run(self)
        except BaseException as exc:  # noqa: BLE001 - handed to the request (or logged when it has gone)
            if self.committed is not None:
                # Effects and replies are recorded; only saving the state or releasing the lock failed. Answer
                # anyway: a retry must not repeat the effects.
                log.error("wechat: after the turn of %s, saving its state failed (%s)", mask(self.inbound.user),
                          type(exc).__name__)
                self.outcome = self.committed
                return
            self.error = exc
            with self._mutex:
                gone = self._deferred
            if gone and not isinstance(exc, AlreadyClaimed):
                log.error("wechat: a late turn of %s failed (%s), its reply is lost\n%s", mask(self.inbound.user),
                          type(exc).__name__, "".join(traceback.format_tb(exc.__traceback__)).rstrip())
        finally:
            self._done.set()


class TurnRunner:
    def __init__(self, store: "ConversationStore", sessions: "sessionmaker", knowledge_base: "KnowledgeBase",
                 idle_minutes: int, ensure_schema: Callable[[], None],
                 clock: Callable[[], datetime] = real_hall_now,
                 consult: "Callable[..., Consultation] | None" = None) -> None:
        self.store = store
        self.sessions = sessions
        self.knowledge_base = knowledge_base
        self.consult = consult or knowledge_base.knowledge.consult  # bot/shared_consultations.py
        self.idle_minutes = idle_minutes
        self.state_ttl = idle_minutes * 60 + STATE_TTL_MARGIN_SECONDS
        self.ensure_schema = ensure_schema
        from ..cases.service import calendar_for
        from .effects import EffectRunner

        self.calendar = calendar_for(knowledge_base.hall)
        self.clock = clock  # the hall's time (bot/clock.py)
        self.effects = EffectRunner(knowledge_base.hall, self.calendar)
        self.pool = TurnThreads()

    def start(self, inbound: Inbound, create_time: int, window: str | None,
              claim: tuple[str, float] | None = None) -> TurnJob:
        job = TurnJob(self, inbound, create_time, window, claim)
        self.pool.submit(job._run)
        return job

    def env(self, inbound: Inbound | None = None):
        """The turn's environment; the case database is read lazily, only by the turns that need it."""
        from dialogs.engine import Env

        from . import case_views as views

        knowledge, hall, sessions = self.knowledge_base.knowledge, self.knowledge_base.hall, self.sessions
        now = self.clock()
        user = inbound.user if inbound is not None else ""
        open_case = views.newest_open_case(sessions, user) if inbound is not None and inbound.kind == IMAGE \
            else None
        return Env(now=now, consult=self.consult, catalogue=knowledge.catalogue, hall=hall,
                   idle_minutes=self.idle_minutes, open_case=open_case, calendar=self.calendar,
                   cases=lambda: views.user_cases(sessions, user),
                   free_slots=lambda day: views.free_slots(sessions, hall, self.calendar, day, now),
                   reserve_case_number=lambda: views.reserve_case_number(sessions, now.date()),
                   handoff_outlook=lambda priority=False: views.handoff_outlook(sessions, hall, self.calendar, now,
                                                                                priority))

    def run(self, job: TurnJob) -> Outcome:
        from dialogs import engine  # looked up at call time: the dialogue is its own package

        user = job.inbound.user
        mark = (window_mark(user), WINDOW_MARK_SECONDS) if job.window == "message" else None
        with self.store.hold(user, LOCK_WAIT_SECONDS, mark, job.claim) as held:
            self.ensure_schema()  # the Env's lazy reads may need the tables
            env = self.env(job.inbound)
            try:
                turn: Turn = engine.handle(held.state, job.inbound, env)
                passive, escalation_id = self._record(job, turn, env.now, held.marked)
            except BaseException:
                if held.marked:  # the window was not written after all
                    self.store.release(window_mark(user))
                raise
            if escalation_id is not None and turn.state is not None and turn.state.get("human"):
                turn = replace(turn, state={**turn.state, "human": {**turn.state["human"], "id": escalation_id}})
            job.committed = Outcome(passive=passive, replies=len(turn.replies), effects=len(turn.effects))
            if turn.state is None or any(isinstance(effect, ForgetUser) for effect in turn.effects):
                held.forget()
            else:  # a conversation waiting for or held by a person outlives the idle time (bot/conversations.py)
                held.save(turn.state, HELD_TTL_SECONDS if turn.state.get("human") else self.state_ttl)
            if job.claim is not None:
                held.remember_reply(job.claim[0], passive, job.claim[1])
        return replace(job.committed, remembered=job.claim is not None)

    def _record(self, job: TurnJob, turn: "Turn", now: datetime, marked: bool) -> tuple[str | None, int | None]:
        """Effects, the sending window and queued replies in one transaction; returns the passive reply and the
        id of an escalation the turn opened. `marked`: this message's window had no fresh mark (bot/outbox.py),
        so it is written."""
        from ..outbox import enqueue_text, note_user_message

        user = job.inbound.user
        replies = [reply for reply in turn.replies if reply and reply.strip()]
        records = [effect for effect in turn.effects if not isinstance(effect, ForgetUser)]
        if not replies[1:] and not records and not marked and job.window != "event":  # nothing for the database
            if not replies:
                return None, None
            if job._passive():
                return replies[0], None
            # the request has given up: the reply goes to the outbox after all
        with self.sessions.begin() as session:
            if marked or job.window == "event":  # a fresh mark: the window was written lately (bot/outbox.py)
                note_user_message(session, user, job.create_time, job.window)
            done = self.effects.run(session, user, records, now)
            passive = replies[0] if replies and job._passive() else None
            for index, reply in enumerate(replies):
                if index == 0 and passive is not None:
                    continue
                enqueue_text(session, user, reply, LATE_REPLY if index == 0 else FURTHER_REPLY)
        return passive, done.escalation_id


def elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
