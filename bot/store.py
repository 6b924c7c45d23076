"""Conversation store: each citizen's dialogue state, the claims that de-duplicate WeChat's retries, per-user locks.

One small interface, two implementations:

- `RedisStore` (REDIS_URL set): shared by every gunicorn worker; expiry is Redis' own TTL; the per-user lock is
  `SET NX PX` with a random token, released by a Lua compare-and-delete so that a worker never frees a lock that
  expired and was taken by another.
- `EmbeddedStore` (no REDIS_URL): an SQLite file under the data directory, so state survives a restart of
  `bangban serve`; thread-safe (a small pool of connections, WAL). Claims are atomic across processes too (one SQL
  upsert), but the per-user lock is a `threading.Lock`, i.e. it holds within ONE process: run several workers only
  with REDIS_URL.

What the operations mean:

- state: `get_state` / `set_state(user, state, ttl)` / `delete_state` — a JSON-able dict per OpenID; an expired
  state reads as None.
- claims: `claim(key, ttl)` is True for exactly one caller per key (until the claim expires or is released);
  `remember_reply(key, reply, ttl)` records what was answered (`reply=None`: answered "success", nothing to
  repeat); `claim_status(key)` tells a retry whether the first delivery is still running (`ClaimStatus.done`
  False), has answered (True, with the reply text), or is unknown (None: never claimed, expired or released);
  `release(key)` forgets a claim whose turn failed, so that WeChat's retry can try again.
- lock: `with store.lock(user, wait_seconds):` — one turn per citizen at a time; raises `LockTimeout` when the
  lock could not be had within `wait_seconds`.
- hold: `with store.hold(user, wait_seconds, mark=(key, ttl), claim=(key, ttl)) as held:` — the lock, the state
  read under it (`held.state`) and optionally a claim of the mark's key (`held.marked`); `held.save(state, ttl)` /
  `held.forget()` and `held.remember_reply(key, reply, ttl)` are written when the block ends without an error,
  then the lock is released. `claim`: a push's retry claim, taken first: `AlreadyClaimed` when another delivery
  has it (nothing else is taken); once taken it stays taken even when the lock then times out. Redis does the
  taking in one round trip and the writing back in another (a turn's whole use of the store); the embedded
  store composes the operations above.
"""
from __future__ import annotations

import json
import os
import random
import secrets
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

if TYPE_CHECKING:
    import redis

State = dict[str, Any]

EMBEDDED_FILE_NAME = "conversations.sqlite3"
LOCK_LEASE_SECONDS = 30.0  # a Redis lock left by a crashed worker frees itself after this


class LockTimeout(TimeoutError):
    """The per-user lock could not be taken in time."""


class AlreadyClaimed(Exception):
    """`hold(claim=...)`: another delivery of the push has its claim."""


@dataclass(frozen=True)
class ClaimStatus:
    done: bool  # False: the first delivery is still being handled
    reply: str | None = None  # done: the text answered the first time; None: answered "success"


_KEEP, _FORGET = object(), object()  # Held: leave the state as it is / delete it


class Held:
    """A conversation taken with `ConversationStore.hold`; see the module docstring."""

    def __init__(self, state: State | None, marked: bool) -> None:
        self.state = state
        self.marked = marked
        self.new_state: object = _KEEP
        self.state_ttl = 0.0
        self.reply: tuple[str, str | None, float] | None = None

    def save(self, state: State, ttl_seconds: float) -> None:
        _check_ttl(ttl_seconds)
        self.new_state, self.state_ttl = state, ttl_seconds

    def forget(self) -> None:
        self.new_state = _FORGET

    def remember_reply(self, key: str, reply: str | None, ttl_seconds: float) -> None:
        _check_ttl(ttl_seconds)
        self.reply = (key, reply, ttl_seconds)


