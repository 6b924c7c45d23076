"""材料清单: checking an item's materials three at a time, then one list of everything missing with how to get it.

Transcripts against dialogs.engine.handle with a fake case database (tests/flow_helpers.py); effects checked field
by field. 居住证申领 has 4 materials: 1 本人身份证, 2 近期一寸彩色照片2张, 3 现住地房主身份证及房屋产权证明…,
4 《居住证申领表》.
"""
from __future__ import annotations

import pytest

from dialogs.effects import KeepMedia, MaterialMark, SaveChecklist
from dialogs.flows.checklist import HAVE, MISSING, NOT_NEEDED, UNSURE, how_to_get, numbered, read_marks
from dialogs.consult import facts
from dialogs.messages import Inbound
from flow_helpers import FakeCases, RESIDENCE, case, converse, effects, env_at, hall, knowledge, with_item

MARRIAGE = "EXT-001"  # 结婚登记: 4 materials, two of them only for some applicants; 帮办 only
NAMES = ("本人身份证", "近期一寸彩色照片2张", "现住地房主身份证及房屋产权证明、租（购）房协议等相关证明", "《居住证申领表》")


def photo(media_id: str) -> Inbound:
    return Inbound(user="o-citizen", kind="image", media_id=media_id)


def marks(*statuses: str) -> dict[int, str]:
    return dict(enumerate(statuses, start=1))


def saved(turns) -> SaveChecklist:
    (save,) = [e for e in effects(turns) if isinstance(e, SaveChecklist)]
    return save


def statuses(save: SaveChecklist) -> dict[int, str]:
    return {m.position: m.status for m in save.marks}


START = [("居住证", ["【居住证申领】"]),
         ("材料清单", ["逐项核对【居住证申领】的材料，共4项", "1. 本人身份证", "3. 现住地房主身份证", "!4. 《居住证申领表》",
                    "都有请回复“都有”", "“2没有”", "拍照"])]


# --- happy paths -------------------------------------------------------------------------------------------------

def test_all_there_says_so_and_offers_a_booking_which_starts_the_booking_for_the_item():
    turns = converse(env_at(), [*START,
        ("都有", ["4. 《居住证申领表》", "这一项您有吗", "!1. 本人身份证"]),
        ("有", ["材料您都有了，齐了", "要预约帮办代办吗"]),
        ("是", ["为您预约【居住证申领】", "请选择服务方式", "1. 现场帮办"]),
    ])
    save = saved(turns)
    assert save.number is None and save.item_id == RESIDENCE
    assert save.marks == tuple(MaterialMark(p, n, HAVE) for p, n in enumerate(NAMES, start=1))
    assert turns[-1].state["flow"]["name"] == "booking" and turns[-1].state["flow"]["data"]["item"] == RESIDENCE


@pytest.mark.parametrize("no", ["不用了", "算了", "不要了"])
def test_no_thanks_to_booking_after_the_list_keeps_the_answers_rather_than_leaving(no):
    turns = converse(env_at(), [*START, ("2没有", []), ("有", ["一次性告知", "要预约帮办代办吗"]),
                                (no, ["材料备齐后可以随时回复“预约”", "!不保存"])])
    assert saved(turns).number is None and statuses(saved(turns))[2] == MISSING


def test_giving_up_in_the_middle_still_leaves_the_check():
    converse(env_at(), [*START, ("算了", ["已退出材料核对", "不保存"])])


def test_second_and_fifth_missing_are_told_once_with_how_to_get_them():
    turns = converse(env_at(), [*START,
        ("第2、4个没有", ["4. 《居住证申领表》（您说过：没有）"]),
        ("没有", ["还需要准备这2项（一次性告知）", "第2项 近期一寸彩色照片2张（没有）", "第4项 《居住证申领表》（没有）",
                "办法：表格一般在办理窗口领取", "!办法：请咨询", "打区公安分局电话020-83120101问", "要预约帮办代办吗",
                "!第1项"]),
        ("不用", ["材料备齐后可以随时回复“预约”"]),
    ])
    save = saved(turns)
    assert statuses(save) == marks(HAVE, MISSING, HAVE, MISSING) and save.number is None
    assert save.marks[3].how_to_get == "表格一般在办理窗口领取，可以现场填写" and save.marks[0].how_to_get is None
    assert turns[-1].state["flow"] is None and turns[-1].state["item"] == RESIDENCE


