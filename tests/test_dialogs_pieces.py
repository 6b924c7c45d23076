"""The small parts of the dialogue engine on their own: recognisers, commands, the stored state, distances,
the complete material list. No catalogue needed."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from dialogs.consult import ItemFacts, materials_list
from dialogs.intents import BOOK, CANCEL, HELP, HUMAN, MATERIALS, PROGRESS, command, menu_intent, only_the_command
from dialogs.location import distance_m, distance_text
from dialogs.parse import chinese_number, choice_number, plain
from dialogs.state import STATE_VERSION, fresh, load
from dialogs.text import WECHAT_TEXT_LIMIT
from knowledge.model import Catalogue, Item

NOW = datetime(2024, 5, 6, 10, 0, tzinfo=timezone(timedelta(hours=8)))


@pytest.mark.parametrize("text, expected", [
    ("1", (1, "")), ("２", (2, "")), ("二", (2, "")), ("两", (2, "")), ("第二个", (2, "")), ("第2项", (2, "")),
    ("选3", (3, "")), ("我选第三个", (3, "")), ("3号", (3, "")), ("2。", (2, "")), (" 4 ", (4, "")),
    ("十", (10, "")), ("十二", (12, "")), ("第二个要带什么", (2, "要带什么")), ("第1个，在哪办", (1, "在哪办")),
])
def test_numbered_choices_are_recognised_however_they_are_written(text, expected):
    assert choice_number(text) == expected


@pytest.mark.parametrize("text", ["", "居住证", "二手车过户", "2寸照片", "一寸照片要几张", "第二届", "12345678"])
def test_text_that_is_not_a_choice_is_not_taken_for_one(text):
    assert choice_number(text) is None


def test_chinese_numbers_up_to_ninety_nine():
    assert [chinese_number(x) for x in ("一", "九", "十", "十一", "二十", "二十一", "九十九")] == \
        [1, 9, 10, 11, 20, 21, 99]
    assert chinese_number("一二") is None and chinese_number("十十") is None and chinese_number("") is None


def test_plain_folds_width_case_spaces_and_punctuation():
    assert plain(" 转 人工！") == "转人工" and plain("ＨＥＬＰ？") == "help"


@pytest.mark.parametrize("text, intent", [
    ("帮助", HELP), ("菜单", HELP), ("你好", HELP), ("在吗？", HELP), ("取消", CANCEL), ("返回", CANCEL),
    ("重新开始", CANCEL), ("转人工", HUMAN), ("人工", HUMAN), ("找工作人员", HUMAN), ("我要转人工！", HUMAN),
    ("能帮我转人工吗", HUMAN), ("我要预约", BOOK), ("预约", BOOK), ("材料清单", MATERIALS), ("查进度", PROGRESS),
    ("找个真人", HUMAN), ("真人客服在吗", HUMAN), ("办到哪一步了", PROGRESS),
])
def test_command_words(text, intent):
    assert command(text) == intent


@pytest.mark.parametrize("text", ["帮助老人办身份证", "取消婚姻登记预约怎么办", "结婚登记预约", "人工繁育许可",
                                  "居住证要带什么", ""])
def test_questions_are_not_commands(text):
    assert command(text) is None


def test_only_a_command_word_is_not_a_question_worth_passing_on():
    assert only_the_command("转人工") and only_the_command("我要转人工")
    assert not only_the_command("转人工，我想问退休金的事")


def test_menu_keys_are_read_without_regard_to_case_or_spaces():
    assert menu_intent("BOOK") == BOOK and menu_intent(" book ") == BOOK
    assert menu_intent("NOPE") is None and menu_intent(None) is None


# --- state --------------------------------------------------------------------------------------------------------

CATALOGUE = Catalogue("test@1", (Item(id="A", name="甲", unit="u"), Item(id="B", name="乙", unit="u")))


def test_a_fresh_state_is_plain_json_with_the_schema_number():
    state = fresh(NOW)
    assert state["v"] == STATE_VERSION and state["item"] is None and state["choices"] == [] and state["misses"] == 0
    assert state["updated"] == NOW.isoformat()


def test_a_stored_state_within_the_idle_time_is_kept():
    stored = {**fresh(NOW - timedelta(minutes=5)), "item": "A", "choices": ["A", "B"], "misses": 2}
    loaded = load(stored, NOW, 30, CATALOGUE)
    assert loaded.valid and not loaded.expired
    assert loaded.state["item"] == "A" and loaded.state["choices"] == ["A", "B"] and loaded.state["misses"] == 2


def test_an_expired_state_starts_afresh_and_says_whether_something_was_going_on():
    busy = load({**fresh(NOW - timedelta(minutes=31)), "choices": ["A", "B"]}, NOW, 30, CATALOGUE)
    idle = load(fresh(NOW - timedelta(minutes=31)), NOW, 30, CATALOGUE)
    assert busy.expired and busy.interrupted and busy.state["choices"] == []
    assert idle.expired and not idle.interrupted


def test_ids_the_catalogue_no_longer_has_are_dropped():
    loaded = load({**fresh(NOW), "item": "GONE", "choices": ["A", "GONE"]}, NOW, 30, CATALOGUE)
    assert loaded.state["item"] is None and loaded.state["choices"] == []


@pytest.mark.parametrize("stored", [None, {"v": 99}, "not a dict", 7, {"v": 1, "updated": "soon"},
                                    {"v": 1, "updated": "2024-05-06T09:00:00"}, {"v": "1"}])
def test_garbage_is_a_new_conversation(stored):
    loaded = load(stored, NOW, 30, CATALOGUE)
    assert not loaded.valid and loaded.state == fresh(NOW)


# --- distance -----------------------------------------------------------------------------------------------------

def test_distance_is_great_circle_metres():
    assert distance_m(23.0, 113.0, 23.0, 113.0) == 0
    assert abs(distance_m(23.0, 113.0, 24.0, 113.0) - 111_195) < 5  # one degree of latitude
    assert abs(distance_m(39.9042, 116.4074, 31.2304, 121.4737) - 1_067_000) < 3_000  # Beijing - Shanghai


@pytest.mark.parametrize("metres, text", [(2001, "2.0公里"), (1000, "1.0公里"), (12_345, "12.3公里"), (999, "1000米"),
                                          (334, "330米"), (20, "不到50米")])
def test_distance_wording(metres, text):
    assert distance_text(metres) == text


# --- the complete material list -----------------------------------------------------------------------------------

def facts_with(materials) -> ItemFacts:
    return ItemFacts(title="某事项", unit="某局", materials=tuple(materials), time_limit=None, place="某地",
                     hours=None, phone="020-1", fee="不收费", mail=None, condition=None, forms=("帮办",), note=None)


def test_a_long_material_list_is_given_in_full_over_several_messages():
    materials = [f"第{i}项材料：" + "需要原件和复印件各一份并加盖单位公章" * 3 for i in range(1, 41)]
    messages = materials_list(facts_with(materials), limit=1900)
    assert len(messages) > 1
    assert len(messages[0].encode()) <= 1900 and all(len(m.encode()) <= WECHAT_TEXT_LIMIT for m in messages)
    joined = "\n".join(messages)
    assert all(f"{i}. 第{i}项材料" in joined for i in range(1, 41))
    assert "共40项" in messages[0] and "接上条" in messages[1] and "逐项核对" in messages[-1]


def test_an_item_without_materials_says_so():
    (message,) = materials_list(facts_with([]))
    assert "没有列出材料" in message and "020-1" in message
