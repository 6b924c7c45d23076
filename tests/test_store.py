"""One contract for every conversation store: the embedded SQLite one and the Redis one behave the same."""
from __future__ import annotations

import threading
import time

import pytest

from bot.store import AlreadyClaimed, ClaimStatus, EmbeddedStore, LockTimeout, RedisStore


@pytest.fixture(params=["embedded", "redis"])
def store(request, tmp_path):
    if request.param == "embedded":
        store = EmbeddedStore(tmp_path / "conversations.sqlite3")
        yield store
        store.close()
        return
    client, prefix = request.getfixturevalue("redis_client")
    yield RedisStore(client, prefix=prefix)


def run_threads(count: int, target) -> None:
    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)


def test_a_saved_state_reads_back_equal_including_chinese_text(store):
    state = {"v": 1, "flow": "consult", "item": "结婚登记", "choices": ["a", "b"], "updated": "2026-01-01T09:00+08:00"}

    store.set_state("oUser1", state, ttl_seconds=60)

    assert store.get_state("oUser1") == state
    assert store.get_state("oSomeoneElse") is None


def test_setting_a_state_again_replaces_it(store):
    store.set_state("oUser1", {"step": 1}, ttl_seconds=60)
    store.set_state("oUser1", {"step": 2}, ttl_seconds=60)

    assert store.get_state("oUser1") == {"step": 2}


def test_a_deleted_state_is_gone_and_deleting_twice_is_harmless(store):
    store.set_state("oUser1", {"step": 1}, ttl_seconds=60)

    store.delete_state("oUser1")
    store.delete_state("oUser1")

    assert store.get_state("oUser1") is None


def test_a_state_expires_after_its_ttl(store):
    store.set_state("oUser1", {"step": 1}, ttl_seconds=0.3)
    assert store.get_state("oUser1") == {"step": 1}

    time.sleep(0.5)

    assert store.get_state("oUser1") is None


def test_only_a_dict_can_be_a_state(store):
    with pytest.raises(TypeError):
        store.set_state("oUser1", ["not", "a", "dict"], ttl_seconds=60)


def test_a_key_is_claimed_once_until_released(store):
    assert store.claim("msg:1", ttl_seconds=60) is True
    assert store.claim("msg:1", ttl_seconds=60) is False
    assert store.claim("msg:2", ttl_seconds=60) is True

    store.release("msg:1")

    assert store.claim_status("msg:1") is None
    assert store.claim("msg:1", ttl_seconds=60) is True


def test_a_claim_can_be_taken_again_after_it_expires(store):
    assert store.claim("msg:1", ttl_seconds=0.3)
    time.sleep(0.5)

    assert store.claim("msg:1", ttl_seconds=60) is True


def test_of_many_threads_claiming_one_key_exactly_one_wins(store):
    wins = []

    def claim(_):
        if store.claim("msg:race", ttl_seconds=60):
            wins.append(1)

    run_threads(16, claim)

    assert wins == [1]


def test_a_claim_is_pending_until_its_reply_is_remembered(store):
    assert store.claim_status("msg:1") is None
    store.claim("msg:1", ttl_seconds=60)
    assert store.claim_status("msg:1") == ClaimStatus(done=False)

    store.remember_reply("msg:1", "【结婚登记】需要带：身份证", ttl_seconds=60)

    assert store.claim_status("msg:1") == ClaimStatus(done=True, reply="【结婚登记】需要带：身份证")
    assert store.claim("msg:1", ttl_seconds=60) is False


def test_a_claim_answered_with_success_remembers_no_reply(store):
    store.claim("evt:oUser1:1700000000", ttl_seconds=60)
    store.remember_reply("evt:oUser1:1700000000", None, ttl_seconds=60)

    assert store.claim_status("evt:oUser1:1700000000") == ClaimStatus(done=True, reply=None)


def test_a_remembered_reply_expires_with_its_ttl(store):
    store.claim("msg:1", ttl_seconds=60)
    store.remember_reply("msg:1", "好的", ttl_seconds=0.3)
    time.sleep(0.5)

    assert store.claim_status("msg:1") is None


def test_the_lock_lets_one_turn_of_a_user_run_at_a_time(store):
    inside, most_inside, count = [0], [0], [0]
    guard = threading.Lock()

    def turn(_):
        with store.lock("oUser1", wait_seconds=20):
            with guard:
                inside[0] += 1
                most_inside[0] = max(most_inside[0], inside[0])
            seen = count[0]
            time.sleep(0.01)  # a read-modify-write that a second turn would corrupt
            count[0] = seen + 1
            with guard:
                inside[0] -= 1

    run_threads(12, turn)

    assert most_inside[0] == 1
    assert count[0] == 12


