"""The durable outbox of customer-service messages, and each user's sending window.

WeChat lets a public account write to a citizen outside a passive reply only through the customer-service message
API, and only inside a window (wechat.md A6):

- after the user **sends a message**: at most 5 messages within 48 hours;
- after a **menu click, a follow or a QR scan**: at most 3 messages within one minute (this does not open the
  48-hour window).

Anything that must reach the citizen later — an answer that took longer than WeChat's 5 seconds, a staff reply, a
reminder — is written here with `enqueue_text` in the caller's transaction, and `bangban worker` (bot/worker.py)
delivers it. The gateway calls `note_user_message` for the messages and events it receives, so that the windows are
known here: every event, and a message whenever the conversation store holds no fresh `window_mark` for the user
(set when the window is written, dropped by the worker when it sends into that window). So a chat of many
messages writes its window once per WINDOW_MARK_SECONDS, and the recorded start of a 48 h window is at most that
much earlier than WeChat's: the window is taken to close a few minutes early, never late. `quota` tells the staff
console how many messages may still go to a user, and until when.

A message's life: queued → sending → sent. Otherwise:
- held: no quota left now but a window is still open (for example the 6th message within 48 h); it goes when the
  user writes or clicks again, and becomes undeliverable when the window closes;
- undeliverable: outside any window, or WeChat refused it for that reason (45015, 45047 ...); staff can see it;
- failed: sending kept failing after all retries, or a worker stopped in the middle of sending (delivery unknown:
  it is not sent again, so that nobody receives a message twice).

`last_error` says why, without personal data (no openid, no message text). Staff see the undeliverable and failed
messages in the console (bot/staff/undelivered.py) and mark each followed up (by phone, say) once they have dealt
with it: `followed_up_at`, `followed_up_by`, `follow_up_note`. Times are timezone-aware UTC.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import Index, Integer, String, Text, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from .db import Base, UTCDateTime, utcnow

MAX_TEXT_BYTES = 2048  # one customer-service text message, in UTF-8 bytes (wechat.md A5)
MESSAGE_WINDOW = timedelta(hours=48)
MESSAGE_QUOTA = 5
EVENT_WINDOW = timedelta(minutes=1)
EVENT_QUOTA = 3

QUEUED, HELD, SENDING, SENT, FAILED, UNDELIVERABLE = "queued", "held", "sending", "sent", "failed", "undeliverable"
STATUSES = (QUEUED, HELD, SENDING, SENT, FAILED, UNDELIVERABLE)
# Statuses of a message that later messages to the same user wait behind (parts of a long text stay in order).
PENDING = (QUEUED, HELD, SENDING)

USER_KINDS = ("message", "event")
TEXT, SUBSCRIPTION = "text", "subscription"  # OutboxMessage.kind: a customer-service text, or a 订阅通知 (JSON)
WINDOW_MARK_SECONDS = 600.0  # how long a written message window is taken as fresh (see the module docstring)
MAX_OPENID_LENGTH = 64
MAX_REASON_LENGTH = 32
MAX_ERROR_LENGTH = 300
MAX_NOTE_LENGTH = 200


class OutboxMessage(Base):
    """One message for one citizen, at most MAX_TEXT_BYTES of text."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    openid: Mapped[str] = mapped_column(String(MAX_OPENID_LENGTH))
    kind: Mapped[str] = mapped_column(String(16), default="text")
    payload: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(MAX_REASON_LENGTH))  # late_reply, staff, reminder ...
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())  # when it was asked to go
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())  # due_at, later after a failure or while held
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(MAX_ERROR_LENGTH), default=None)
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Set by the worker that took the message: which worker, when, and which allowance it counted against
    # ("message": the 48 h window opened at slot_opened_at, "event": the minute after a click at slot_opened_at).
    claimed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    # A message that did not reach the citizen, dealt with by staff (bot/staff/undelivered.py).
    followed_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # staff.id, without a foreign key: the outbox stands apart from the case database's tables
    followed_up_by: Mapped[int | None] = mapped_column(Integer, default=None)
    follow_up_note: Mapped[str | None] = mapped_column(String(MAX_NOTE_LENGTH), default=None)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    slot: Mapped[str | None] = mapped_column(String(16), default=None)
    slot_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    __table_args__ = (
        Index("ix_outbox_messages_status_next", "status", "next_attempt_at"),
        Index("ix_outbox_messages_openid", "openid", "id"),
    )

    def __repr__(self) -> str:  # no openid, no text
        return f"<OutboxMessage {self.id} {self.reason} {self.status} attempts={self.attempts}>"


