"""转人工 as the citizen lives it: a place in the queue (or a deadline after hours), the bot silent while a person
holds the conversation, 结束人工, the history and item handed over, the 绿色通道 and the fourth misunderstanding.

Pure transcripts through dialogs.engine.handle; the gateway's answer to "who answers now" is a stand-in
`handoff_outlook`.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from dialogs.effects import EndHandoff, Escalate, KeepMedia, RelayToStaff
from dialogs.engine import Env, handle
from dialogs.handoff import set_human
from dialogs.priority import group_of
from dialogs.state import LOG_CHARS, LOG_ENTRIES, STATE_VERSION, fresh
from dialogs.views import HandoffOutlook
from test_dialogs_transcripts import NOW, RESIDENCE, SHANGHAI, check, converse, event, photo, said, voice
from test_dialogs_transcripts import env, hall, knowledge  # noqa: F401  (fixtures)

NONSENSE = ["asdfgh", "今天天气怎么样", "qwe zxc", "zzzz qqq", "xyzzy"]


class Outlook:
    """A stand-in for the gateway's handoff_outlook: remembers whether it was asked for the green channel."""

    def __init__(self, outlook: HandoffOutlook):
        self.outlook = outlook
        self.calls: list[bool] = []

    def __call__(self, priority: bool = False) -> HandoffOutlook:
        self.calls.append(priority)
        return self.outlook


OPEN = HandoffOutlook(open_now=True, ahead=2, answer_by=None, wait_minutes=10)
CLOSED = HandoffOutlook(open_now=False, ahead=0, answer_by=datetime(2024, 5, 7, 9, 0, tzinfo=SHANGHAI),
                        wait_minutes=10)


def with_outlook(env: Env, outlook: HandoffOutlook = OPEN) -> Env:
    return replace(env, handoff_outlook=Outlook(outlook))


def taken(turn_state: dict, escalation_id: int = 7) -> dict:
    return set_human(turn_state, "taken", escalation_id, NOW)


def effects_of(turns, kind):
    return [e for t in turns for e in t.effects if isinstance(e, kind)]


# --- asking for a person ---------------------------------------------------------------------------------------

def test_during_working_hours_the_citizen_is_told_their_place_in_the_queue(env):
    turns = converse(with_outlook(env), [
        ("居住证在哪办", ["【居住证申领】"]),
        ("转人工", ["已为您转人工", "前面还有2位", "约10分钟内有工作人员回复", "等待时您也可以继续问我"]),
    ])
    (escalate,) = turns[1].effects
    assert isinstance(escalate, Escalate) and escalate.reason == "asked" and escalate.item_id == RESIDENCE
    assert escalate.last_question == "居住证在哪办" and escalate.priority_group is None
    assert turns[1].state["human"] == {"id": None, "status": "waiting"}


def test_the_first_in_the_queue_is_told_someone_comes_at_once(env):
    first = HandoffOutlook(open_now=True, ahead=0, answer_by=None, wait_minutes=5)
    converse(with_outlook(env, first), [("转人工", ["马上为您安排", "约5分钟内", "!前面还有"])])


def test_after_hours_the_message_is_left_with_the_time_of_the_answer(env):
    turn = converse(with_outlook(env, CLOSED), [
        ("转人工，我想问老人上门办身份证", ["现在是下班时间", "您的留言已登记", "5月7日（周二）9点前回复您",
                                     "!前面还有"]),
    ])[0]
    (escalate,) = turn.effects
    assert escalate.last_question == "转人工，我想问老人上门办身份证"
    assert turn.state["human"]["status"] == "waiting"


def test_the_deadline_keeps_its_minutes(env):
    closed = replace(CLOSED, answer_by=datetime(2024, 5, 11, 12, 30, tzinfo=SHANGHAI))
    converse(with_outlook(env, closed), [("人工", ["5月11日（周六）12:30前回复您"])])


def test_without_an_outlook_the_hours_and_phone_are_given(env):
    converse(env, [("转人工", ["转给工作人员", "办公时间", "020-83120000"])])