class ConversationStore(ABC):
    """See the module docstring for what each operation promises."""

    @abstractmethod
    def get_state(self, user: str) -> State | None: ...

    @abstractmethod
    def set_state(self, user: str, state: State, ttl_seconds: float) -> None: ...

    @abstractmethod
    def delete_state(self, user: str) -> None: ...

    @abstractmethod
    def claim(self, key: str, ttl_seconds: float) -> bool: ...

    @abstractmethod
    def remember_reply(self, key: str, reply: str | None, ttl_seconds: float) -> None: ...

    @abstractmethod
    def claim_status(self, key: str) -> ClaimStatus | None: ...

    @abstractmethod
    def release(self, key: str) -> None: ...

    @abstractmethod
    def lock(self, user: str, wait_seconds: float) -> AbstractContextManager[None]: ...

    @contextmanager
    def hold(self, user: str, wait_seconds: float, mark: tuple[str, float] | None = None,
             claim: tuple[str, float] | None = None) -> Iterator[Held]:
        if claim is not None and not self.claim(*claim):
            raise AlreadyClaimed(claim[0])
        with self.lock(user, wait_seconds):
            held = Held(self.get_state(user), mark is not None and self.claim(*mark))
            yield held
            if held.new_state is _FORGET:
                self.delete_state(user)
            elif held.new_state is not _KEEP:
                self.set_state(user, held.new_state, held.state_ttl)
            if held.reply is not None:
                self.remember_reply(*held.reply)

    def close(self) -> None:  # noqa: B027 - optional
        pass


_PENDING = json.dumps({"done": False})


def _done(reply: str | None) -> str:
    return json.dumps({"done": True, "reply": reply}, ensure_ascii=False)


def _status(raw: str | bytes | None) -> ClaimStatus | None:
    if raw is None:
        return None
    value = json.loads(raw)
    return ClaimStatus(done=bool(value.get("done")), reply=value.get("reply"))


def _encode_state(state: State) -> str:
    if not isinstance(state, dict):
        raise TypeError(f"conversation state must be a dict, not {type(state).__name__}")
    return json.dumps(state, ensure_ascii=False, separators=(",", ":"))


def _check_ttl(ttl_seconds: float) -> int:
    milliseconds = int(ttl_seconds * 1000)
    if milliseconds <= 0:
        raise ValueError(f"a TTL must be positive, got {ttl_seconds!r} s")
    return milliseconds


