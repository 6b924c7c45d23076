"""查进度: the citizen's own cases only, open ones first; by list number or case number; none → say so."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, time

import pytest

from dialogs.views import SlotView
from flow_helpers import SOCIAL_CARD, FakeCases, case, converse, env_at

APPOINTMENT = SlotView(date(2026, 11, 25), time(9), time(9, 30), 0)


def three_cases() -> FakeCases:
    """Newest first, as env.cases() gives them: a closed case between two open ones."""
    return FakeCases(mine=[
        case("BB20261120-0003", "居住证申领", "待甄别", appointment=APPOINTMENT),
        case("BB20261115-0001", "结婚登记", "已办结", item_id="EXT-001", closed=True, appointment=None),
        case("BB20261110-0002", "社会保障卡补领、换领", "办理中", item_id=SOCIAL_CARD, form="代办", appointment=None,
             next_step="等待制卡", holder="区人力资源和社会保障局 张工作人员", due=date(2026, 12, 4)),
    ])


def test_no_cases_says_so_and_offers_booking_or_a_question():
    turns = converse(env_at(), [("查进度", ["还没有帮办代办的办件", "查不到进度", "预约", "要办的事"])])
    assert turns[0].state["flow"] is None


def test_one_case_is_shown_at_once_with_state_next_step_holder_deadline_and_appointment():
    db = FakeCases(mine=[three_cases().mine[2]])
    converse(env_at(cases=db), [("进度", [
        "【社会保障卡补领、换领】", "编号：BB20261110-0002", "状态：办理中", "下一步：等待制卡",
        "经办：区人力资源和社会保障局 张工作人员", "办理期限：12月4日（周五）前", "方式：代办",
        "取消预约 BB20261110-0002", "!请回复数字"])])


@pytest.mark.parametrize("asked", ["我的预约是什么时候", "我约的是几点", "我的申请怎么样了"])
def test_asking_about_ones_own_booking_in_a_sentence_shows_it(asked):
    db = FakeCases(mine=[three_cases().mine[2]])
    converse(env_at(cases=db), [(asked, ["编号：BB20261110-0002", "状态：办理中", "!办理时限"])])


def test_several_cases_are_listed_open_ones_first_and_a_number_shows_one():
    turns = converse(env_at(cases=three_cases()), [
        ("查进度", ["您有3件", "1. 居住证申领（待甄别）BB20261120-0003",
                    "2. 社会保障卡补领、换领（办理中）BB20261110-0002", "3. 结婚登记（已办结）BB20261115-0001"]),
        ("2", ["【社会保障卡补领、换领】", "下一步：等待制卡", "!居住证"]),
    ])
    assert turns[-1].state["flow"] is None


def test_the_list_takes_a_case_number_too():
    converse(env_at(cases=three_cases()), [
        ("查进度", ["您有3件"]),
        ("BB20261120-3", ["【居住证申领】", "预约：11月25日（周三）上午9:00-9:30（现场帮办）",
                          "改约 BB20261120-0003"]),
    ])


def test_a_closed_case_offers_no_move_or_cancel():
    converse(env_at(cases=three_cases()), [("查进度", []), ("3", ["【结婚登记】", "已办结", "!改约", "!取消预约"])])


@pytest.mark.parametrize("message", ["BB20261120-0003", "bb20261120-3", "我的BB20261120-0003办得怎么样了"])
def test_a_case_number_in_a_message_shows_that_case(message):
    converse(env_at(cases=three_cases()), [(message, ["【居住证申领】", "状态：待甄别"])])


def test_someone_elses_number_gets_the_same_answer_as_one_that_does_not_exist():
    env = env_at(cases=three_cases())
    other = converse(env, [("BB20261120-0004", ["没有找到您名下的这个编号", "!居住证", "!状态"])])[0]
    missing = converse(env, [("BB19990101-0001", ["没有找到您名下的这个编号"])])[0]
    assert other.replies[0].replace("BB20261120-0004", "X") == missing.replies[0].replace("BB19990101-0001", "X")


def test_a_number_not_in_the_list_is_not_found_and_the_list_stays():
    turns = converse(env_at(cases=three_cases()), [
        ("查进度", ["您有3件"]),
        ("BB20261120-0009", ["没有找到您名下的这个编号"]),
        ("1", ["【居住证申领】"]),
    ])
    assert turns[1].state["flow"]["name"] == "progress"


def test_the_gateways_open_case_is_named_when_it_lists_no_cases():
    converse(env_at(open_case="BB20261120-0003"), [("查进度", ["BB20261120-0003", "转人工"])])


def test_the_progress_menu_button_starts_the_same_flow():
    from dialogs.messages import Inbound
    converse(env_at(cases=three_cases()), [(Inbound(user="o-citizen", kind="event", event="click", key="PROGRESS"),
                                            ["您有3件"])])


def test_cases_are_read_only_when_asked_for():
    db = three_cases()
    reads = []
    env = replace(env_at(cases=db), cases=lambda: reads.append(1) or tuple(db.mine))
    converse(env, [("居住证在哪办", [])])
    assert reads == []
    converse(env, [("查进度", ["您有3件"])])
    assert reads