class UserWindow(Base):
    """When a user last wrote or clicked, and how much of each allowance has been used since."""

    __tablename__ = "outbox_user_windows"

    openid: Mapped[str] = mapped_column(String(MAX_OPENID_LENGTH), primary_key=True)
    last_user_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    messages_since: Mapped[int] = mapped_column(Integer, default=0)  # sent in the 48 h window
    last_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    event_window_count: Mapped[int] = mapped_column(Integer, default=0)  # sent in the minute after last_event_at


@dataclass(frozen=True)
class Quota:
    """What may still be sent to one user at a moment.

    `remaining` messages may go now, the last of them before `until` (None when nothing may go). `open_until` is
    when the last open window closes even if its allowance is used up (None: no window open) — a message held for
    lack of quota becomes undeliverable then.
    """

    remaining: int
    until: datetime | None
    message_remaining: int
    message_until: datetime | None  # end of the 48 h window, None if closed
    event_remaining: int
    event_until: datetime | None  # end of the minute after a click or follow, None if closed

    @property
    def open_until(self) -> datetime | None:
        ends = [end for end in (self.message_until, self.event_until) if end is not None]
        return max(ends) if ends else None


def quota(session: Session, openid: str, now: datetime | None = None) -> Quota:
    """How many messages may still go to `openid` at `now`, and until when (for the worker and the staff console)."""
    return quota_of(session.get(UserWindow, openid), now or utcnow())


def quota_of(window: UserWindow | None, now: datetime) -> Quota:
    _check_aware(now, "now")
    message_remaining = event_remaining = 0
    message_until = event_until = None
    if window is not None and window.last_user_message_at is not None:
        end = window.last_user_message_at + MESSAGE_WINDOW
        if now < end:
            message_until = end
            message_remaining = max(0, MESSAGE_QUOTA - window.messages_since)
    if window is not None and window.last_event_at is not None:
        end = window.last_event_at + EVENT_WINDOW
        if now < end:
            event_until = end
            event_remaining = max(0, EVENT_QUOTA - window.event_window_count)
    usable = [end for end, left in ((message_until, message_remaining), (event_until, event_remaining)) if left]
    return Quota(
        remaining=message_remaining + event_remaining,
        until=max(usable) if usable else None,
        message_remaining=message_remaining,
        message_until=message_until,
        event_remaining=event_remaining,
        event_until=event_until,
    )


def split_text(text: str, limit: int = MAX_TEXT_BYTES) -> list[str]:
    """`text` in parts of at most `limit` UTF-8 bytes, cut at line ends where possible.

    A single line longer than the limit is cut after a sentence end (。！？；.!?;), else after a comma, else between
    characters. Line breaks at the cuts are dropped; no part is empty.
    """
    if limit < 4:
        raise ValueError("limit must allow at least one character")
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        for piece in _cut_line(line, limit):
            candidate = piece if not current else f"{current}\n{piece}"
            if _size(candidate) <= limit:
                current = candidate
            else:
                if current.strip():
                    parts.append(current)
                current = piece
    if current.strip():
        parts.append(current)
    return [part.strip("\n") for part in parts]


def enqueue_text(session: Session, openid: str, text: str, reason: str,
                 due_at: datetime | None = None) -> list[OutboxMessage]:
    """Queue `text` for `openid` as one message, or several if it is longer than 2048 UTF-8 bytes.

    Joins the caller's transaction (the caller commits); returns the new rows, flushed so that they have ids.
    `reason` says why the message exists ("late_reply", "staff", "reminder" ...); `due_at` (aware) delays it.
    """
    _check_openid(openid)
    if not reason or len(reason) > MAX_REASON_LENGTH:
        raise ValueError(f"reason must be 1 to {MAX_REASON_LENGTH} characters")
    now = utcnow()
    due = due_at or now
    _check_aware(due, "due_at")
    parts = split_text(text)
    if not parts:
        raise ValueError("the text is empty")
    rows = [
        OutboxMessage(openid=openid, kind="text", payload=part, reason=reason, created_at=now, due_at=due,
                      next_attempt_at=due, attempts=0, status=QUEUED)
        for part in parts
    ]
    session.add_all(rows)
    session.flush()
    return rows


