"""评价: rating a closed case (five levels), started by staff closing the case or by the citizen, with an optional
comment; 不满意 or worse is promised a follow-up call (回访). Transcripts with a fake case database
(tests/flow_helpers.py)."""
from __future__ import annotations

from dataclasses import replace

import pytest

from dialogs.effects import Rate
from dialogs.flows import begin_flow, current_question
from dialogs.flows.evaluation import parse_rating
from flow_helpers import MONDAY, FakeCases, case, converse, effects, env_at

CLOSED = case("BB20261120-0003", state="已办结", closed=True)
MARRIAGE = case("BB20261118-0001", title="结婚登记", state="已办结", closed=True, item_id="EXT-001")
RATED = replace(case("BB20261101-0002", title="社会保障卡补领、换领", state="已办结", closed=True), rated=True)
OPEN = case("BB20261122-0007")


def begun(number: str = CLOSED.number, cases=(CLOSED,)):
    """As after staff close the case: the flow begun from outside, its first question sent through the outbox."""
    env = env_at(cases=FakeCases(mine=list(cases)))
    state = begin_flow(None, "evaluation", {"number": number}, MONDAY)
    state, question = current_question(state, env)
    return env, state, question


def test_staff_closing_a_case_asks_for_a_rating_by_number():
    env, state, question = begun()
    assert question == ("请为您的办件BB20261120-0003（居住证申领）的服务评价，"
                        "回复数字：1非常满意 2满意 3基本满意 4不满意 5非常不满意")
    turns = converse(env, [("1", ["有什么意见建议可以直接说", "没有请回复“没有”"]),
                           ("工作人员很耐心，谢谢", ["谢谢您的评价", "BB20261120-0003"])], state=state)
    assert effects(turns) == [Rate("BB20261120-0003", 1, "工作人员很耐心，谢谢")]
    assert turns[-1].state["flow"] is None


@pytest.mark.parametrize("word, rating", [("非常满意", 1), ("很满意", 1), ("满意", 2), ("比较满意", 2),
                                          ("基本满意", 3), ("一般", 3), ("不满意", 4), ("非常不满意", 5),
                                          ("五星", 1), ("3", 3), ("第二个", 2)])
def test_a_rating_by_word_stars_or_number(word, rating):
    env, state, _ = begun()
    turns = converse(env, [(word, ["意见建议"]), ("没有", [])], state=state)
    assert effects(turns) == [Rate(CLOSED.number, rating, None)]


@pytest.mark.parametrize("skip", ["没有", "没了", "无", "没有意见", "没什么"])
def test_the_comment_can_be_skipped(skip):
    env, state, _ = begun()
    turns = converse(env, [("2", []), (skip, ["谢谢您的评价"])], state=state)
    assert effects(turns) == [Rate(CLOSED.number, 2, None)]


@pytest.mark.parametrize("rating", ["4", "5", "很不满意"])
def test_a_bad_rating_is_promised_a_follow_up_call(rating):
    env, state, _ = begun()
    turns = converse(env, [(rating, ["很抱歉让您不满意", "意见建议"]),
                           ("排队太久了", ["回访", "!谢谢您的评价！"])], state=state)
    (rate,) = effects(turns)
    assert rate.rating >= 4 and rate.comment == "排队太久了"


def test_a_bad_rating_is_asked_again_then_a_person_is_offered():
    env, state, _ = begun()
    turns = converse(env, [
        ("6", ["请回复1到5的数字", "5非常不满意"]),
        ("还行吧我也说不好", ["意见建议"]),  # 还行: 基本满意
    ], state=state)
    assert turns[-1].state["flow"]["data"]["rating"] == 3
    env, state, _ = begun()
    converse(env, [("asdf", ["请回复1到5"]), ("qwer", ["评价"]), ("zxcv", ["转人工"])], state=state)


def test_cancelling_midway_rates_nothing():
    env, state, _ = begun()
    turns = converse(env, [("2", []), ("取消", ["已退出服务评价"])], state=state)
    assert effects(turns) == [] and turns[-1].state["flow"] is None


def test_a_correction_before_the_comment_changes_the_rating():
    env, state, _ = begun()
    turns = converse(env, [("4", ["很抱歉"]), ("返回", ["回到上一步", "回复数字"]), ("2", []), ("没有", [])],
                     state=state)
    assert effects(turns) == [Rate(CLOSED.number, 2, None)]


# --- started by the citizen ------------------------------------------------------------------------------------

def test_the_citizen_rates_their_one_closed_case():
    env = env_at(cases=FakeCases(mine=[OPEN, CLOSED, RATED]))
    turns = converse(env, [("评价", ["BB20261120-0003（居住证申领）", "1非常满意"]), ("满意", []), ("没有", [])])
    assert effects(turns) == [Rate(CLOSED.number, 2, None)]


def test_with_several_closed_cases_it_asks_which():
    env = env_at(cases=FakeCases(mine=[CLOSED, MARRIAGE, RATED]))
    turns = converse(env, [("我要评价", ["要评价哪一件", "1. 居住证申领", "2. 结婚登记", "!社会保障卡"]),
                           ("2", ["BB20261118-0001（结婚登记）"]), ("3", []), ("没有", [])])
    assert effects(turns) == [Rate(MARRIAGE.number, 3, None)]


def test_a_case_named_by_number():
    env = env_at(cases=FakeCases(mine=[CLOSED, MARRIAGE]))
    turns = converse(env, [("评价 bb20261118-1", ["BB20261118-0001（结婚登记）"]), ("1", []), ("没有", [])])
    assert effects(turns) == [Rate(MARRIAGE.number, 1, None)]


@pytest.mark.parametrize("said, phrase", [
    ("评价 BB20261101-0002", "已经评价过了"),
    ("评价 BB20261122-0007", "还没有办结"),
    ("评价 BB20261122-0099", "没有找到您名下的这个编号"),
])
def test_cases_that_cannot_be_rated_say_why(said, phrase):
    env = env_at(cases=FakeCases(mine=[OPEN, RATED]))
    turns = converse(env, [(said, [phrase])])
    assert effects(turns) == [] and turns[0].state["flow"] is None


def test_nothing_to_rate():
    converse(env_at(), [("评价", ["没有待评价的办件"])])
    converse(env_at(cases=FakeCases(mine=[RATED])), [("评价", ["都已经评价过了"])])


def test_a_case_rated_meanwhile_is_not_rated_twice():
    env, state, _ = begun(RATED.number, cases=(RATED,))
    turns = converse(env, [("1", []), ("没有", ["已经评价过了"])], state=state)
    assert effects(turns) == []


def test_ratings_are_read():
    assert parse_rating("1").value == 1 and parse_rating("５").value == 5
    assert parse_rating("我觉得很满意").value == 1 and parse_rating("不太满意").value == 4
    assert parse_rating("三星").value == 3 and not parse_rating("0").ok and not parse_rating("今天天气").ok