def test_asking_again_while_waiting_does_not_queue_twice(env):
    turns = converse(with_outlook(env), [
        ("转人工", ["前面还有2位"]),
        ("转人工", ["您已经在排队了", "结束人工", "!前面还有"]),
        (event("click", "HUMAN"), ["您已经在排队了"]),
    ])
    assert len(effects_of(turns, Escalate)) == 1
    assert turns[-1].state["human"]["status"] == "waiting"


def test_after_hours_asking_again_repeats_the_time_of_the_answer(env):
    converse(with_outlook(env, CLOSED), [("转人工", []), ("转人工", ["留言已登记", "5月7日（周二）9点前"])])


# --- while waiting ---------------------------------------------------------------------------------------------

def test_while_waiting_the_bot_answers_and_staff_see_what_was_said(env):
    turns = converse(with_outlook(env), [
        ("转人工", []),
        ("居住证在哪办", ["【居住证申领】", "1楼 A区"]),
        (voice("结婚登记要带什么"), ["您说的是", "【结婚登记】"]),
    ])
    [first], [second] = turns[1].effects, turns[2].effects  # the clerk who takes over sees what the bot said
    assert (first.text, first.answered) == ("居住证在哪办", turns[1].replies[0])
    assert second.text == "结婚登记要带什么" and second.answered.startswith("【结婚登记】")
    assert second.answered in "\n".join(turns[2].replies)  # after the "您说的是" echo of the voice message
    assert turns[2].state["human"]["status"] == "waiting"


def test_while_waiting_what_the_bot_does_not_understand_is_said_to_have_gone_to_staff(env):
    turns = converse(with_outlook(env, CLOSED), [
        ("转人工", []),
        ("我等一下", ["已转给工作人员", "结束人工", "!回复“转人工”"]),
        ("好的麻烦了", ["已转给工作人员"]),
        ("那个啥", ["已转给工作人员"]),
        ("居住证在哪办", ["【居住证申领】"]),  # a question the bot can answer is still answered
    ])
    assert [t.effects for t in turns[1:4]] == [(RelayToStaff(t),) for t in ("我等一下", "好的麻烦了", "那个啥")]
    assert all(t.state["misses"] == 0 for t in turns) and turns[-1].state["human"]["status"] == "waiting"


def test_a_photo_while_waiting_is_kept_for_staff(env):
    turns = converse(with_outlook(env), [("转人工", []), (photo("m-9"), ["照片已收到，工作人员会看到", "!没法保存"])])
    assert set(turns[1].effects) == {RelayToStaff("[图片]"), KeepMedia("m-9", note="转人工时发来的照片")}


@pytest.mark.parametrize("word", ["结束人工", "不用人工了", "取消"])
def test_ending_while_waiting_leaves_the_queue(env, word):
    turns = converse(with_outlook(env), [("转人工", []), (word, ["退出人工排队"]), ("居住证", ["【居住证申领】"])])
    assert turns[1].effects == (EndHandoff(),)
    assert turns[1].state["human"] is None and turns[2].effects == ()


def test_ending_without_a_handoff_just_says_there_is_none(env):
    turn = converse(env, [("结束人工", ["现在没有在等工作人员", "转人工"])])[0]
    assert turn.effects == ()


# --- while a person holds the conversation ---------------------------------------------------------------------

def test_while_a_person_holds_the_conversation_the_bot_is_silent_and_relays_everything(env):
    first = converse(with_outlook(env), [("转人工", [])])[0]
    state = taken(first.state)
    assert state["human"] == {"id": 7, "status": "taken"}
    sent = [said("居住证在哪办"), said("取消"), said("转人工"), said("asdfgh"), voice("我在大厅门口了"), voice(None),
            photo("m-1"), event("click", "BOOK")]
    relayed = []
    for message in sent:
        turn = handle(state, message, env)
        check(turn)
        assert turn.replies == ()
        relayed += [e.text for e in turn.effects if isinstance(e, RelayToStaff)]
        state = turn.state
        assert state["human"]["status"] == "taken" and state["misses"] == 0
    assert relayed == ["居住证在哪办", "取消", "转人工", "asdfgh", "我在大厅门口了", "[语音，未能识别]", "[图片]",
                       "[点了菜单：预约帮办代办]"]
    turn = handle(state, photo("m-2"), env)
    assert KeepMedia("m-2", note="转人工时发来的照片") in turn.effects


