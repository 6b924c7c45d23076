"""The threads turns run in and the signal a request waits on (bot/wechat/turn_threads.py)."""
from __future__ import annotations

import threading
import time

from bot.wechat.turn_threads import Signal, TurnThreads


def run_and_wait(threads: TurnThreads, work) -> None:
    done = threading.Event()

    def wrapped():
        try:
            work()
        finally:
            done.set()

    threads.submit(wrapped)
    assert done.wait(5)


def test_turns_run_in_another_thread_which_is_kept_for_the_next_turn():
    threads, seen = TurnThreads(), []
    for _ in range(3):
        run_and_wait(threads, lambda: seen.append(threading.get_ident()))
        time.sleep(0.01)  # the thread goes back to waiting

    assert threading.get_ident() not in seen
    assert len(set(seen)) == 1


def test_turns_beyond_the_thread_limit_wait_for_a_free_thread_and_none_is_lost():
    threads, release, started, finished = TurnThreads(size=2), threading.Event(), [], []
    guard = threading.Lock()

    def slow(n):
        with guard:
            started.append(n)
        release.wait(5)
        with guard:
            finished.append(n)

    for n in range(5):
        threads.submit(lambda n=n: slow(n))
    time.sleep(0.2)
    assert len(started) == 2  # two threads at most: the other three wait
    release.set()
    deadline = time.monotonic() + 5
    while len(finished) < 5 and time.monotonic() < deadline:
        time.sleep(0.01)

    assert sorted(finished) == [0, 1, 2, 3, 4]


def test_a_turn_that_raises_leaves_its_thread_serving_the_next(caplog):
    threads, seen = TurnThreads(size=1), []

    def broken():
        raise RuntimeError("a bug")

    threads.submit(broken)
    run_and_wait(threads, lambda: seen.append("next"))

    assert seen == ["next"]
    assert "a turn thread's work failed" in caplog.text


def test_a_signal_waits_until_set_and_then_stays_set():
    signal = Signal()
    started = time.monotonic()

    assert not signal.wait(0.05) and not signal.is_set()
    assert time.monotonic() - started >= 0.04
    threading.Timer(0.05, signal.set).start()
    assert signal.wait(5)
    assert signal.wait(0) and signal.is_set()
    signal.set()  # setting twice is harmless
    assert signal.is_set()
