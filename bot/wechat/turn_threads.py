"""The threads turns are handed to, and the signal a turn gives the request waiting for it.

A turn that has to wait for the case database or for the user's lock goes on in one of these threads, so that the
request can answer within the reply budget while it waits (turn.py). The hand-over is kept to the least: each helper
thread sleeps on a raw lock of its own and is woken by releasing it, and a turn's "done" is a raw lock too, where
concurrent.futures' pool and a threading.Event go through a queue, a future and condition variables written in
Python.
"""
from __future__ import annotations

import _thread
import logging
import os
import threading
from collections import deque
from typing import Callable

log = logging.getLogger(__name__)


class Signal:
    """Set once by the turn's thread, waited for by its request: `wait(seconds)` is True when set in time."""

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock = _thread.allocate_lock()
        self._lock.acquire()  # held until set

    def set(self) -> None:
        if self._lock.locked():
            self._lock.release()

    def is_set(self) -> bool:
        return not self._lock.locked()

    def wait(self, seconds: float) -> bool:
        if self._lock.acquire(timeout=max(seconds, 0)):
            self._lock.release()  # stays set for the next look
            return True
        return False


class _Helper:
    __slots__ = ("wake", "work")

    def __init__(self) -> None:
        self.wake = _thread.allocate_lock()
        self.wake.acquire()
        self.work: Callable[[], None] | None = None


class TurnThreads:
    """At most `size` threads, started as needed and kept; work beyond them waits for the first one free. Made
    afresh in a forked worker (threads do not survive a fork)."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._guard = threading.Lock()
        self._idle: list[_Helper] = []
        self._waiting: deque[Callable[[], None]] = deque()
        self._started = 0
        self._pid = os.getpid()

    def submit(self, work: Callable[[], None]) -> None:
        with self._guard:
            if self._pid != os.getpid():
                self._idle, self._waiting, self._started, self._pid = [], deque(), 0, os.getpid()
            helper = self._idle.pop() if self._idle else None
            if helper is None:
                if self._started >= self.size:
                    self._waiting.append(work)
                    return
                self._started += 1
        if helper is None:
            helper = _Helper()
            threading.Thread(target=self._serve, args=(helper,), name="bangban-turn", daemon=True).start()
        helper.work = work
        helper.wake.release()

    def _serve(self, helper: _Helper) -> None:
        while True:
            helper.wake.acquire()
            work, helper.work = helper.work, None
            while work is not None:
                try:
                    work()
                except BaseException:  # noqa: BLE001 - a turn reports its own errors; the thread must go on
                    log.exception("wechat: a turn thread's work failed")
                with self._guard:
                    work = self._waiting.popleft() if self._waiting else None
                    if work is None:
                        self._idle.append(helper)