def test_missing_and_unsure_in_one_answer():
    turns = converse(env_at(), [*START, ("2没有 3不确定", []), ("有", ["第2项", "（没有）", "第3项", "（不确定）"]),
                                ("不用", [])])
    assert statuses(saved(turns)) == marks(HAVE, MISSING, UNSURE, HAVE)


def test_only_some_said_to_be_there_the_rest_are_asked_about_not_guessed():
    turns = converse(env_at(), [*START,
        ("1有", ["第2、3项呢"]),
        ("没有", ["4. 《居住证申领表》"]),
        ("有", ["第2项", "第3项", "!第1项", "!第4项"]),
        ("不用", []),
    ])
    assert statuses(saved(turns)) == marks(HAVE, MISSING, MISSING, HAVE)


def test_none_there_and_except_forms():
    turns = converse(env_at(), [*START, ("都没有", []), ("有", ["还需要准备这3项"]), ("不用", [])])
    assert statuses(saved(turns)) == marks(MISSING, MISSING, MISSING, HAVE)
    turns = converse(env_at(), [*START, ("除了2都有", []), ("不确定", ["第2项", "第4项", "（不确定）"]), ("不用", [])])
    assert statuses(saved(turns)) == marks(HAVE, MISSING, HAVE, UNSURE)


def test_an_open_case_for_the_item_gets_the_answers_and_no_booking_is_offered():
    db = FakeCases(mine=[case("BB20261120-0003")])
    turns = converse(env_at(cases=db), [*START, ("3没有", []),
                                        ("有", ["第3项", "已记到您的办件BB20261120-0003里", "!要预约"])])
    save = saved(turns)
    assert save.number == "BB20261120-0003" and statuses(save) == marks(HAVE, HAVE, MISSING, HAVE)
    assert turns[-1].state["flow"] is None


def test_booking_said_as_a_word_at_the_end_books_after_keeping_the_answers():
    turns = converse(env_at(), [*START, ("都有", []), ("有", ["要预约帮办代办吗"]), ("预约", ["请选择服务方式"])])
    assert statuses(saved(turns)) == marks(HAVE, HAVE, HAVE, HAVE)
    assert turns[-1].state["flow"]["name"] == "booking"


def test_a_closed_case_or_one_for_another_item_does_not_count():
    db = FakeCases(mine=[case("BB20261120-0003", closed=True, state="已办结"),
                         case("BB20261121-0001", title="结婚登记", item_id=MARRIAGE)])
    turns = converse(env_at(cases=db), [*START, ("都有", []), ("有", ["要预约帮办代办吗"])])
    assert turns[-1].state["flow"]["step"] == "book"


def test_materials_only_some_applicants_need_can_be_left_out():
    turns = converse(env_at(), [
        ("结婚登记", ["【结婚登记】"]),
        ("材料清单", ["共4项", "2. 现役军人须持", "“2不涉及”"]),
        ("2不涉及", ["4. 离婚、丧偶当事人", "“4不涉及”"]),
        ("不涉及", ["都有了，齐了"]),
        ("不用", []),
    ])
    assert statuses(saved(turns)) == marks(HAVE, NOT_NEEDED, HAVE, NOT_NEEDED)


def test_asked_before_naming_the_item_it_asks_which_item_first():
    turns = converse(env_at(), [("材料清单", ["哪件事的材料清单"]), ("居住证", ["逐项核对【居住证申领】", "1. 本人身份证"])])
    assert turns[-1].state["flow"]["name"] == "checklist"


# --- corrections ----------------------------------------------------------------------------------------------

def test_an_earlier_answer_is_corrected_by_its_number_in_a_later_batch():
    turns = converse(env_at(), [*START, ("2没有", []), ("2其实有，4没有", ["还需要准备这1项", "第4项", "!第2项"]),
                                ("不用", [])])
    assert statuses(saved(turns)) == marks(HAVE, HAVE, HAVE, MISSING)


