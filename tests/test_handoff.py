"""The staff side of 转人工 (bot/handoff.py) on SQLite and on a real PostgreSQL: the queue's order, taking (two
clerks at once: exactly one wins), releasing, passing on, closing, staff replies within WeChat's allowance, and
conversations nobody took handed back to the bot with the citizen told."""
from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from bot import handoff
from bot.cases.models import ADMIN, CLERK, AuditEntry, Message, Staff, Unit
from bot.escalations import CLOSED, EXPIRED, LEFT, TAKEN, WAITING, Escalation
from bot.outbox import OutboxMessage, UserWindow, mask_openid
from bot.store import EmbeddedStore
from knowledge.model import Hall, HallData, ListingEntry
from tests.staff_helpers import record_escalation

NOW = datetime.now(timezone.utc).replace(microsecond=0)
PHONE = "020-83120000"
HALL = HallData(
    hall=Hall(name="示例政务服务中心", address="示例大道1号", hours="周一至周五", phone=PHONE),
    listing={"id-card": ListingEntry(1, "区公安分局", "id-card", "居民身份证申领", None, None, None, None,
                                     frozenset({"帮办"})),
             "marriage": ListingEntry(2, "区民政局", "marriage", "结婚登记", None, None, None, None,
                                      frozenset({"帮办"}))})


# ---- databases ----------------------------------------------------------------------------------------------------
@pytest.fixture
def sessions(model_sessions):
    """Every test here on SQLite and on PostgreSQL (tests/conftest.py)."""
    return model_sessions


@pytest.fixture
def store(tmp_path):
    store = EmbeddedStore(tmp_path / "conversations.sqlite3")
    yield store
    store.close()


@pytest.fixture
def people(sessions):
    """Two clerks of the police unit (李晓燕 with 陈志强 as AB岗 backup), one of civil affairs, an admin."""
    with sessions.begin() as session:
        police, civil = Unit(name="区公安分局"), Unit(name="区民政局")
        session.add_all([police, civil])
        session.flush()
        made = {}
        for key, name, unit, role in (("li", "李晓燕", police, CLERK), ("chen", "陈志强", police, CLERK),
                                      ("wang", "王秀英", civil, CLERK), ("boss", "欧阳明", civil, ADMIN)):
            made[key] = Staff(username=key, name=name, unit_id=unit.id, role=role, password_hash="x", active=True,
                              created_at=NOW)
            session.add(made[key])
        session.flush()
        made["li"].backup_id = made["chen"].id
        return {key: person.id for key, person in made.items()}


def staff(session, ident) -> Staff:
    return session.get(Staff, ident)


def escalate(sessions, store=None, openid=None, minutes_ago=1, priority=False, item_id="id-card", status=WAITING,
             question="身份证丢了怎么办", wrote=True) -> tuple[int, str]:
    """An escalation as the gateway records it (and the citizen's state "waiting" and sending window)."""
    openid = openid or f"o{uuid.uuid4().hex[:20]}"
    ident = record_escalation(sessions, store, openid, NOW - timedelta(minutes=minutes_ago), item_id=item_id,
                              question=question, status=status, priority=priority, wrote=wrote)
    return ident, openid


def outbox_texts(sessions, openid) -> list[str]:
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage.payload).where(OutboxMessage.openid == openid)
                                    .order_by(OutboxMessage.id)))


def human_of(store, openid):
    state = store.get_state(openid)
    return state.get("human") if state else None


# ---- the queue ----------------------------------------------------------------------------------------------------
def test_the_queue_puts_the_green_channel_first_then_first_come_first_served(sessions, store, people):
    first, _ = escalate(sessions, minutes_ago=12)
    second, _ = escalate(sessions, minutes_ago=5, status=LEFT)
    green, _ = escalate(sessions, minutes_ago=1, priority=True)
    taken, _ = escalate(sessions, minutes_ago=30, status=TAKEN)
    with sessions() as session:
        entries = handoff.queue(session, NOW, hall=HALL)
    assert [e.id for e in entries] == [green, first, second]
    assert taken not in [e.id for e in entries]
    assert entries[0].priority and entries[0].priority_group == "老年人"
    assert entries[1].waiting_minutes == 12 and entries[1].unit == "区公安分局"