def test_the_locks_of_two_users_do_not_block_each_other(store):
    with store.lock("oUser1", wait_seconds=1):
        with store.lock("oUser2", wait_seconds=0.2):
            pass


def test_a_busy_lock_times_out(store):
    held, give_up = threading.Event(), threading.Event()

    def holder():
        with store.lock("oUser1", wait_seconds=1):
            held.set()
            give_up.wait(5)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert held.wait(5)
        started = time.monotonic()
        with pytest.raises(LockTimeout):
            with store.lock("oUser1", wait_seconds=0.2):
                pass
        assert 0.15 <= time.monotonic() - started < 2
    finally:
        give_up.set()
        thread.join()

    with store.lock("oUser1", wait_seconds=1):  # free again once the holder is done
        pass


def test_the_lock_is_released_when_the_turn_raises(store):
    with pytest.raises(RuntimeError):
        with store.lock("oUser1", wait_seconds=1):
            raise RuntimeError("the dialogue failed")

    with store.lock("oUser1", wait_seconds=0.2):
        pass


# ---- hold: lock, state, mark and write-back together ---------------------------------------------------------


def test_a_held_conversation_counts_every_turn_of_a_burst(store):
    def turn(_):
        with store.hold("oUser1", wait_seconds=20) as held:
            count = (held.state or {}).get("count", 0)
            time.sleep(0.005)  # a read-modify-write that an interleaved turn would corrupt
            held.save({"count": count + 1, "话": "办证"}, ttl_seconds=60)

    run_threads(12, turn)

    assert store.get_state("oUser1") == {"count": 12, "话": "办证"}


def test_hold_writes_nothing_and_frees_the_user_when_the_turn_raises(store):
    store.set_state("oUser1", {"step": 1}, ttl_seconds=60)
    assert store.claim("msg:1", ttl_seconds=60)
    with pytest.raises(RuntimeError):
        with store.hold("oUser1", wait_seconds=1) as held:
            held.save({"step": 2}, ttl_seconds=60)
            held.remember_reply("msg:1", "答复", ttl_seconds=60)
            raise RuntimeError("the dialogue failed")

    assert store.get_state("oUser1") == {"step": 1}
    assert store.claim_status("msg:1") == ClaimStatus(done=False)
    with store.hold("oUser1", wait_seconds=0.2):
        pass


def test_hold_remembers_the_reply_and_can_forget_the_state(store):
    store.set_state("oUser1", {"step": 1}, ttl_seconds=60)
    assert store.claim("msg:2", ttl_seconds=60)
    with store.hold("oUser1", wait_seconds=1) as held:
        assert held.state == {"step": 1}
        held.forget()
        held.remember_reply("msg:2", "您好", ttl_seconds=60)

    assert store.get_state("oUser1") is None
    assert store.claim_status("msg:2") == ClaimStatus(done=True, reply="您好")


def test_hold_waits_for_a_lock_and_times_out_when_it_stays_busy(store):
    with store.lock("oUser1", wait_seconds=1):
        with pytest.raises(LockTimeout):
            with store.hold("oUser1", wait_seconds=0.2):
                pass
    with store.hold("oUser1", wait_seconds=0.2) as held:
        assert held.state is None


def test_a_mark_is_claimed_by_one_hold_until_it_is_released(store):
    mark = ("window:oUser1", 60)
    with store.hold("oUser1", wait_seconds=1, mark=mark) as first:
        pass
    with store.hold("oUser1", wait_seconds=1, mark=mark) as second:
        pass
    store.release("window:oUser1")
    with store.hold("oUser1", wait_seconds=1, mark=mark) as third:
        pass
    with store.hold("oUser1", wait_seconds=1) as unmarked:
        pass

    assert (first.marked, second.marked, third.marked, unmarked.marked) == (True, False, True, False)


def test_hold_takes_the_push_claim_and_a_retry_of_the_push_takes_nothing(store):
    store.set_state("oUser1", {"step": 1}, ttl_seconds=60)
    with store.hold("oUser1", wait_seconds=1, claim=("msg:1", 60)) as held:
        held.remember_reply("msg:1", "您好", ttl_seconds=60)

    with pytest.raises(AlreadyClaimed):
        with store.hold("oUser1", wait_seconds=1, claim=("msg:1", 60)) as retry:
            retry.forget()

    assert store.claim_status("msg:1") == ClaimStatus(done=True, reply="您好")
    assert store.get_state("oUser1") == {"step": 1}
    with store.hold("oUser1", wait_seconds=0.2, claim=("msg:2", 60)):  # the retry left the user free
        pass


