"""Redis commands on the hot path, sent over redis-py's own `Connection`, one per thread.

redis-py's client wraps every command in a pool check-out and check-in, a retry policy and telemetry hooks: about
70 µs of CPU per command, against 27 µs for the same command on the client's `Connection` (a micro-benchmark on
the 2-core CI machine, redis-py 8.1 with hiredis). A turn sends two or three commands, so this is worth a small
wrapper. The connection is made from the client's own settings (URL, timeouts, credentials, decoding), so the two
never disagree. The command is packed by hiredis in one C call: redis-py's packer first passes every argument
through its encoder in Python (a turn's scripts have a dozen arguments each).

A connection belongs to one thread of one process (a forked worker makes its own). A command that fails because
the connection broke (Redis restarted, an idle connection closed) is sent once more on a new connection, as
redis-py's client does by default.
"""
from __future__ import annotations

import hashlib
import os
import threading
from typing import TYPE_CHECKING, Any, Callable, Sequence

from redis.exceptions import ConnectionError as RedisConnectionError, NoScriptError

try:
    from hiredis import pack_command
except ImportError:  # redis-py packs it then (pyproject.toml asks for redis[hiredis])
    pack_command = None

if TYPE_CHECKING:
    import redis
    from redis.connection import AbstractConnection


class Commands:
    def __init__(self, client: "redis.Redis") -> None:
        pool = client.connection_pool
        self._new_connection: Callable[[], "AbstractConnection"] = \
            lambda: pool.connection_class(**pool.connection_kwargs)
        self._local = threading.local()

    def __call__(self, *args: Any) -> Any:
        try:
            return self._send(self._connection(), args)
        except RedisConnectionError:
            self._local.connection = None
            return self._send(self._connection(), args)

    def script(self, source: str) -> Callable[[Sequence[str], Sequence[Any]], Any]:
        """A Lua script run by its SHA1, loaded again when Redis no longer has it (a restart, SCRIPT FLUSH)."""
        sha = hashlib.sha1(source.encode("utf-8")).hexdigest()

        def run(keys: Sequence[str], args: Sequence[Any]) -> Any:
            try:
                return self("EVALSHA", sha, len(keys), *keys, *args)
            except NoScriptError:
                return self("EVAL", source, len(keys), *keys, *args)

        return run

    def _connection(self) -> "AbstractConnection":
        local = self._local
        if getattr(local, "connection", None) is None or local.pid != os.getpid():
            local.connection, local.pid = self._new_connection(), os.getpid()
        return local.connection

    @staticmethod
    def _send(connection: "AbstractConnection", args: tuple) -> Any:
        try:
            if pack_command is None:
                connection.send_command(*args)
            else:  # str (as UTF-8), bytes and numbers, like redis-py's own encoder with its default settings
                connection.send_packed_command([pack_command(args)], check_health=False)
            return connection.read_response()
        except RedisConnectionError:
            connection.disconnect()
            raise