def test_at_the_end_a_correction_shows_the_list_again():
    turns = converse(env_at(), [*START, ("2没有", []), ("有", ["第2项"]),
                                ("第2个其实有", ["都有了，齐了", "要预约帮办代办吗"]), ("不用", [])])
    assert statuses(saved(turns)) == marks(HAVE, HAVE, HAVE, HAVE)


def test_back_goes_to_the_previous_batch():
    turns = converse(env_at(), [*START, ("都有", ["4. "]), ("返回", ["回到上一步", "1. 本人身份证"]),
                                ("3没有", ["4. "]), ("有", ["第3项"]), ("不用", [])])
    assert statuses(saved(turns)) == marks(HAVE, HAVE, MISSING, HAVE)


# --- leaving, bad input -------------------------------------------------------------------------------------------

def test_cancelling_midway_keeps_nothing():
    turns = converse(env_at(), [*START, ("2没有", []), ("取消", ["已退出材料核对"]), ("在哪办", ["【居住证申领】", "办理地点"])])
    assert effects(turns) == [] and turns[-1].state["flow"] is None


def test_answers_it_cannot_read_are_asked_again_then_a_person_is_offered():
    turns = converse(env_at(), [*START,
        ("这个我也说不好", ["没看懂", "“都有”"]),
        ("asdf", ["没看懂", "回复“帮助”"]),
        ("qwer", ["没看懂", "转人工"]),
        ("第9个没有", ["序号只有1到4"]),
        ("都有", ["4. 《居住证申领表》"]),
    ])
    assert turns[-1].state["flow"]["step"] == "b2"


def test_materials_named_instead_of_numbered_are_marked():
    turns = converse(env_at(), [*START,
        ("照片还没拍", ["4. 《居住证申领表》"]),  # 2 missing, the others there
        ("表格没有", ["一次性告知", "第2项 近期一寸彩色照片2张", "第4项 《居住证申领表》"]),
    ])
    assert "第1项" not in turns[-1].replies[0] and "第3项" not in turns[-1].replies[0]


def test_a_material_named_unclearly_is_not_guessed_and_the_rest_is_asked():
    converse(env_at(), [*START,
        ("身份证有，照片没拍，房东的身份证要去借", ["第3项呢"]),  # 房东的身份证: not surely 1 or 3
        ("没有", ["4. 《居住证申领表》"]),
    ])


@pytest.mark.parametrize("text, read", [
    ("身份证有", "1有"),  # the citizen's own, not the landlord's
    ("房主身份证没有", "3没有"),
    ("照片现在没有，其他都有", "2没有,其他都有"),  # (commas come out as NFKC makes them)
    ("除了照片都有", "除了2有"),
    ("第2、4个没有", "第2、4个没有"),
    ("户口簿用不用带上", "户口簿用不用带上"),  # a question: 不用 is not said of it
    ("证明材料都有哪些", "证明材料都有哪些"),
    ("照片给我拍好了", "2好了"),  # the longest start of the words that names a material
])
def test_a_material_is_numbered_by_its_name(text, read):
    materials = ("本人身份证", "近期一寸彩色照片2张", "现住地房主身份证及房屋产权证明", "《居住证申领表》")
    assert numbered(text, materials) == (read, False)


def test_which_ones_when_the_answer_is_just_no():
    converse(env_at(), [*START, ("没有", ["哪几项没有", "“都没有”"]), ("3没有", ["4. 《居住证申领表》"])])


def test_a_person_asked_for_midway_keeps_the_checklist():
    turns = converse(env_at(), [*START, ("2没有", []), ("转人工", ["工作人员", "还没办完", "继续"]),
                                ("继续", ["4. 《居住证申领表》"])])
    assert turns[-1].state["flow"]["name"] == "checklist"