class RedisStore(ConversationStore):
    _RELEASE = """
    if redis.call('get', KEYS[1]) == ARGV[1] then
        return redis.call('del', KEYS[1])
    end
    return 0
    """

    # KEYS: lock, state, mark, claim; ARGV: token, lease ms, mark TTL ms or '', claim TTL ms or '', claim value.
    # -1 when the claim is another's (nothing taken); nil when the lock is busy (a claim asked for is taken); else
    # {state or '', 1 if the mark was claimed}.
    _TAKE = """
    if ARGV[4] ~= '' and not redis.call('set', KEYS[4], ARGV[5], 'NX', 'PX', ARGV[4]) then
        return -1
    end
    if not redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
        return false
    end
    local marked = 0
    if ARGV[3] ~= '' and redis.call('set', KEYS[3], ARGV[5], 'NX', 'PX', ARGV[3]) then
        marked = 1
    end
    return {redis.call('get', KEYS[2]) or '', marked}
    """
    # KEYS: lock, state[, claim]; ARGV: token, 'keep'|'set'|'del', state, state TTL ms[, reply, reply TTL ms].
    _GIVE_BACK = """
    if ARGV[2] == 'set' then
        redis.call('set', KEYS[2], ARGV[3], 'PX', ARGV[4])
    elseif ARGV[2] == 'del' then
        redis.call('del', KEYS[2])
    end
    if KEYS[3] then
        redis.call('set', KEYS[3], ARGV[5], 'PX', ARGV[6])
    end
    if redis.call('get', KEYS[1]) == ARGV[1] then
        redis.call('del', KEYS[1])
    end
    return 1
    """

    def __init__(self, client: "redis.Redis", prefix: str = "bangban:",
                 lock_lease_seconds: float = LOCK_LEASE_SECONDS) -> None:
        from .redis_commands import Commands

        self.commands = Commands(client)  # also for the consultations shared through Redis
        self._redis = self.commands
        self._prefix = prefix
        self._lease_ms = _check_ttl(lock_lease_seconds)
        self._release_script = self._redis.script(self._RELEASE)
        self._take_script = self._redis.script(self._TAKE)
        self._give_back_script = self._redis.script(self._GIVE_BACK)

    def _key(self, kind: str, name: str) -> str:
        return f"{self._prefix}{kind}:{name}"

    def get_state(self, user: str) -> State | None:
        raw = self._redis("GET", self._key("state", user))
        return None if raw is None else json.loads(raw)

    def set_state(self, user: str, state: State, ttl_seconds: float) -> None:
        self._redis("SET", self._key("state", user), _encode_state(state), "PX", _check_ttl(ttl_seconds))

    def delete_state(self, user: str) -> None:
        self._redis("DEL", self._key("state", user))

    def claim(self, key: str, ttl_seconds: float) -> bool:
        return self._redis("SET", self._key("claim", key), _PENDING, "NX", "PX", _check_ttl(ttl_seconds)) is not None

    def remember_reply(self, key: str, reply: str | None, ttl_seconds: float) -> None:
        self._redis("SET", self._key("claim", key), _done(reply), "PX", _check_ttl(ttl_seconds))

    def claim_status(self, key: str) -> ClaimStatus | None:
        return _status(self._redis("GET", self._key("claim", key)))

    def release(self, key: str) -> None:
        self._redis("DEL", self._key("claim", key))

    @contextmanager
    def lock(self, user: str, wait_seconds: float) -> Iterator[None]:
        key = self._key("lock", user)
        token = secrets.token_hex(16)
        _wait_until(lambda: self._redis("SET", key, token, "NX", "PX", self._lease_ms), wait_seconds)
        try:
            yield
        finally:
            self._release_script([key], [token])

    @contextmanager
    def hold(self, user: str, wait_seconds: float, mark: tuple[str, float] | None = None,
             claim: tuple[str, float] | None = None) -> Iterator[Held]:
        lock, state = self._key("lock", user), self._key("state", user)
        token = secrets.token_hex(16)
        keys = [lock, state, self._key("claim", mark[0] if mark else ""), self._key("claim", claim[0] if claim else "")]
        args = [token, self._lease_ms, _check_ttl(mark[1]) if mark else "", _check_ttl(claim[1]) if claim else "",
                _PENDING]
        taken = self._take_script(keys, args)
        if taken == -1:
            raise AlreadyClaimed(claim[0])
        if not taken:
            args[3] = ""  # the claim is ours now: the next attempts only wait for the lock
            taken = _wait_until(lambda: self._take_script(keys, args), wait_seconds)
        raw, marked = taken
        held = Held(json.loads(raw) if raw else None, bool(marked))
        try:
            yield held
        except BaseException:
            self._release_script([lock], [token])
            raise
        keys, args = [lock, state], [token, "keep", "", 0]
        if held.new_state is _FORGET:
            args[1] = "del"
        elif held.new_state is not _KEEP:
            args[1:] = ["set", _encode_state(held.new_state), _check_ttl(held.state_ttl)]
        if held.reply is not None:
            key, reply, ttl = held.reply
            keys.append(self._key("claim", key))
            args += [_done(reply), _check_ttl(ttl)]
        self._give_back_script(keys, args)