def test_queue_entries_show_a_masked_openid_and_no_personal_data(sessions, people):
    ident, openid = escalate(sessions)
    with sessions() as session:
        entry = handoff.queue(session, NOW)[0]
    assert entry.who == mask_openid(openid) and openid not in repr(entry)


def test_clerks_see_their_units_escalations_and_those_without_a_unit(sessions, people):
    police, _ = escalate(sessions, item_id="id-card")
    civil, _ = escalate(sessions, item_id="marriage")
    unknown, _ = escalate(sessions, item_id=None)
    with sessions() as session:
        seen = {key: [e.id for e in handoff.queue(session, NOW, hall=HALL, viewer=staff(session, people[key]))]
                for key in ("li", "wang", "boss")}
    assert seen["li"] == [police, unknown]
    assert seen["wang"] == [civil, unknown]
    assert seen["boss"] == [police, civil, unknown]


# ---- taking -------------------------------------------------------------------------------------------------------
def test_taking_marks_it_taken_tells_the_citizen_the_surname_and_the_state_says_taken(sessions, store, people):
    ident, openid = escalate(sessions, store)
    with sessions.begin() as session:
        row = handoff.take(session, store, ident, staff(session, people["li"]), NOW)
        assert (row.status, row.staff_id, row.taken_at) == (TAKEN, people["li"], NOW)
    assert human_of(store, openid) == {"id": ident, "status": "taken"}
    assert outbox_texts(sessions, openid) == ["工作人员（李工作人员）已接入，请直接说您的问题。"]
    assert "晓燕" not in outbox_texts(sessions, openid)[0]
    with sessions() as session:
        audit = session.scalar(select(AuditEntry).where(AuditEntry.action == "handoff_take"))
        assert audit.actor == f"staff:{people['li']}" and audit.detail["escalation"] == ident
        assert session.scalar(select(Message.author).where(Message.escalation_id == ident)) == "bot"


def test_a_conversation_with_no_state_left_gets_a_fresh_one_held_by_the_clerk(sessions, store, people):
    ident, openid = escalate(sessions)  # no state in the store
    with sessions.begin() as session:
        handoff.take(session, store, ident, staff(session, people["li"]), NOW)
    assert human_of(store, openid) == {"id": ident, "status": "taken"}


def test_one_taken_by_a_colleague_cannot_be_taken_and_the_clerk_is_told_by_whom(sessions, store, people):
    ident, openid = escalate(sessions, store)
    with sessions.begin() as session:
        handoff.take(session, store, ident, staff(session, people["li"]), NOW)
    with pytest.raises(handoff.AlreadyTaken, match="已被李工作人员接手"):
        with sessions.begin() as session:
            handoff.take(session, store, ident, staff(session, people["chen"]), NOW)
    with sessions.begin() as session:  # the same clerk again (a double click): no error, nothing sent twice
        assert handoff.take(session, store, ident, staff(session, people["li"]), NOW).staff_id == people["li"]
    assert len(outbox_texts(sessions, openid)) == 1


def test_two_clerks_taking_the_same_escalation_at_once_exactly_one_wins(sessions, store, people):
    for _ in range(3):
        ident, openid = escalate(sessions, store)
        start = threading.Barrier(2)
        won, lost, errors = [], [], []

        def click(key):
            try:
                with sessions.begin() as session:
                    person = staff(session, people[key])
                    start.wait(5)
                    handoff.take(session, store, ident, person, NOW)
                won.append(key)
            except handoff.AlreadyTaken:
                lost.append(key)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=click, args=(key,)) for key in ("li", "chen")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert not errors and len(won) == 1 and len(lost) == 1
        with sessions() as session:
            assert session.get(Escalation, ident).staff_id == people[won[0]]
            takes = session.scalars(select(AuditEntry).where(AuditEntry.action == "handoff_take")).all()
            assert sum(1 for entry in takes if entry.detail["escalation"] == ident) == 1
        assert len(outbox_texts(sessions, openid)) == 1
        assert human_of(store, openid) == {"id": ident, "status": "taken"}


