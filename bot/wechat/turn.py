"""One user turn: in the request's own thread while it needs only memory and Redis, in a turn thread
(turn_threads.py) when it has to wait for anything else, so that the request can give up waiting after the reply
budget.

    take the push's retry claim, the user's lock and the state (one store round trip) → dialogs.engine.handle →
    in ONE database transaction: note the user's sending window, carry out the effects, queue the replies that
    are not the passive one → save (or delete) the state, remember the reply for WeChat's retries, release the
    lock (one round trip)

Most turns never touch the case database: the dialogue answers from the knowledge and the state, and its one reply is
the passive reply. Such a turn runs where the request is: handing every turn to another thread and back cost about
7 % of the throughput (bench/gateway.py, 8 slices taking turns with a checkout that handed every turn over).
The request hands the turn to a turn thread, and waits for it until the reply budget at most, when

- the user's lock is taken (their previous message is still being answered): the turn waits for the lock there;
- the dialogue asks for the case database (free slots, the citizen's cases, the handoff queue) or the message is a
  photo (kept against the newest open case): the dialogue starts again there, with the database (the first try
  changed nothing: a dialogue only returns what is to be done);
- the turn has something to record (effects, the sending window, replies after the first): it is recorded there.

The handover between the request and a turn thread is decided once, inside the transaction, before it commits:

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
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Callable

from dialogs.effects import ForgetUser

from ..clock import real_hall_now
from ..conversations import HELD_TTL_SECONDS
from ..outbox import WINDOW_MARK_SECONDS, mask_openid as mask, window_mark
from ..store import AlreadyClaimed, Held, LockTimeout
from .turn_threads import Signal, TurnThreads
from dialogs.messages import IMAGE, Inbound

if TYPE_CHECKING:
    from sqlalchemy.orm import sessionmaker

    from dialogs.engine import Env, Turn
    from knowledge.service import Consultation

    from ..knowledge_base import KnowledgeBase
    from ..store import ConversationStore

log = logging.getLogger(__name__)

LOCK_WAIT_SECONDS = 60.0  # a turn waits this long for the user's previous turns (the request stops at the budget)
STATE_TTL_MARGIN_SECONDS = 2 * 3600  # state outlives the idle time so the dialogue can restart gently
LATE_REPLY, FURTHER_REPLY = "late_reply", "reply"  # outbox reasons


class NeedsDatabase(Exception):
    """The dialogue asked for the case database in the request's thread: the turn goes on in a turn thread."""


def _needs_database(*_args, **_kwargs):
    raise NeedsDatabase()


@dataclass(frozen=True)
class Outcome:
    passive: str | None  # the reply for the request to render; None: answer "success"
    replies: int
    effects: int
    remembered: bool = False  # the reply is recorded against the push's claim for WeChat's retries