@pytest.mark.parametrize("word", ["结束人工", "不用人工了", "请结束人工服务"])
def test_the_citizen_ends_the_conversation_with_a_person(env, word):
    first = converse(env, [("转人工", [])])[0]
    turns = converse(env, [
        (word, ["已结束人工服务，有问题可以继续问我"]),
        ("居住证在哪办", ["【居住证申领】"]),
    ], state=taken(first.state))
    assert turns[0].effects == (EndHandoff(),) and turns[0].state["human"] is None
    assert turns[1].effects == ()


def test_ending_by_voice_works_too(env):
    first = converse(env, [("转人工", [])])[0]
    turn = handle(taken(first.state), voice("结束人工"), env)
    assert turn.effects == (EndHandoff(),) and "已结束人工服务" in turn.replies[0]


def test_a_held_conversation_does_not_time_out(env):
    first = converse(env, [("居住证", []), ("转人工", [])])[-1]
    hours_later = replace(env, now=NOW + timedelta(hours=5))
    turn = handle(taken(first.state), said("在吗"), hours_later)
    assert turn.replies == () and turn.effects == (RelayToStaff("在吗"),)
    assert turn.state["item"] == RESIDENCE


def test_when_staff_close_it_the_bot_answers_again(env):
    first = converse(env, [("转人工", [])])[0]
    closed = set_human(taken(first.state), None, None, NOW)
    converse(env, [("居住证", ["【居住证申领】"])], state=closed)


# --- set_human, for the gateway and the console ----------------------------------------------------------------

def test_set_human_tolerates_a_missing_or_foreign_state():
    for stored in (None, {"v": 99}, "garbage"):
        state = set_human(stored, "taken", 3, NOW)
        assert state["v"] == STATE_VERSION and state["human"] == {"id": 3, "status": "taken"}
        assert state["updated"] == NOW.isoformat()


def test_set_human_keeps_the_conversation_and_restarts_the_count_of_misses():
    state = {**fresh(NOW), "item": RESIDENCE, "misses": 3}
    changed = set_human(state, "waiting", None, NOW + timedelta(minutes=1))
    assert changed["item"] == RESIDENCE and changed["misses"] == 0 and state["misses"] == 3
    assert set_human(changed, None, None, NOW)["human"] is None


@pytest.mark.parametrize("status, ident", [("closed", 1), ("taken", "7"), ("taken", True)])
def test_set_human_refuses_what_it_does_not_know(status, ident):
    with pytest.raises(ValueError):
        set_human(None, status, ident, NOW)


# --- history ---------------------------------------------------------------------------------------------------

def test_the_escalation_carries_the_conversation_so_far(env):
    turns = converse(with_outlook(env), [
        ("结婚登记要带什么", ["【结婚登记】"]),
        ("居住证在哪办", ["【居住证申领】"]),
        ("我要转人工", []),
    ])
    (escalate,) = turns[-1].effects
    assert escalate.item_id == RESIDENCE and escalate.last_question == "居住证在哪办"
    assert [d for d, _ in escalate.history] == ["in", "out", "in", "out", "in"]
    assert escalate.history[0] == ("in", "结婚登记要带什么") and escalate.history[-1] == ("in", "我要转人工")
    assert escalate.history[1] == ("out", turns[0].replies[0][:LOG_CHARS])
    assert turns[-1].state["log"][-1] == ["out", turns[-1].replies[0]]


def test_the_log_keeps_the_last_messages_only(env):
    turns = converse(env, [(q, []) for q in ["居住证", "在哪办", "电话多少", "收费吗", "多久", "详情", "谢谢",
                                             "结婚登记", "在哪办"]])
    log = turns[-1].state["log"]
    assert len(log) == LOG_ENTRIES and log[-2] == ["in", "在哪办"]


# --- the fourth misunderstanding -------------------------------------------------------------------------------