def test_questions_about_another_matter_midway_are_answered_and_followed_up_then_continue_goes_back():
    turns = converse(env_at(), [*START, ("2没有", []),
        ("退休了公积金怎么提", ["【住房公积金提取", "材料核对还没办完", "继续", "!没看懂"]),
        ("电话多少", ["【住房公积金提取", "咨询电话", "还没办完", "!没看懂"]),
        ("水资源公报查阅", ["【水资源公报查阅】", "还没办完", "!没看懂"]),
        ("继续", ["4. 《居住证申领表》"]),
        ("电话多少", ["【居住证申领】", "咨询电话"]),
    ])
    assert [t.state["flow"]["name"] for t in turns[3:]] == ["checklist"] * 5
    assert turns[3].state["flow"]["fails"] == 0


def test_follow_ups_about_the_item_in_everyday_words_midway_are_answered_and_nothing_is_marked():
    turns = converse(env_at(), [*START,
        ("周六开门不", ["办理时间", "还没办完", "!没看懂"]),
        ("地址", ["办理地点", "还没办完"]),
        ("本人必须到场吗", ["还没办完", "!没看懂"]),
        ("中午休不休息", ["办理时间", "还没办完"]),  # asked as A不A
        ("非得本人去啊", ["代办", "还没办完"]),  # a cue word and a spoken question's ending
        ("具体地址发我一下", ["办理地点", "还没办完"]),  # asking to be told
        ("一共得几块钱", ["收费", "还没办完"]),
        ("继续", ["1. 本人身份证"]),
    ])
    assert [t.state["flow"]["step"] for t in turns[2:]] == [turns[1].state["flow"]["step"]] * 8
    assert turns[-1].state["flow"]["fails"] == 0


def test_an_answer_the_checklist_cannot_read_is_not_taken_for_a_question_for_a_word_it_holds():
    converse(env_at(), [*START,
        ("我明天去拍照", ["没看懂", "!办理时间"]),  # 明天 is a cue word, but nothing is asked
        ("我儿子去", ["没看懂", "!代办"]),
    ])


def test_a_question_midway_that_has_choices_shows_them_and_a_number_picks_one_not_a_material():
    turns = converse(env_at(), [*START,
        ("补办身份证多久能拿", ["哪一项", "1. 居民身份证", "还没办完", "!没看懂"]),
        ("1", ["【居民身份证", "办理时限", "还没办完", "!这一项您有吗"]),
        ("继续", ["1. 本人身份证", "都有请回复“都有”"]),
        ("都有", ["4. 《居住证申领表》"]),
    ])
    assert turns[3].state["flow"] == turns[1].state["flow"]  # the number answered nothing in the checklist


def test_where_to_get_a_material_is_answered_from_its_line_and_the_batch_asked_again():
    turns = converse(env_at(), [*START,
        ("房产证明去哪开", ["第3项 现住地房主身份证", "请咨询区公安分局", "这几项您有吗", "!办理地点"]),
        ("4去哪拿", ["第4项 《居住证申领表》", "办理窗口领取"]),
        ("照片在哪拍", ["第2项 近期一寸彩色照片"]),
        ("都有", ["4. 《居住证申领表》"]),
    ])
    assert [t.state["flow"]["step"] for t in turns[2:5]] == [turns[1].state["flow"]["step"]] * 3  # nothing marked
    converse(env_at(), [("结婚登记", []), ("材料清单", []),
                        ("军人婚姻登记证明找谁开", ["由团以上政治机关出具"])])


def test_where_to_get_a_thing_that_is_not_a_material_is_asked_of_the_catalogue_instead():
    converse(env_at(), [*START, ("结婚证去哪开", ["婚姻登记证", "还没办完", "!第1项", "!第3项"])])


# --- photos -------------------------------------------------------------------------------------------------------

def test_photos_during_the_checklist_are_kept_for_the_materials_shown_and_count_as_there():
    db = FakeCases(mine=[case("BB20261120-0003")])
    turns = converse(env_at(cases=db), [*START,
        (photo("m-1"), ["已收到《本人身份证》的照片（第1项）"]),
        (photo("m-2"), ["已收到《近期一寸彩色照片2张》的照片（第2项）"]),
        ("3没有", ["4. "]),
        ("有", ["第3项"]),
    ])
    kept = [e for e in effects(turns) if isinstance(e, KeepMedia)]
    assert kept == [KeepMedia("m-1", "材料照片（居住证申领）", "BB20261120-0003", NAMES[0]),
                    KeepMedia("m-2", "材料照片（居住证申领）", "BB20261120-0003", NAMES[1])]
    assert statuses(saved(turns)) == marks(HAVE, HAVE, MISSING, HAVE)