class TurnJob:
    """One turn; `wait_for_reply` is the request's side of the handover to a turn thread."""

    def __init__(self, runner: "TurnRunner", inbound: Inbound, create_time: int, window: str | None,
                 claim: tuple[str, float] | None) -> None:
        self._runner = runner
        self.inbound = inbound
        self.create_time = create_time
        self.window = window
        self.claim = claim  # the push's retry claim (key, TTL): taken with the lock; the turn remembers its reply
        self.claimed = False  # the request took the claim already (the turn thread must not take it again)
        self.now: datetime | None = None  # the hall's time the dialogue ran at (its effects are recorded at it)
        # What the request took and did before it handed the turn over: the hold on the conversation (to be let go
        # by the turn thread), the state it holds, and the dialogue's turn when only recording it is left.
        self.taken: "tuple[AbstractContextManager, Held, Turn | None] | None" = None
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

    def answer(self, inbound: Inbound, create_time: int, window: str | None, claim: tuple[str, float] | None,
               seconds: float) -> Outcome | None:
        """The request's side: the turn's outcome, or None when a turn thread did not reach its commit within
        `seconds` (every reply then goes through the outbox). Raises AlreadyClaimed when another delivery has the
        push, or the turn's error."""
        deadline = time.monotonic() + seconds
        job = TurnJob(self, inbound, create_time, window, claim)
        hold = self.store.hold(inbound.user, 0, self._mark(job), claim)
        try:
            held = hold.__enter__()
        except LockTimeout:  # the user's previous message is still being answered: wait for it in a turn thread
            job.claimed = True
            return self._hand_over(job, deadline)

        def here() -> Outcome | None:
            with ExitStack() as stack:
                stack.push(hold)  # entered above; let go when this block ends, unless handed over
                try:
                    turn = self._dialogue(job, held, database=False)
                except NeedsDatabase:
                    turn = None
                if turn is not None and not self._to_record(job, turn, held.marked):
                    return self._settle(job, held, turn)
                job.taken = (stack.pop_all(), held, turn)
            return None

        outcome = self._despite_saving(job, here)
        return self._hand_over(job, deadline) if job.taken is not None else outcome

    def _hand_over(self, job: TurnJob, deadline: float) -> Outcome | None:
        self.pool.submit(job._run)
        return job.wait_for_reply(deadline - time.monotonic())

    def run(self, job: TurnJob) -> Outcome:
        """A turn thread's side: the turn from where the request left it."""
        self.ensure_schema()  # the database reads and the record need the tables

        def there() -> Outcome:
            if job.taken is None:
                with self.store.hold(job.inbound.user, LOCK_WAIT_SECONDS, self._mark(job),
                                     None if job.claimed else job.claim) as held:
                    return self._settle(job, held, self._dialogue(job, held))
            let_go, held, turn = job.taken
            with let_go:
                return self._settle(job, held, turn if turn is not None else self._dialogue(job, held))

        return self._despite_saving(job, there)

    @staticmethod
    def _mark(job: TurnJob) -> tuple[str, float] | None:
        return (window_mark(job.inbound.user), WINDOW_MARK_SECONDS) if job.window == "message" else None

    def env(self, inbound: Inbound | None = None, database: bool = True) -> "Env":
        """The turn's environment; the case database is read lazily, only by the turns that need it. Without
        `database` (the request's thread), any read of it raises NeedsDatabase."""
        from dialogs.engine import Env

        from . import case_views as views

        knowledge, hall, sessions = self.knowledge_base.knowledge, self.knowledge_base.hall, self.sessions
        now = self.clock()
        user = inbound.user if inbound is not None else ""
        image = inbound is not None and inbound.kind == IMAGE  # kept against the newest open case: read up front
        if not database:
            if image:
                raise NeedsDatabase()
            return Env(now=now, consult=self.consult, catalogue=knowledge.catalogue, hall=hall,
                       idle_minutes=self.idle_minutes, calendar=self.calendar, cases=_needs_database,
                       free_slots=_needs_database, reserve_case_number=_needs_database,
                       handoff_outlook=_needs_database)
        return Env(now=now, consult=self.consult, catalogue=knowledge.catalogue, hall=hall,
                   idle_minutes=self.idle_minutes, open_case=views.newest_open_case(sessions, user) if image else None,
                   calendar=self.calendar, cases=lambda: views.user_cases(sessions, user),
                   free_slots=lambda day: views.free_slots(sessions, hall, self.calendar, day, now),
                   reserve_case_number=lambda: views.reserve_case_number(sessions, now.date()),
                   handoff_outlook=lambda priority=False: views.handoff_outlook(sessions, hall, self.calendar, now,
                                                                                priority))

    def _dialogue(self, job: TurnJob, held: Held, database: bool = True) -> "Turn":
        from dialogs import engine  # looked up at call time: the dialogue is its own package

        try:
            env = self.env(job.inbound, database)
            job.now = env.now
            return engine.handle(held.state, job.inbound, env)
        except NeedsDatabase:
            raise
        except BaseException:
            self._unmark(job, held)
            raise

    def _unmark(self, job: TurnJob, held: Held) -> None:
        """The turn failed: the sending window it marked was not written after all."""
        if held.marked:
            self.store.release(window_mark(job.inbound.user))

    def _settle(self, job: TurnJob, held: Held, turn: "Turn") -> Outcome:
        """Record the turn, then have its state saved and its reply remembered when the hold is let go."""
        try:
            passive, escalation_id = self._record(job, turn, job.now, held.marked)
        except BaseException:
            self._unmark(job, held)
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

    @staticmethod
    def _despite_saving(job: TurnJob, turn: Callable[[], Outcome | None]) -> Outcome | None:
        """turn(); when it fails after the effects and replies are recorded (only saving the state or letting go of
        the lock failed), the recorded outcome all the same: a retry must not repeat the effects."""
        try:
            return turn()
        except BaseException as exc:
            if job.committed is None:
                raise
            log.error("wechat: after the turn of %s, saving its state failed (%s)", mask(job.inbound.user),
                      type(exc).__name__)
            return job.committed

    @staticmethod
    def _to_record(job: TurnJob, turn: "Turn", marked: bool) -> bool:
        """Whether the turn has anything for the database: effects, replies after the first, a sending window."""
        replies = [reply for reply in turn.replies if reply and reply.strip()]
        return bool(replies[1:]) or any(not isinstance(effect, ForgetUser) for effect in turn.effects) or marked \
            or job.window == "event"

    def _record(self, job: TurnJob, turn: "Turn", now: datetime, marked: bool) -> tuple[str | None, int | None]:
        """Effects, the sending window and queued replies in one transaction; returns the passive reply and the
        id of an escalation the turn opened. `marked`: this message's window had no fresh mark (bot/outbox.py),
        so it is written."""
        from ..outbox import enqueue_text, note_user_message

        user = job.inbound.user
        replies = [reply for reply in turn.replies if reply and reply.strip()]
        records = [effect for effect in turn.effects if not isinstance(effect, ForgetUser)]
        if not self._to_record(job, turn, marked):  # nothing for the database
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