def test_the_fourth_message_not_understood_puts_the_citizen_in_the_queue(env):
    turns = converse(with_outlook(env), [
        (NONSENSE[0], ["!转人工，请工作人员帮您"]),
        (NONSENSE[1], []),
        (NONSENSE[2], ["请回复“转人工”，请工作人员帮您"]),
        (NONSENSE[3], ["我还是没能听懂，已请工作人员来帮您", "前面还有2位"]),
        (NONSENSE[4], ["!请回复“转人工”", "!已请工作人员"]),
    ])
    assert [len(effects_of([t], Escalate)) for t in turns] == [0, 0, 0, 1, 0]
    (escalate,) = effects_of(turns, Escalate)
    assert escalate.reason == "misunderstood" and escalate.last_question == NONSENSE[3]
    assert turns[3].state["human"]["status"] == "waiting" and turns[3].state["misses"] == 0
    assert turns[4].effects == (RelayToStaff(NONSENSE[4]),)


def test_the_fourth_misunderstanding_after_hours_gives_the_time_of_the_answer(env):
    turns = converse(with_outlook(env, CLOSED), [(q, []) for q in NONSENSE[:3]] + [
        (NONSENSE[3], ["已请工作人员来帮您", "下班时间", "5月7日（周二）9点前"])])
    assert effects_of(turns, Escalate)[0].reason == "misunderstood"


def test_a_voice_message_not_heard_counts_as_a_miss_too(env):
    turns = converse(env, [(voice(None), []), (voice(None), []), (voice(None), ["转人工"]),
                           (voice(None), ["已请工作人员来帮您", "020-83120000"])])
    assert effects_of(turns, Escalate)[0].reason == "misunderstood"


# --- 绿色通道 --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, group", [
    ("我70岁了，身份证丢了怎么补办", "老年人"), ("我是老年人", "老年人"), ("我年纪大了，腿脚不方便", "老年人"),
    ("八十多岁了，身份证过期了", "老年人"), ("帮我爸办，他80岁了", "老年人"), ("我妈七十多岁了", "老年人"),
    ("家里老人行动不便，能上门吗", "老年人"), ("我今年六十五岁", "老年人"),
    ("我是残疾人", "残疾人"), ("本人残疾", "残疾人"), ("我坐轮椅，能上门办吗", "残疾人"), ("我是盲人", "残疾人"),
    ("我有残疾人证", "残疾人"), ("我是听障人士", "残疾人"),
    ("我怀孕了", "孕妇"), ("我老婆怀孕了，想办生育登记", "孕妇"), ("我是孕妇", "孕妇"), ("怀孕了要办什么证", "孕妇"),
    ("我是退伍军人", "军人"), ("本人退役军人", "军人"), ("我是一名现役军人", "军人"), ("我是老兵", "军人"),
])
def test_a_citizen_who_says_they_belong_to_a_green_channel_group_is_recognised(text, group):
    assert group_of(text) == group


@pytest.mark.parametrize("text", [
    "残疾人证怎么办", "老年人优待证要带什么", "60岁以上可以免费坐车吗", "我想办残疾人证", "孕妇可以优先吗",
    "退役军人优待证怎么办", "转人工，我想问老人上门办身份证", "帮助老人办身份证", "其他残疾人也可以吗",
    "我不是残疾人", "我孩子3岁了", "我30岁了", "60多岁的老人能办吗", "我想给我爸办残疾人证", "怀孕需要办什么证",
    "生育登记要带什么", "我是军人家属", "我60天前办的", "我是来办老年证的", "居住证怎么办", "",
])
def test_questions_about_items_for_these_groups_are_not_statements_about_the_citizen(text):
    assert group_of(text) is None


def test_the_green_channel_is_noted_once_kept_and_handed_to_staff(env):
    outlook_env = with_outlook(env)
    turns = converse(outlook_env, [
        ("我70岁了，居住证怎么办", ["【居住证申领】", "绿色通道", "上门服务"]),
        ("在哪办", ["1楼 A区", "!绿色通道"]),
        ("转人工", ["绿色通道，优先安排", "前面还有2位"]),
    ])
    assert [t.state["group"] for t in turns] == ["老年人"] * 3
    (escalate,) = turns[-1].effects
    assert escalate.priority_group == "老年人"
    assert outlook_env.handoff_outlook.calls == [True]  # only the green-channel queue is ahead


def test_a_question_about_an_item_for_a_group_sets_no_group(env):
    turns = converse(with_outlook(env), [("残疾人证怎么办", ["!绿色通道"]), ("转人工", ["!绿色通道"])])
    assert turns[-1].state["group"] is None and turns[-1].effects[0].priority_group is None
