"""GET/POST /wechat: WeChat's server URL.

GET answers the URL verification. POST takes one push (plain, compatible or safe mode), drops WeChat's retries
(a retry gets the reply computed the first time), runs the turn and answers within the reply budget: the passive
text reply (encrypted with the key the push came with), or "success" when there is nothing to say or the turn
went over the budget (its replies then go out through the outbox).

Nothing is processed and nothing personal is logged for a rejected push: 403 for a bad signature, AppID or key,
400 for anything malformed, hostile or oversized; never a 5xx for what a client sent.
"""
from __future__ import annotations

import logging
import time
import traceback
from typing import TYPE_CHECKING, Mapping, NamedTuple

from ..store import AlreadyClaimed
from .protocol import (
    BadPush, Forbidden, Keys, Push, Rejected, check_plain_signature, decode_body, encrypt_reply,
    parse_push, text_reply,
)
from .turn import TurnRunner, elapsed_ms, mask

if TYPE_CHECKING:
    from wechatpy.crypto import WeChatCrypto

    from ..store import ConversationStore

log = logging.getLogger(__name__)

CLAIM_TTL_SECONDS = 300.0  # WeChat retries for about 15-20 s; a claim and its reply are kept well beyond
POLL_SECONDS = 0.05  # how often a retry looks whether the first delivery has answered
SUCCESS = "success"
PENDING, RELEASED = object(), object()  # what a retry finds when it stops waiting for the first delivery
PLAIN, XML = "text/plain; charset=utf-8", "application/xml; charset=utf-8"


class Answer(NamedTuple):
    """What the endpoint answers: status, body and its content type (rendered by bot/wechat/__init__.py)."""

    status: int
    body: str = ""
    content_type: str = PLAIN


class Gateway:
    def __init__(self, keys: Keys, store: "ConversationStore", runner: TurnRunner, reply_budget_seconds: float):
        self.keys = keys
        self.store = store
        self.runner = runner
        self.budget = reply_budget_seconds

    # ---- GET -------------------------------------------------------------------------------------------------

    def verify(self, args: Mapping[str, str]) -> Answer:
        """URL verification: plain signature, echostr returned unchanged (also in safe mode, wechat.md A1)."""
        try:
            check_plain_signature(self.keys.token, args)
        except Forbidden as rejected:
            return self._rejected(rejected, "verification")
        echostr = args.get("echostr")
        if echostr is None:
            return self._rejected(BadPush("verification without echostr"), "verification")
        return Answer(200, echostr)

    # ---- POST ------------------------------------------------------------------------------------------------

    def receive(self, args: Mapping[str, str], body: bytes) -> Answer:
        """One POST: its query arguments and body (read up to MAX_BODY_BYTES + 1 bytes)."""
        started = time.monotonic()
        try:
            push, crypto = self._open(args, body)
        except Rejected as rejected:
            return self._rejected(rejected, "push")
        try:
            reply = self._answer(push, started)
        except Exception as exc:  # noqa: BLE001 - infrastructure down or a bug: WeChat will retry
            log.error("wechat: %s from %s failed after %d ms (%s); claim released for the retry\n%s",
                      push.inbound.kind, mask(push.inbound.user), elapsed_ms(started), type(exc).__name__,
                      _frames(exc))
            return Answer(503)
        if reply is None:
            return Answer(200, SUCCESS)
        xml = text_reply(push, reply)
        if crypto is not None:
            xml = encrypt_reply(crypto, xml, args.get("nonce", ""))
        return Answer(200, xml, XML)

    def _open(self, args: Mapping[str, str], body: bytes) -> tuple[Push, "WeChatCrypto | None"]:
        """Verify, decrypt and parse; raises Rejected."""
        mode = (args.get("encrypt_type") or "raw").lower()
        if mode not in ("raw", "aes"):
            raise BadPush("unknown encrypt_type")
        if mode == "raw" or args.get("signature") is not None:
            check_plain_signature(self.keys.token, args)  # safe mode carries it too; checked when present
        text = decode_body(body)
        crypto = None
        if mode == "aes":
            text, crypto = self.keys.decrypt(text, args)
        return parse_push(text), crypto

    def _answer(self, push: Push, started: float) -> str | None:
        """The passive reply for this push (None: "success"), computed once per claim key."""
        deadline = started + self.budget
        while True:
            try:
                return self._first_delivery(push, started, deadline)
            except AlreadyClaimed:
                pass
            found = self._first_answer(push.key, deadline)
            if found is RELEASED and time.monotonic() < deadline:
                continue  # the first delivery failed and let go: this retry handles the message
            answered = found is not PENDING and found is not RELEASED
            log.info("wechat: retry of a %s from %s answered %s", push.inbound.kind, mask(push.inbound.user),
                     "as the first time" if answered else "success (first delivery still running)")
            return found if answered else None

    def _first_answer(self, key: str, deadline: float) -> object:
        """Waits for the first delivery's answer: its reply text, None ("success"), PENDING or RELEASED."""
        while True:
            status = self.store.claim_status(key)
            if status is None:
                return RELEASED
            if status.done:
                return status.reply
            if time.monotonic() >= deadline:
                return PENDING
            time.sleep(min(POLL_SECONDS, max(deadline - time.monotonic(), 0.001)))

    def _first_delivery(self, push: Push, started: float, deadline: float) -> str | None:
        try:
            outcome = self.runner.answer(push.inbound, push.create_time, push.window, (push.key, CLAIM_TTL_SECONDS),
                                         deadline - time.monotonic())
        except AlreadyClaimed:
            raise
        except BaseException:
            try:
                self.store.release(push.key)
            except Exception as exc:  # noqa: BLE001 - the store is down too: the claim expires on its own
                log.error("wechat: could not release a failed claim (%s)", type(exc).__name__)
            raise
        if outcome is None:  # the turn remembers "success" against the claim when it ends
            log.warning("wechat: %s from %s took over %.1f s: answered success, the reply goes through the outbox",
                        push.inbound.kind, mask(push.inbound.user), self.budget)
            return None
        if not outcome.remembered:  # the turn failed after recording its effects: remember it here
            self.store.remember_reply(push.key, outcome.passive, CLAIM_TTL_SECONDS)
        level = logging.INFO if outcome.effects else logging.DEBUG  # a line per booking, handoff ...; not per answer
        if log.isEnabledFor(level):
            log.log(level, "wechat: %s from %s: %d repl%s, %d effect%s, %d ms", push.inbound.kind,
                    mask(push.inbound.user), outcome.replies, "y" if outcome.replies == 1 else "ies", outcome.effects,
                    "" if outcome.effects == 1 else "s", elapsed_ms(started))
        return outcome.passive

    @staticmethod
    def _rejected(rejected: Rejected, what: str) -> Answer:
        log.warning("wechat: %s rejected (%d): %s", what, rejected.status, rejected.reason)
        return Answer(rejected.status)


def _frames(exc: BaseException) -> str:
    """Where it failed, without the exception's message (SQL errors quote their parameters: openid, text)."""
    return "".join(traceback.format_tb(exc.__traceback__)).rstrip()