def enqueue_subscription(session: Session, openid: str, message: dict, reason: str) -> OutboxMessage:
    """Queue a subscription message (订阅通知: {"template_id", "data", "page"?}) in the caller's transaction."""
    _check_openid(openid)
    if not message.get("template_id") or not isinstance(message.get("data"), dict):
        raise ValueError("a subscription message needs template_id and data")
    now = utcnow()
    row = OutboxMessage(openid=openid, kind=SUBSCRIPTION, payload=json.dumps(message, ensure_ascii=False),
                        reason=reason, created_at=now, due_at=now, next_attempt_at=now, attempts=0, status=QUEUED)
    session.add(row)
    session.flush()
    return row


def note_user_message(session: Session, openid: str, at: datetime | int | float, kind: str) -> None:
    """Record that `openid` wrote ("message") or clicked the menu / followed / scanned ("event") at `at`.

    "message" opens or renews the 48 h window and resets its count of 5; "event" opens a one-minute window of 3.
    `at` is an aware datetime or the message's CreateTime in seconds. An older record never replaces a newer one.
    Messages held for lack of quota become due again. Joins the caller's transaction.
    """
    _check_openid(openid)
    if kind not in USER_KINDS:
        raise ValueError(f"kind must be one of {USER_KINDS}, not {kind!r}")
    if isinstance(at, (int, float)) and not isinstance(at, bool):
        at = datetime.fromtimestamp(at, timezone.utc)
    _check_aware(at, "at")
    if kind == "message":
        values = {"last_user_message_at": at, "messages_since": 0}
        stamp = UserWindow.last_user_message_at
    else:
        values = {"last_event_at": at, "event_window_count": 0}
        stamp = UserWindow.last_event_at
    dialect = session.get_bind().dialect.name
    insert = {"postgresql": pg_insert, "sqlite": sqlite_insert}.get(dialect)
    if insert is None:
        raise RuntimeError(f"note_user_message does not support the {dialect} database")
    statement = insert(UserWindow).values(openid=openid, **values)
    statement = statement.on_conflict_do_update(
        index_elements=[UserWindow.openid], set_=values, where=(stamp.is_(None) | (stamp <= at)))
    session.execute(statement)
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.openid == openid, OutboxMessage.status == HELD)
        .values(status=QUEUED, next_attempt_at=at)
        .execution_options(synchronize_session=False)
    )


def window_mark(openid: str) -> str:
    """The conversation-store claim key that says `openid`'s message window was written lately and nothing has
    been sent into it since."""
    return f"window:{openid}"


def pending_for(session: Session, openid: str) -> list[OutboxMessage]:
    """Messages to `openid` not yet sent (queued, held or being sent), oldest first."""
    return list(session.scalars(
        select(OutboxMessage).where(OutboxMessage.openid == openid, OutboxMessage.status.in_(PENDING))
        .order_by(OutboxMessage.id)))


DID_NOT_ARRIVE = (UNDELIVERABLE, FAILED)


def undelivered(session: Session, followed_up: bool | None = False, limit: int = 50,
                offset: int = 0) -> list[OutboxMessage]:
    """Messages that did not reach their user (undeliverable or failed), newest first, for staff to follow up:
    those not followed up yet (`followed_up` False), those already (True), or all (None)."""
    query = select(OutboxMessage).where(OutboxMessage.status.in_(DID_NOT_ARRIVE))
    if followed_up is not None:
        query = query.where(OutboxMessage.followed_up_at.is_not(None) if followed_up
                            else OutboxMessage.followed_up_at.is_(None))
    return list(session.scalars(query.order_by(OutboxMessage.id.desc()).offset(offset).limit(limit)))


def mask_openid(openid: str) -> str:
    """A stable pseudonym for logs: the same user gives the same mask, the openid cannot be read back."""
    return "user:" + hashlib.sha256(openid.encode("utf-8")).hexdigest()[:10]


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _cut_line(line: str, limit: int) -> list[str]:
    pieces: list[str] = []
    while _size(line) > limit:
        # The longest prefix within the limit, then back to the last sentence end or comma inside it.
        end, size = 0, 0
        while end < len(line) and size + _size(line[end]) <= limit:
            size += _size(line[end])
            end += 1
        cut = end
        for marks in ("。！？；.!?;", "，、,"):
            found = max(line.rfind(mark, 0, end) for mark in marks)
            if found >= end // 2:
                cut = found + 1
                break
        pieces.append(line[:cut])
        line = line[cut:]
    pieces.append(line)
    return pieces


def _check_openid(openid: str) -> None:
    if not isinstance(openid, str) or not openid or len(openid) > MAX_OPENID_LENGTH:
        raise ValueError(f"openid must be 1 to {MAX_OPENID_LENGTH} characters")


def _check_aware(value: datetime, name: str) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")