def test_a_closed_or_expired_escalation_cannot_be_taken(sessions, store, people):
    closed, _ = escalate(sessions, status=CLOSED)
    expired, _ = escalate(sessions, status=EXPIRED)
    with sessions.begin() as session:
        with pytest.raises(handoff.AlreadyTaken, match="已经结束"):
            handoff.take(session, store, closed, staff(session, people["li"]), NOW)
        with pytest.raises(handoff.AlreadyTaken, match="超时"):
            handoff.take(session, store, expired, staff(session, people["li"]), NOW)
        with pytest.raises(handoff.HandoffError, match="没有编号"):
            handoff.take(session, store, 999999, staff(session, people["li"]), NOW)


# ---- releasing, passing on, closing -------------------------------------------------------------------------------
def test_releasing_puts_it_back_in_its_place_and_tells_the_citizen_nothing(sessions, store, people):
    older, openid = escalate(sessions, store, minutes_ago=8)
    newer, _ = escalate(sessions, store, minutes_ago=2)
    with sessions.begin() as session:
        handoff.take(session, store, older, staff(session, people["li"]), NOW)
    with sessions.begin() as session:
        row = handoff.release(session, store, older, staff(session, people["li"]), NOW + timedelta(minutes=1))
        assert (row.status, row.staff_id) == (WAITING, None)
    assert human_of(store, openid) == {"id": older, "status": "waiting"}
    assert len(outbox_texts(sessions, openid)) == 1  # only "已接入"
    with sessions() as session:
        assert [e.id for e in handoff.queue(session, NOW + timedelta(minutes=1))] == [older, newer]
        # the wait before expiry counts from the release
        assert handoff.expire_waiting(session, store, NOW + timedelta(minutes=7), 10, PHONE) == []


def test_only_the_holder_releases_transfers_or_closes(sessions, store, people):
    ident, _ = escalate(sessions, store)
    with sessions.begin() as session:
        handoff.take(session, store, ident, staff(session, people["li"]), NOW)
    for operation in (handoff.release, handoff.close):
        with sessions.begin() as session:
            with pytest.raises(handoff.HandoffError, match="由李工作人员处理"):
                operation(session, store, ident, staff(session, people["chen"]), NOW)
    with sessions.begin() as session:
        with pytest.raises(handoff.HandoffError, match="由李工作人员处理"):
            handoff.transfer(session, store, ident, staff(session, people["chen"]), staff(session, people["wang"]),
                             NOW)
    waiting, _ = escalate(sessions, store)
    with sessions.begin() as session:
        with pytest.raises(handoff.HandoffError, match="还没有人接手"):
            handoff.release(session, store, waiting, staff(session, people["li"]), NOW)


def test_passing_it_to_the_ab_backup_makes_the_backup_hold_it_and_tells_the_citizen(sessions, store, people):
    ident, openid = escalate(sessions, store)
    with sessions.begin() as session:
        handoff.take(session, store, ident, staff(session, people["li"]), NOW)
    with sessions.begin() as session:
        li = staff(session, people["li"])
        assert handoff.colleagues(session, li)[0] == (staff(session, people["chen"]), True)
        row = handoff.transfer(session, store, ident, li, staff(session, people["chen"]), NOW)
        assert (row.status, row.staff_id) == (TAKEN, people["chen"])
    assert outbox_texts(sessions, openid)[-1] == "已为您转给陈工作人员，请直接说您的问题。"
    assert human_of(store, openid) == {"id": ident, "status": "taken"}
    with sessions.begin() as session:  # now 陈 holds it: he may reply, 李 may not
        row = session.get(Escalation, ident)
        handoff.staff_reply(session, row, staff(session, people["chen"]), "您好，我是陈工作人员。", NOW)
        with pytest.raises(handoff.HandoffError, match="其他同事"):
            handoff.staff_reply(session, row, staff(session, people["li"]), "还在吗", NOW)


def test_closing_ends_it_the_bot_talks_again_and_the_citizen_is_told(sessions, store, people):
    ident, openid = escalate(sessions, store)
    with sessions.begin() as session:
        handoff.take(session, store, ident, staff(session, people["li"]), NOW)
    with sessions.begin() as session:
        row = handoff.close(session, store, ident, staff(session, people["li"]), NOW)
        assert (row.status, row.closed_at) == (CLOSED, NOW)
    assert human_of(store, openid) is None
    assert outbox_texts(sessions, openid)[-1] == "人工服务已结束，有问题可以继续问我。"