def test_a_photo_answers_for_its_material_when_the_others_are_said():
    turns = converse(env_at(), [*START, (photo("m-1"), []), ("2有", ["第3项呢"]), ("没有", []), ("有", []),
                                ("不用", [])])
    assert statuses(saved(turns)) == marks(HAVE, HAVE, MISSING, HAVE)


# --- the pieces ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("都有", marks(HAVE, HAVE, HAVE)), ("有", marks(HAVE, HAVE, HAVE)), ("好的", marks(HAVE, HAVE, HAVE)),
    ("都没有", marks(MISSING, MISSING, MISSING)), ("都不确定", marks(UNSURE, UNSURE, UNSURE)),
    ("不知道", marks(UNSURE, UNSURE, UNSURE)),
    ("2没有", marks(HAVE, MISSING, HAVE)), ("缺2", marks(HAVE, MISSING, HAVE)), ("没有3", marks(HAVE, HAVE, MISSING)),
    ("第二个不确定", marks(HAVE, UNSURE, HAVE)), ("2没有 3不确定", marks(HAVE, MISSING, UNSURE)),
    ("2到3没有", marks(HAVE, MISSING, MISSING)), ("除了2都有", marks(HAVE, MISSING, HAVE)),
    ("2没有，其他都有", marks(HAVE, MISSING, HAVE)), ("1没有2没有3有", marks(MISSING, MISSING, HAVE)),
    ("第2、5个没有", {**marks(HAVE, MISSING, HAVE), 5: MISSING}), ("2不涉及", marks(HAVE, NOT_NEEDED, HAVE)),
])
def test_batch_answers_are_read(text, expected):
    read = read_marks(text, [1, 2, 3], 8, {})
    assert read.marks == expected and not read.unknown and read.reason is None


def test_batch_answers_that_say_too_little_or_nothing():
    assert read_marks("1有", [1, 2, 3], 8, {}).unknown == (2, 3)
    assert read_marks("没有", [1, 2, 3], 8, {}).ask
    assert read_marks("身份证丢了", [1, 2, 3], 8, {}).reason
    assert read_marks("第9个没有", [1, 2, 3], 8, {}).reason == "序号只有1到8，请再看一下。"
    assert read_marks("没有", [4], 8, {}).marks == {4: MISSING}
    assert read_marks("没有", [1, 2, 3], 8, {}, said_before={1: HAVE}).marks == marks(HAVE, MISSING, MISSING)


@pytest.mark.parametrize("material, expected", [
    ("有效期一年内的由当地疾控中心出具的体检表或健康证明", "由当地疾控中心出具"),
    ("现役军人须持团以上政治机关出具的《军人婚姻登记证明》、军人证件、居民身份证", "由团以上政治机关出具"),
    ("申请单位出具的申请公函", "需要您自己准备（申请单位出具）"),
    ("部队开具的行政介绍信", "由部队开具"),
    ("《居住证申领表》", "表格一般在办理窗口领取，可以现场填写"),
    ("申请表（可在广东政务服务网下载）", "可在广东政务服务网下载"),
    ("本人身份证", "请咨询区公安分局：020-83120101"),
])
def test_how_to_get_a_material_comes_from_the_guides_words(material, expected):
    f = facts(knowledge().catalogue.get(RESIDENCE), hall())
    assert how_to_get(material, f, hall().hall.phone) == expected


def test_a_long_list_of_missing_materials_fits_one_message():
    longest = max(knowledge().catalogue.items, key=lambda i: len(i.materials))
    env = env_at()
    total = len(longest.materials)
    transcript = [("材料清单", ["逐项核对"])]
    transcript += [("都没有", [])] * ((total - 1) // 3)
    transcript += [("没有" if total % 3 == 1 else "都没有", [f"还需要准备这{total}项", f"第{total}项"])]
    turns = converse(env, transcript, state=with_item(longest.id, env))
    assert turns[-1].state["flow"] is None or turns[-1].state["flow"]["step"] == "book"