class EmbeddedStore(ConversationStore):
    """SQLite under the data directory; see the module docstring for what holds across processes."""

    _SCHEMA = """
    CREATE TABLE IF NOT EXISTS conversation_state (user TEXT PRIMARY KEY, value TEXT NOT NULL, expires REAL NOT NULL);
    CREATE TABLE IF NOT EXISTS message_claim (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires REAL NOT NULL);
    """
    _SWEEP_EVERY = 500  # writes between deletions of expired rows

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._idle: list[sqlite3.Connection] = []  # connections not in use, reused by any thread
        self._pool_guard = threading.Lock()
        self._pid = os.getpid()
        self._locks: dict[str, list] = {}  # user -> [threading.Lock, number of holders and waiters]
        self._locks_guard = threading.Lock()
        self._writes = 0
        with self._connection() as connection:
            connection.executescript(self._SCHEMA)

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with self._pool_guard:
            if self._pid != os.getpid():  # a forked worker must not share its parent's connections
                self._idle, self._pid = [], os.getpid()
            connection = self._idle.pop() if self._idle else None
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
        try:
            yield connection
        finally:
            with self._pool_guard:
                self._idle.append(connection)

    def _write(self, sql: str, parameters: tuple) -> int:
        with self._connection() as connection:
            rowcount = connection.execute(sql, parameters).rowcount
        self._writes += 1
        if self._writes % self._SWEEP_EVERY == 0:
            self.sweep()
        return rowcount

    def sweep(self) -> None:
        """Delete expired rows (reads already ignore them)."""
        now = time.time()
        with self._connection() as connection:
            connection.execute("DELETE FROM conversation_state WHERE expires <= ?", (now,))
            connection.execute("DELETE FROM message_claim WHERE expires <= ?", (now,))

    def _read(self, table: str, column: str, name: str) -> str | None:
        with self._connection() as connection:
            row = connection.execute(
                f"SELECT value FROM {table} WHERE {column} = ? AND expires > ?", (name, time.time())).fetchone()
        return None if row is None else row[0]

    def get_state(self, user: str) -> State | None:
        raw = self._read("conversation_state", "user", user)
        return None if raw is None else json.loads(raw)

    def set_state(self, user: str, state: State, ttl_seconds: float) -> None:
        expires = time.time() + _check_ttl(ttl_seconds) / 1000
        self._write("INSERT INTO conversation_state (user, value, expires) VALUES (?, ?, ?) "
                    "ON CONFLICT (user) DO UPDATE SET value = excluded.value, expires = excluded.expires",
                    (user, _encode_state(state), expires))

    def delete_state(self, user: str) -> None:
        self._write("DELETE FROM conversation_state WHERE user = ?", (user,))

    def claim(self, key: str, ttl_seconds: float) -> bool:
        now = time.time()
        # One statement: inserted, or replaced an expired claim (rowcount 1); a live claim is left alone (0).
        return self._write(
            "INSERT INTO message_claim (key, value, expires) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires "
            "WHERE message_claim.expires <= ?",
            (key, _PENDING, now + _check_ttl(ttl_seconds) / 1000, now)) == 1

    def remember_reply(self, key: str, reply: str | None, ttl_seconds: float) -> None:
        self._write("INSERT INTO message_claim (key, value, expires) VALUES (?, ?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires",
                    (key, _done(reply), time.time() + _check_ttl(ttl_seconds) / 1000))

    def claim_status(self, key: str) -> ClaimStatus | None:
        return _status(self._read("message_claim", "key", key))

    def release(self, key: str) -> None:
        self._write("DELETE FROM message_claim WHERE key = ?", (key,))

    @contextmanager
    def lock(self, user: str, wait_seconds: float) -> Iterator[None]:
        with self._locks_guard:
            entry = self._locks.setdefault(user, [threading.Lock(), 0])
            entry[1] += 1
        try:
            if not entry[0].acquire(timeout=max(wait_seconds, 0)):
                raise LockTimeout(f"conversation lock busy for {wait_seconds:g} s")
            try:
                yield
            finally:
                entry[0].release()
        finally:
            with self._locks_guard:
                entry[1] -= 1
                if entry[1] == 0:
                    del self._locks[user]

    def close(self) -> None:
        with self._pool_guard:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


def _wait_until(attempt, wait_seconds: float):
    """attempt() until it returns something true, with growing pauses; LockTimeout after `wait_seconds`."""
    deadline = time.monotonic() + wait_seconds
    pause = 0.002
    while not (result := attempt()):
        if time.monotonic() >= deadline:
            raise LockTimeout(f"conversation lock busy for {wait_seconds:g} s")
        time.sleep(pause * (0.5 + random.random()))
        pause = min(pause * 2, 0.05)
    return result


def open_store(redis_client: "redis.Redis | None", data_dir: Path) -> ConversationStore:
    """Redis when configured, else the embedded SQLite file in the data directory."""
    if redis_client is not None:
        return RedisStore(redis_client)
    return EmbeddedStore(Path(data_dir) / EMBEDDED_FILE_NAME)