def test_a_newer_escalation_of_the_same_citizen_keeps_its_state(sessions, store, people):
    old, openid = escalate(sessions, store)
    with sessions.begin() as session:
        handoff.take(session, store, old, staff(session, people["li"]), NOW)
    store.set_state(openid, {"v": 1, "human": {"id": old + 1000, "status": "waiting"}}, 3600)
    with sessions.begin() as session:
        handoff.close(session, store, old, staff(session, people["li"]), NOW)
    assert human_of(store, openid) == {"id": old + 1000, "status": "waiting"}


# ---- staff replies ------------------------------------------------------------------------------------------------
def taken_by_li(sessions, store, people, **kwargs) -> tuple[int, str]:
    ident, openid = escalate(sessions, store, **kwargs)
    with sessions.begin() as session:
        handoff.take(session, store, ident, staff(session, people["li"]), NOW)
    return ident, openid


def test_a_staff_reply_is_kept_in_the_conversation_and_queued_for_wechat(sessions, store, people):
    ident, openid = taken_by_li(sessions, store, people)
    with sessions.begin() as session:
        sent = handoff.staff_reply(session, session.get(Escalation, ident), staff(session, people["li"]),
                                   "请带户口本原件。\r\n", NOW)
        assert sent.message.text == "请带户口本原件。" and sent.message.staff_id == people["li"]
        assert sent.outbox[0].reason == "staff" and sent.message.outbox_id == sent.outbox[0].id
    assert outbox_texts(sessions, openid)[-1] == "请带户口本原件。"
    with sessions() as session:
        lines = handoff.conversation(session, session.get(Escalation, ident))
    assert [line.direction for line in lines] == ["in", "out", "in", "mark", "out", "out"]
    assert lines[-1].author == "staff" and lines[-1].at == NOW


def test_a_reply_is_refused_when_the_citizen_has_not_written_within_48_hours(sessions, store, people):
    ident, openid = taken_by_li(sessions, store, people, wrote=False)
    with sessions.begin() as session:
        with pytest.raises(handoff.HandoffError, match="48小时内没有发过消息"):
            handoff.staff_reply(session, session.get(Escalation, ident), staff(session, people["li"]), "您好", NOW)
    assert "您好" not in outbox_texts(sessions, openid)


def test_a_reply_is_refused_when_the_quota_is_used_up_and_says_until_when(sessions, store, people):
    ident, openid = taken_by_li(sessions, store, people)
    with sessions.begin() as session:
        session.execute(update(UserWindow).where(UserWindow.openid == openid).values(messages_since=4))
        can = handoff.allowance(session, openid, NOW)
        assert can.remaining == 0 and can.pending == 1  # the one allowed is taken by the "已接入" notice
        with pytest.raises(handoff.HandoffError, match="群众再发一条消息后就可以继续") as refused:
            handoff.staff_reply(session, session.get(Escalation, ident), staff(session, people["li"]), "您好", NOW)
    assert handoff.hall_time(can.open_until) in str(refused.value)


def test_the_allowance_counts_what_waits_in_the_outbox(sessions, store, people):
    ident, openid = taken_by_li(sessions, store, people)
    with sessions.begin() as session:
        can = handoff.allowance(session, openid, NOW)
        assert can.remaining == 4 and can.text.startswith("还可发送4条，至")
        row, li = session.get(Escalation, ident), staff(session, people["li"])
        for n in range(4):
            handoff.staff_reply(session, row, li, f"第{n}条", NOW)
        with pytest.raises(handoff.HandoffError, match="暂时不能再发送"):
            handoff.staff_reply(session, row, li, "第5条", NOW)


