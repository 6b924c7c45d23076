"""One user turn, run in a thread of its own so that the request can give up waiting after the reply budget.

    take the user's lock → load the state → dialogs.engine.handle → in ONE database transaction: note the user's
    sending window, carry out the effects, queue the replies that are not the passive one → save (or delete) the
    state → release the lock

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
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Callable
from zoneinfo import ZoneInfo

from dialogs.effects import Escalate, ForgetUser, KeepMedia
from dialogs.messages import Inbound

if TYPE_CHECKING:
    from sqlalchemy.orm import sessionmaker

    from dialogs.engine import Turn

    from ..knowledge_base import KnowledgeBase
    from ..store import ConversationStore

log = logging.getLogger(__name__)

HALL_TIME_ZONE = ZoneInfo("Asia/Shanghai")
LOCK_WAIT_SECONDS = 60.0  # a turn waits this long for the user's previous turns (the request stops at the budget)
STATE_TTL_MARGIN_SECONDS = 2 * 3600  # state outlives the idle time so the dialogue can restart gently
LATE_REPLY, FURTHER_REPLY = "late_reply", "reply"  # outbox reasons


def mask(openid: str) -> str:
    from ..outbox import mask_openid

    return mask_openid(openid)


@dataclass(frozen=True)
class Outcome:
    passive: str | None  # the reply for the request to render; None: answer "success"
    replies: int
    effects: int


class TurnJob:
    """One turn in its own thread; `wait_for_reply` is the request's side of the handover."""

    def __init__(self, runner: "TurnRunner", inbound: Inbound, create_time: int, window: str | None) -> None:
        self._runner = runner
        self.inbound = inbound
        self.create_time = create_time
        self.window = window
        self._mutex = threading.Lock()
        self._deferred = False  # the request gave up: every reply goes to the outbox
        self._inline = False  # the turn is committing with a passive reply: the request must wait for it
        self._done = threading.Event()
        self.outcome: Outcome | None = None
        self.committed: Outcome | None = None  # set once effects and replies are recorded
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="bangban-turn", daemon=False)

    def start(self) -> "TurnJob":
        self._thread.start()
        return self

    def wait_for_reply(self, seconds: float, inline_grace: float = 30.0) -> Outcome | None:
        """The outcome, or None when the turn did not reach its commit within `seconds` (it then delivers every
        reply through the outbox). Raises the turn's error."""
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
            if gone:
                log.error("wechat: a late turn of %s failed (%s), its reply is lost\n%s", mask(self.inbound.user),
                          type(exc).__name__, "".join(traceback.format_tb(exc.__traceback__)).rstrip())
        finally:
            self._done.set()


class TurnRunner:
    def __init__(self, store: "ConversationStore", sessions: "sessionmaker", knowledge_base: "KnowledgeBase",
                 idle_minutes: int, ensure_schema: Callable[[], None]) -> None:
        self.store = store
        self.sessions = sessions
        self.knowledge_base = knowledge_base
        self.idle_minutes = idle_minutes
        self.state_ttl = idle_minutes * 60 + STATE_TTL_MARGIN_SECONDS
        self.ensure_schema = ensure_schema

    def start(self, inbound: Inbound, create_time: int, window: str | None) -> TurnJob:
        return TurnJob(self, inbound, create_time, window).start()

    def env(self):
        from dialogs.engine import Env

        knowledge = self.knowledge_base.knowledge
        return Env(now=datetime.now(HALL_TIME_ZONE), consult=knowledge.consult, catalogue=knowledge.catalogue,
                   hall=self.knowledge_base.hall, idle_minutes=self.idle_minutes)

    def run(self, job: TurnJob) -> Outcome:
        from dialogs import engine  # looked up at call time: the dialogue is its own package

        user = job.inbound.user
        with self.store.lock(user, LOCK_WAIT_SECONDS):
            turn: Turn = engine.handle(self.store.get_state(user), job.inbound, self.env())
            passive = self._record(job, turn)
            job.committed = Outcome(passive=passive, replies=len(turn.replies), effects=len(turn.effects))
            if turn.state is None or any(isinstance(effect, ForgetUser) for effect in turn.effects):
                self.store.delete_state(user)
            else:
                self.store.set_state(user, turn.state, self.state_ttl)
        return job.committed

    def _record(self, job: TurnJob, turn: "Turn") -> str | None:
        """Effects, the sending window and queued replies in one transaction; returns the passive reply."""
        from ..escalations import record_escalation
        from ..media import keep_media
        from ..outbox import enqueue_text, note_user_message

        user = job.inbound.user
        replies = [reply for reply in turn.replies if reply and reply.strip()]
        records = [effect for effect in turn.effects if not isinstance(effect, ForgetUser)]
        if not replies[1:] and not records and job.window is None:  # perhaps nothing for the database
            if not replies:
                return None
            if job._passive():
                return replies[0]
            # the request has given up: the reply goes to the outbox after all
        self.ensure_schema()
        with self.sessions.begin() as session:
            if job.window is not None:
                note_user_message(session, user, job.create_time, job.window)
            for effect in records:
                if isinstance(effect, Escalate):
                    record_escalation(session, user, effect)
                elif isinstance(effect, KeepMedia):
                    keep_media(session, user, effect)
                else:
                    raise TypeError(f"the gateway does not know the effect {type(effect).__name__}")
            passive = replies[0] if replies and job._passive() else None
            for index, reply in enumerate(replies):
                if index == 0 and passive is not None:
                    continue
                enqueue_text(session, user, reply, LATE_REPLY if index == 0 else FURTHER_REPLY)
        return passive


def elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