def test_a_claim_taken_by_hold_stays_taken_when_the_user_stays_busy(store):
    with store.lock("oUser1", wait_seconds=1):
        with pytest.raises(LockTimeout):
            with store.hold("oUser1", wait_seconds=0.2, claim=("msg:1", 60)):
                pass

    assert store.claim_status("msg:1") == ClaimStatus(done=False)
    assert store.claim("msg:1", ttl_seconds=60) is False


# ---- what only one implementation has -------------------------------------------------------------------


def test_embedded_state_and_claims_survive_a_restart(tmp_path):
    path = tmp_path / "conversations.sqlite3"
    first = EmbeddedStore(path)
    first.set_state("oUser1", {"step": 3}, ttl_seconds=60)
    first.claim("msg:1", ttl_seconds=60)
    first.remember_reply("msg:1", "好的", ttl_seconds=60)
    first.close()

    again = EmbeddedStore(path)

    assert again.get_state("oUser1") == {"step": 3}
    assert again.claim_status("msg:1") == ClaimStatus(done=True, reply="好的")
    again.close()


def test_embedded_sweep_deletes_expired_rows(tmp_path):
    store = EmbeddedStore(tmp_path / "conversations.sqlite3")
    store.set_state("oUser1", {"step": 1}, ttl_seconds=0.05)
    store.claim("msg:1", ttl_seconds=0.05)
    time.sleep(0.1)

    store.sweep()

    import sqlite3

    with sqlite3.connect(store.path) as connection:
        assert connection.execute("SELECT count(*) FROM conversation_state").fetchone() == (0,)
        assert connection.execute("SELECT count(*) FROM message_claim").fetchone() == (0,)


def test_redis_lock_left_by_a_crashed_worker_frees_itself_after_its_lease(redis_client):
    client, prefix = redis_client
    crashed = RedisStore(client, prefix=prefix, lock_lease_seconds=0.3)
    crashed_lock = crashed.lock("oUser1", wait_seconds=1)
    crashed_lock.__enter__()  # never released: the worker died

    started = time.monotonic()
    with RedisStore(client, prefix=prefix).lock("oUser1", wait_seconds=5):
        waited = time.monotonic() - started

    assert 0.1 < waited < 2


def test_redis_lock_release_never_frees_a_lock_another_worker_took_since(redis_client):
    client, prefix = redis_client
    slow = RedisStore(client, prefix=prefix, lock_lease_seconds=0.2)
    other = RedisStore(client, prefix=prefix)

    with slow.lock("oUser1", wait_seconds=1):
        time.sleep(0.3)  # the lease ran out while the slow turn was still running
        with other.lock("oUser1", wait_seconds=1):
            pass
        took_again = other.lock("oUser1", wait_seconds=1)
        took_again.__enter__()
    # The slow worker's release ran with its own, stale token: the other's lock must still be there.
    assert client.get(f"{prefix}lock:oUser1") is not None
    took_again.__exit__(None, None, None)
    assert client.get(f"{prefix}lock:oUser1") is None


def test_redis_state_ttl_is_set_on_the_key(redis_client):
    client, prefix = redis_client
    RedisStore(client, prefix=prefix).set_state("oUser1", {"step": 1}, ttl_seconds=120)

    assert 110_000 < client.pttl(f"{prefix}state:oUser1") <= 120_000


def test_redis_store_carries_on_after_redis_drops_its_connections(redis_client):
    client, prefix = redis_client
    store = RedisStore(client, prefix=prefix)
    store.set_state("oUser1", {"step": 1}, ttl_seconds=60)

    client.client_kill_filter(_type="normal", skipme=True)  # e.g. Redis restarted, or closed idle connections

    with store.hold("oUser1", wait_seconds=1, claim=("msg:1", 60)) as held:
        held.save({"step": 2}, ttl_seconds=60)
    assert store.get_state("oUser1") == {"step": 2}


def test_redis_store_loads_its_scripts_again_after_a_script_flush(redis_client):
    client, prefix = redis_client
    store = RedisStore(client, prefix=prefix)
    with store.hold("oUser1", wait_seconds=1):
        pass

    client.script_flush()  # what a restarted Redis has forgotten

    with store.hold("oUser1", wait_seconds=1, mark=("window:oUser1", 60)) as held:
        held.save({"step": 1}, ttl_seconds=60)
    assert held.marked and store.get_state("oUser1") == {"step": 1}