def test_a_long_reply_goes_in_parts_or_is_refused_when_too_few_may_go(sessions, store, people):
    ident, openid = taken_by_li(sessions, store, people)
    long = "\n".join(["请携带身份证原件、户口本原件和近期免冠照片，到政务服务中心一楼公安窗口办理。"] * 20)
    assert len(long.encode()) > 2048
    with sessions.begin() as session:
        row, li = session.get(Escalation, ident), staff(session, people["li"])
        sent = handoff.staff_reply(session, row, li, long, NOW)
        assert len(sent.outbox) == 2 and all(len(m.payload.encode()) <= 2048 for m in sent.outbox)
        handoff.staff_reply(session, row, li, "还有一件事", NOW)
        with pytest.raises(handoff.HandoffError, match="要分2条发，但现在只能再发1条"):
            handoff.staff_reply(session, row, li, long, NOW)


def test_an_empty_reply_or_one_to_a_waiting_conversation_is_refused(sessions, store, people):
    ident, _ = escalate(sessions, store)
    with sessions.begin() as session:
        row, li = session.get(Escalation, ident), staff(session, people["li"])
        with pytest.raises(handoff.HandoffError, match="请先接手"):
            handoff.staff_reply(session, row, li, "您好", NOW)
        with pytest.raises(handoff.HandoffError, match="请先输入"):
            handoff.staff_reply(session, row, li, "  \n ", NOW)


# ---- expiry -------------------------------------------------------------------------------------------------------
def test_nobody_taking_it_in_time_hands_it_back_to_the_bot_and_tells_the_citizen(sessions, store, people):
    old, openid = escalate(sessions, store, minutes_ago=11)
    young, young_openid = escalate(sessions, store, minutes_ago=3)
    left, _ = escalate(sessions, store, minutes_ago=60, status=LEFT)
    with sessions.begin() as session:
        assert handoff.expire_waiting(session, store, NOW, 10, PHONE) == [old]
    with sessions() as session:
        assert session.get(Escalation, old).status == EXPIRED
        assert session.get(Escalation, young).status == WAITING
        assert session.get(Escalation, left).status == LEFT
        assert session.scalar(select(AuditEntry.actor).where(AuditEntry.action == "handoff_expire")) == "system"
    assert human_of(store, openid) is None
    assert human_of(store, young_openid) == {"id": young, "status": "waiting"}
    assert outbox_texts(sessions, openid) == [
        f"暂时没有工作人员接手，您可以继续问我；也可以拨打{PHONE}，或稍后再回复“转人工”。"]
    with sessions.begin() as session:  # the next round finds nothing more to do
        assert handoff.expire_waiting(session, store, NOW, 10, PHONE) == []


def test_the_worker_timer_uses_the_halls_wait_and_runs_at_most_every_30_seconds(sessions, store, people):
    old, openid = escalate(sessions, store, minutes_ago=11)
    timer = handoff.ExpiryTimer(sessions, store, HALL, every=timedelta(seconds=30))  # [schedule] default: 10 min
    assert timer(NOW) == [old]
    newer, _ = escalate(sessions, store, minutes_ago=20)
    assert timer(NOW + timedelta(seconds=10)) == []
    assert timer(NOW + timedelta(seconds=31)) == [newer]


# ---- wording ------------------------------------------------------------------------------------------------------
def test_citizens_read_a_surname_never_a_full_name():
    assert handoff.surname("李晓燕") == "李" and handoff.surname("欧阳明") == "欧阳" and handoff.surname("lixy") == ""
    assert handoff.staff_title(Staff(name="欧阳明")) == "欧阳工作人员"


def test_the_one_time_notice_lists_every_missing_material_at_once():
    notice = handoff.one_time_notice(["户口本原件", " ", "近期免冠照片"], "一楼公安窗口")
    assert notice.startswith("您还缺：\n1. 户口本原件\n2. 近期免冠照片\n请备齐后到一楼公安窗口办理")


def test_the_worker_runs_the_expiry_among_its_chores(sessions, store, people, tmp_path):
    from bot.chores import make_chores
    from bot.config import Config

    old, openid = escalate(sessions, store, minutes_ago=11)
    chores = make_chores(Config.from_env({"BANGBAN_DATA_DIR": str(tmp_path)}), sessions, store, HALL,
                         clock=lambda: NOW)
    expiry = next(chore for chore in chores if chore.__name__ == "expire_handoffs")
    assert expiry() == [old] and human_of(store, openid) is None
