"""Conversations with the assistant, against the real bundled catalogue and the demo hall.

Each transcript is a list of (what the citizen sends, key phrases the assistant must answer). A phrase starting
with "!" must NOT appear. A plain string is a text message. Every reply of every turn is checked to fit one WeChat
text message and every state to be plain JSON.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from dialogs.effects import Escalate, ForgetUser, KeepMedia
from dialogs.engine import STATE_VERSION, Env, Turn, handle
from dialogs.messages import Inbound
from knowledge.hall import load_hall
from knowledge.service import load_knowledge

from flow_helpers import check, converse  # noqa: F401 (check: used by test_dialogs_handoff)

SHANGHAI = timezone(timedelta(hours=8))
NOW = datetime(2024, 5, 6, 10, 0, tzinfo=SHANGHAI)  # a Monday morning
RESIDENCE = "EXT-015"  # 居住证申领, on the demo hall's list (帮办、代办)


@pytest.fixture(scope="module")
def knowledge():
    return load_knowledge()


@pytest.fixture(scope="module")
def hall(knowledge):
    return load_hall(None, knowledge.catalogue)


@pytest.fixture(scope="module")
def env(knowledge, hall) -> Env:
    return Env(now=NOW, consult=knowledge.consult, catalogue=knowledge.catalogue, hall=hall)


# --- what the citizen sends --------------------------------------------------------------------------------------

def said(text: str) -> Inbound:
    return Inbound(user="o-citizen", kind="text", text=text)


def voice(recognised: str | None) -> Inbound:
    return Inbound(user="o-citizen", kind="voice", text=recognised, media_id="voice-1")


def photo(media_id: str = "photo-1") -> Inbound:
    return Inbound(user="o-citizen", kind="image", media_id=media_id)


def location(latitude: float, longitude: float) -> Inbound:
    return Inbound(user="o-citizen", kind="location", latitude=latitude, longitude=longitude, label="某小区")


def event(name: str, key: str | None = None) -> Inbound:
    return Inbound(user="o-citizen", kind="event", event=name, key=key)


# --- the one helper every transcript goes through ----------------------------------------------------------------

# check(turn) and converse(env, transcript, state) live in tests/flow_helpers.py, shared with the flow tests.


# --- questions and follow-ups --------------------------------------------------------------------------------------

def test_follow_up_questions_are_about_the_item_just_discussed(env):
    turns = converse(env, [
        ("居住证怎么办", ["【居住证申领】", "区公安分局", "1. 本人身份证", "办理地点"]),
        ("要带什么材料", ["【居住证申领】", "需要带", "4. 《居住证申领表》", "!办理地点"]),
        ("在哪办", ["【居住证申领】", "1楼 A区", "!需要带"]),
        ("电话多少", ["020-83120101"]),
        ("收费吗", ["收费"]),
        ("多久", ["15个工作日"]),
        ("详情", ["【居住证申领】", "办理单位", "需要带", "办理地点"]),
    ])
    assert all(t.state["item"] == RESIDENCE for t in turns)


def test_a_follow_up_that_names_another_item_is_about_that_item(env):
    turns = converse(env, [
        ("居住证", ["【居住证申领】"]),
        ("结婚登记要带什么", ["【结婚登记】", "需要带", "!居住证"]),
        ("它收费吗", ["【结婚登记】", "收费"]),
    ])
    assert turns[-1].state["item"] == "EXT-001"


def test_a_follow_up_naming_another_item_with_its_action_in_one_word_is_about_that_item(env):
    # 住房公积金提取 and 出生医学证明首次签发 are one word each, an action inside: they still name a matter
    turns = converse(env, [
        ("居住证", ["【居住证申领】"]),
        ("住房公积金提取在哪里办", ["【住房公积金提取", "办理地点", "3楼", "!【居住证申领】"]),
        ("低保怎么申请", ["【最低生活保障】"]),
        ("出生医学证明首次签发需要本人去吗", ["【出生医学证明首次签发】", "!【最低生活保障】"]),
    ])
    assert turns[1].state["item"] == "EXT-018" and turns[3].state["item"] == "EXT-023"


def test_what_is_not_understood_while_an_item_is_discussed_is_answered_for_that_item(env):
    turns = converse(env, [
        ("居住证", ["【居住证申领】"]),
        ("那怎么办", ["关于【居住证申领】，这个问题我答不上来", "要带什么材料、在哪办", "转人工", "020-83120101",
                  "!帮办小助手"]),
        ("然后呢", ["关于【居住证申领】"]),
        ("新房子装水表找谁", ["!关于【居住证申领】"]),  # names something the guide does not: not about the item
    ])
    assert turns[2].state["item"] == RESIDENCE and turns[2].state["misses"] == 2


def test_everyday_follow_ups_are_answered_for_the_item_being_discussed(env):
    converse(env, [
        ("居住证", ["【居住证申领】"]),
        ("多久能批下来", ["办理时限：15个工作日"]),
        ("办证的地方在哪", ["办理地点", "1楼 A区"]),
        ("在几楼", ["1楼 A区"]),
        ("周六能办吗", ["周六 9:00-12:00"]),
        ("我儿子能替我办吗", ["可以为您代办"]),
        ("能不能让儿子去办", ["可以为您代办"]),
        ("要原件吗", ["需要带：", "1. 本人身份证"]),
        ("要填什么表", ["《居住证申领表》"]),
        ("可以用微信付吗", ["不收取费用"]),
        ("要排队吗", ["可以预约", "回复“预约”"]),
        ("可以预约吗", ["为您预约【居住证申领】", "请选择服务方式", "!请回复数字：\n1. "]),  # was a list of other items
        ("取消", ["已退出预约"]),
        ("居住证", ["【居住证申领】"]),
        ("结果怎么领", ["办事指南没有写明", "查进度"]),
        ("外地户口能办吗", ["【居住证申领】", "办理条件", "!户口页"]),  # who may apply, not another matter
        ("没有社保能办吗", ["【居住证申领】", "办理条件"]),
    ])


def test_a_follow_up_in_other_words_is_answered_from_its_cue_words(env):
    # none of these uses a phrase of fields.txt: a cue word (field_cues.txt) says which part of the guide
    turns = converse(env, [
        ("居住证", ["【居住证申领】"]),
        ("得等多长时间呀", ["办理时限：15个工作日"]),
        ("要花钱吗", ["不收取费用"]),
        ("星期天开吗", ["办理时间", "周六 9:00-12:00"]),
        ("老伴能替我去吗", ["可以为您代办"]),
        ("能在网上弄吗", ["网上办", "!请回复数字"]),
        ("要带户口本吗", ["【居住证申领】", "需要带：", "1. 本人身份证"]),  # not listed: the whole list, no guess
    ])
    assert all(t.state["item"] == RESIDENCE for t in turns)


def test_a_follow_up_is_answered_for_what_its_end_asks_and_for_the_people_and_things_it_mentions(env):
    turns = converse(env, [
        ("居住证", ["【居住证申领】"]),
        ("我下午上班没空，让我爸去办行吗", ["可以为您代办", "!办理时间"]),  # 上班 is the citizen's, 让…去 the question
        ("我闺女去可以不", ["可以为您代办"]),  # a person named and nothing else: who may go
        ("那边好停车不", ["办理地点"]),
        ("春节开不开门呀", ["办理时间"]),
        ("给个座机号呗", ["咨询电话"]),
        ("我七十多了还能申请不", ["办理条件"]),
        ("手机上能不能弄", ["网上办", "!办理条件"]),  # a bare 能不能 yields to what is asked
        ("整个流程是啥样的", ["需要带：", "办理地点", "办理时限"]),  # how it is done: the whole guide
    ])
    assert all(t.state["item"] == RESIDENCE for t in turns)


def test_spoken_and_dialect_question_words_are_understood_like_the_common_ones(env):
    turns = converse(env, [
        ("居住证", ["【居住证申领】"]),
        ("你们几点关门啊", ["办理时间", "!没有找到"]),  # not 停业 (a shop closing down)
        ("我这种情况能办不", ["办理条件"]),  # a question's last 不 asks like 吗
        ("要交钱不啦", ["收费"]),
        ("流程是咋样的", ["需要带：", "办理地点", "办理时限"]),  # 咋样: 怎样
        ("流程复杂不", ["需要带：", "办理地点"]),  # 复杂 is how it asks, not a thing it names
        ("啥时候能拿到证", ["办理时限"]),  # 啥: 什么
    ])
    assert all(t.state["item"] == RESIDENCE for t in turns)


def test_help_from_the_hall_who_may_apply_and_the_steps_asked_in_an_old_persons_words(env):
    turns = converse(env, [
        ("低保怎么申请", ["【最低生活保障】"]),
        ("啥子人才能办", ["办理条件", "!请回复数字"]),  # 什么人才能办: not 人才 (talents)
        ("大厅有代办服务咩", ["可为您帮办、代办、上门服务"]),
        ("有帮办的人没得", ["可为您帮办、代办、上门服务"]),
        ("你们能不能派个人到屋头来给办一下", ["上门服务"]),
        ("我头一回弄这个啥都不懂 你从头到尾给我讲一下都有哪几步嘛", ["需要带：", "办理地点"]),
    ])
    assert all(t.state["item"] == "EXT-016" for t in turns)


def test_words_that_say_who_or_how_do_not_make_a_follow_up_another_matter(env):
    turns = converse(env, [
        ("居住证", ["【居住证申领】"]),
        ("学生可以办吗", ["办理条件", "!请回复数字"]),  # 学生: who applies, not the 学生 items
        ("委托别人要什么", ["需要带", "!请回复数字"]),
        ("审批要几个工作日", ["办理时限", "!没有找到"]),  # 审批 is how it is done, not an action on a thing
        ("什么情况下不能办", ["办理条件"]),
    ])
    assert all(t.state["item"] == RESIDENCE for t in turns)
    converse(env, [("居住证", []), ("户口本丢了", ["!【居住证申领】"])])  # a thing lost: another matter still


def test_a_longer_cue_around_a_field_phrase_says_what_is_asked(env):
    converse(env, [
        ("居住证", ["【居住证申领】"]),
        ("办下来以后是去哪拿啊", ["结果怎么领", "!办理地点"]),  # 去哪拿 holds 去哪: where to collect it
    ])
    turns = converse(env, [
        ("居住证", ["【居住证申领】"]),
        ("要不要先约个时间再过去啊", ["为您预约【居住证申领】", "!办理时限"]),  # 约个时间 holds 时间
    ])
    assert turns[-1].state["flow"]["data"]["item"] == RESIDENCE


def test_asking_to_book_for_a_day_starts_the_booking_rather_than_giving_the_hours(env):
    turns = converse(env, [
        ("居住证", ["【居住证申领】"]),
        ("帮我约个明天上午的号", ["为您预约【居住证申领】", "请选择服务方式", "!办理时间"]),
    ])
    assert turns[-1].state["flow"]["data"]["item"] == RESIDENCE


def test_whether_to_bring_a_thing_and_whether_to_book_in_other_words_are_about_the_item_at_hand(env):
    turns = converse(env, [
        ("结婚登记", ["【结婚登记】"]),
        ("户口簿得带着吗", ["要带", "本人有效的身份证、户口簿"]),
        ("去办之前得先预约不", ["为您预约【结婚登记】", "请选择服务方式"]),
    ])
    assert turns[-1].state["flow"]["data"]["item"] == "EXT-001"


def test_how_to_do_another_thing_is_not_answered_with_the_items_guide(env):
    converse(env, [
        ("居住证", ["【居住证申领】"]),
        ("小孩上幼儿园报名咋弄", ["!【居住证申领】"]),
        ("营业执照怎么办", ["!【居住证申领】"]),
    ])


def test_a_follow_up_about_a_matter_no_item_is_found_for_is_not_answered_with_the_items_guide(env):
    turns = converse(env, [
        ("居住证", ["【居住证申领】"]),
        ("另外问下公积金贷款在哪办", ["没有找到", "!办理地点"]),  # not 居住证's window: the wrong office
        ("车辆年检要带啥", ["没有找到", "!需要带"]),
        ("办证的地方在哪", ["办理地点"]),  # the office's own words name no other matter
        ("你们单位在什么位置", ["办理地点"]),
        ("资料要复印吗", ["【居住证申领】", "!没有找到"]),
        ("要交费不", ["收费", "!请回复数字"]),
    ])
    assert all(t.state["item"] == RESIDENCE for t in turns)
    # the matcher's guess at another item is offered as a guess, not replaced by this item's materials
    converse(env, [("居住证", []), ("房子过户要啥手续", ["您问的可能是这一项", "!【居住证申领】"])])


def test_the_citizens_own_circumstances_are_no_other_matter_but_a_thing_named_to_be_done_is(env):
    turns = converse(env, [
        ("居住证", ["【居住证申领】"]),
        ("我家里有套房子，这样还符合要求吗", ["办理条件"]),  # 房子 is in an item's name, but here it is the asker's
        ("我住院了去不了，不知道家里人替我去行不行", ["代办", "!没有找到"]),
        ("我户口不在本地，是不是就不能申请了", ["办理条件"]),
    ])
    assert all(t.state["item"] == RESIDENCE for t in turns)
    converse(env, [("居住证", []), ("对了，残疾证是在哪里办的", ["!【居住证申领】"])])  # 残疾 is a cue, 残疾人证 a thing


def test_what_a_follow_up_asks_is_at_its_end_after_what_the_citizen_has_done_or_fears(env):
    turns = converse(env, [
        ("居住证", ["【居住证申领】"]),
        ("材料我都备好了，就是不知道该去哪个窗口", ["办理地点", "!需要带"]),  # the last part named is asked
        ("不会要拖一个多月吧", ["办理时限"]),
        ("不一定非得我自己去吧", ["代办"]),
        ("整个办理流程能跟我讲讲吗，我怕漏了哪一步", ["需要带：", "办理地点"]),  # the whole guide
    ])
    assert all(t.state["item"] == RESIDENCE for t in turns)


def test_two_parts_asked_at_once_are_both_answered_the_last_asked_first(env):
    turns = converse(env, [
        ("居住证", ["【居住证申领】"]),
        ("要带什么材料，在哪办", ["办理地点", "需要带：", "本人身份证"]),
        ("多久能拿到？要交钱吗", ["收费", "办理时限"]),
        ("材料我都备好了，就是不知道该去哪个窗口", ["办理地点", "!需要带"]),  # the materials are named, not asked
    ])
    second = turns[1].replies[0]
    assert second.index("办理地点") < second.index("需要带：")  # the part asked last is surest to be asked
    assert second.count("办理时间") == 1
    assert turns[2].replies[0].index("收费") < turns[2].replies[0].index("办理时限")


def test_a_fresh_question_asking_two_parts_gets_both(env):
    [turn] = converse(env, [("结婚登记要带什么，在哪里办", ["【结婚登记】", "办理地点", "需要带："])])
    assert len(turn.replies) == 1


def test_cue_words_do_not_keep_the_item_when_something_else_is_named(env):
    converse(env, [
        ("居住证", ["【居住证申领】"]),
        ("补办身份证多久能拿", ["居民身份证", "!【居住证申领】"]),  # an action on a thing: another matter
        ("结婚登记", ["【结婚登记】"]),
        ("离婚要带什么", ["离婚登记", "!【结婚登记】"]),
    ])


def test_how_the_result_comes_is_answered_from_the_guide(env, knowledge):
    mailed = next(i for i in knowledge.catalogue.items if i.mail_delivery)
    converse(env, [(mailed.name, [mailed.name]), ("能寄到家吗", ["可以邮寄到家", "查进度"])])
    collected = next(i for i in knowledge.catalogue.items if i.mail_delivery is False)
    converse(env, [(collected.name, [collected.name]), ("结果怎么领", ["要本人来领取"])])


def test_a_follow_up_about_a_thing_in_the_items_guide_or_about_who_applies_stays_with_the_item(env):
    converse(env, [
        ("结婚登记", ["【结婚登记】"]),
        ("照片要几张", ["【结婚登记】", "合影照片"]),
        ("户口本要带吗", ["【结婚登记】", "户口簿"]),
        ("外地人要什么材料", ["【结婚登记】", "需要带"]),
        ("代办要带什么", ["【结婚登记】", "需要带"]),
        ("多久能批下来", ["【结婚登记】", "办理时限", "!没有找到"]),  # what follows the field word is no topic
        ("办证的地方在哪", ["【结婚登记】", "办理地点"]),
    ])


def test_whether_to_bring_a_thing_is_answered_from_the_materials_of_the_item_at_hand(env):
    turns = converse(env, [
        ("结婚登记", ["【结婚登记】"]),
        ("身份证要带吗", ["【结婚登记】", "要带", "1. 本人有效的身份证", "!3. 3张"]),
        ("我的户口本要带吗", ["【结婚登记】", "要带", "户口簿"]),  # said 户口本, written 户口簿
        ("要不要带照片", ["要带，材料里有这一项", "3. 3张大2寸红底", "!1. 本人"]),
        ("要带吗", ["【结婚登记】", "需要带：", "1. 本人", "3. 3张"]),  # nothing named: the whole list
    ])
    assert all(t.state["item"] == "EXT-001" for t in turns)


def test_a_thing_to_bring_that_names_another_item_does_not_change_the_item(env):
    # 结婚证 alone would be 补领婚姻登记证; for a divorce it is one of the things to bring
    turns = converse(env, [
        ("离婚登记", ["【离婚登记】"]),
        ("结婚证要带吗", ["【离婚登记】", "!补领"]),
        ("离婚协议书要带吗", ["材料里是这样写的", "无须提交离婚协议书", "!要带，"]),
        ("身份证要带吗", ["【离婚登记】", "需要带：", "!要带，"]),  # named only inside the 户口簿 line's brackets
    ])
    assert turns[-1].state["item"] == turns[0].state["item"]


def test_whether_to_bring_a_thing_right_after_choices_asks_for_which_then_lists_its_materials(env):
    converse(env, [
        ("驾照", ["请回复数字"]),
        ("身份证要带吗", ["您想问的是哪一项", "1. 机动车驾驶证"]),
        ("1", ["【机动车驾驶证", "需要带：", "!都有请回复"]),  # the list, not the 材料清单 check
    ])


def test_a_new_question_right_after_choices_does_not_show_the_same_choices_again(env):
    converse(env, [
        ("驾照", ["请回复数字", "1. 机动车驾驶证"]),
        ("孩子上学要什么证明", ["没有找到您问的事项", "!请回复数字", "!机动车驾驶证"]),
    ])


def test_a_question_naming_a_matter_not_in_the_catalogue_says_so_rather_than_asking_which_matter(env):
    converse(env, [
        ("孩子上学要什么证明", ["没有找到您问的事项", "转人工", "!请告诉我事项名称"]),
        ("要带什么材料", ["请告诉我事项名称"]),  # nothing named: which matter?
    ])


def test_a_long_question_that_names_another_item_in_full_is_about_that_item(env):
    # a tentative match, but 低保 names all of 最低生活保障: not a follow-up about 居住证
    turns = converse(env, [
        ("居住证", ["【居住证申领】"]),
        ("我爸爸今年八十岁了腿脚不方便想办个低保能不能上门来办", ["【最低生活保障】", "上门服务", "!【居住证申领】"]),
        ("社保卡丢了", ["【社会保障卡补领、换领】"]),
        ("孩子刚出生要办什么手续", ["出生登记", "!【社会保障卡"]),
    ])
    assert turns[1].state["item"] != RESIDENCE


def test_a_follow_up_naming_an_ambiguous_item_asks_which_one_and_remembers_the_question(env):
    converse(env, [
        ("居住证", ["【居住证申领】"]),
        ("驾照在哪办", ["您想问的是哪一项", "1. 机动车驾驶证"]),
        ("2", ["【机动车驾驶证", "办理地点", "!需要带"]),
    ])


def test_whether_the_hall_helps_or_acts_for_the_citizen_or_comes_to_them_is_answered(env):
    converse(env, [
        ("社保卡补办", ["【社会保障卡补领、换领】"]),
        ("能代办吗", ["【社会保障卡补领、换领】", "本中心可为您帮办、代办、上门服务", "回复“预约”", "!需要带"]),
        ("我腿脚不好能上门吗", ["上门服务面向老年人"]),
        ("结婚登记能代办吗", ["【结婚登记】", "本中心可为您帮办，", "!代办、"]),
    ])
    converse(env, [("能代办吗", ["您问的是哪件事"])])


def test_whether_one_must_go_in_person_is_answered_from_what_the_hall_offers(env):
    converse(env, [
        ("社保卡补办", ["【社会保障卡补领、换领】"]),
        ("一定要本人去吗", ["本人来不了的，本中心可以为您代办", "委托书", "上门服务", "!办理条件"]),
        ("本人来办要带什么", ["需要带"]),  # not a question about going in person
        ("结婚登记要本人去吗", ["【结婚登记】", "办事指南没有写明", "020-83120303"]),
    ])


def test_whether_it_can_be_done_online_is_answered_from_the_guide(env):
    converse(env, [
        ("内资有限责任公司设立登记", ["【内资有限责任公司设立登记】"]),
        ("能网上办吗", ["可以网上办，不用到现场（在广东省市场准入信息系统办）", "!您想问的是哪一项"]),
        ("居住证要跑几次", ["【居住证申领】", "办事指南没有写明"]),
    ])


def test_wechat_emoticons_are_neither_questions_nor_misunderstandings(env):
    turns = converse(env, [
        ("[微笑]", ["收到", "!没有找到", "!办理"]),  # was taken for a question and sent to 文化和旅游厅
        ("/::)", ["收到"]),
        ("居住证要带什么[捂脸]", ["【居住证申领】", "需要带"]),
        ("[强][强]", ["收到", "!没能听懂"]),
    ])
    assert all(t.state["misses"] == 0 for t in turns) and turns[-1].state["item"] == RESIDENCE


def test_a_decline_names_the_unit_as_this_halls_list_does_not_as_the_copied_guide_does(env):
    # the nearest item, 住房公积金提取, comes from a guide of 青岛; this hall lists it under its own unit
    converse(env, [("公积金离职提取", ["没有找到您问的事项", "住房公积金管理中心区办事处", "!青岛"])])


def test_a_number_with_no_list_shown_says_there_is_nothing_to_pick(env):
    turns = converse(env, [("居住证怎么办", ["【居住证申领】"]), ("1", ["现在没有要选的编号", "帮助", "!我是帮办小助手"]),
                           ("在哪办", ["【居住证申领】", "1楼 A区"])])  # the matter discussed is still the same
    assert turns[1].state["misses"] == 1


def test_a_thing_to_be_done_that_the_catalogue_does_not_have_is_declined_as_such_not_as_not_understood(env):
    converse(env, [("户口本怎么补", ["没有找到您问的事项", "转人工", "!帮办小助手"])])


def test_a_childs_household_registration_asked_with_the_verb_after_it_is_the_birth_registration(env):
    converse(env, [("孩子户口怎么上", ["【出生登记", "!户口页借出"])])  # as 上户口: not lending the register page


def test_a_business_licence_is_a_company_registration_not_a_foundation(env):
    converse(env, [("我要办营业执照", ["有限责任公司设立登记", "!基金会", "!股权出质"])])
    converse(env, [("营业执照怎么办", ["有限责任公司设立登记", "!基金会", "!没有找到"])])
    converse(env, [("居住证", []), ("营业执照要多少钱", ["有限责任公司设立登记", "!【居住证申领】", "!没有找到"])])


def test_asking_when_the_hall_is_open_gets_its_hours_whether_it_is_open_now_and_the_next_opening(env):
    from dataclasses import replace

    converse(env, [("几点上班", ["办公时间：周一至周五", "现在正在办公", "地址：", "电话：020-83120000"])])
    saturday_night = replace(env, now=datetime(2024, 5, 11, 20, 0, tzinfo=SHANGHAI))
    converse(saturday_night, [("你们下班了吗", ["现在不在办公时间，下次开门：5月13日（周一）9点", "!现在正在办公"])])
    converse(env, [  # about a matter: its own window's hours
        ("居住证在哪办", ["【居住证申领】"]),
        ("几点下班", ["【居住证申领】", "办理时间：", "1楼 A区", "!办公时间："]),
        ("结婚登记周六上班吗", ["【结婚登记】", "办理时间：", "周六"]),
    ])


def test_a_field_question_before_any_item_asks_which_item_then_answers_that_field(env):
    converse(env, [
        ("要带什么材料", ["您问的是哪件事", "!抱歉"]),
        ("居住证", ["【居住证申领】", "需要带", "!办理单位"]),
    ])


def test_the_material_list_checks_the_current_items_materials_three_at_a_time(env):
    turns = converse(env, [
        ("材料清单", ["哪件事的材料清单"]),
        ("居住证", ["逐项核对【居住证申领】的材料，共4项", "1. 本人身份证", "3. 现住地", "!4. 《居住证申领表》"]),
        ("材料清单", ["1. 本人身份证", "这几项您都有吗"]),
    ])
    assert turns[-1].state["item"] == RESIDENCE and turns[-1].state["flow"]["name"] == "checklist"


# --- numbered choices ----------------------------------------------------------------------------------------------

def test_a_vague_question_gets_numbered_choices_and_a_number_picks_one(env):
    turns = converse(env, [
        ("驾照", ["您想问的是哪一项？请回复数字", "1. ", "2. ", "转人工"]),
        ("2", ["【机动车驾驶证", "需要带"]),
    ])
    offered = turns[0].state["choices"]
    assert len(offered) >= 2
    assert turns[1].state["item"] == offered[1] and turns[1].state["choices"] == []


@pytest.mark.parametrize("answer", ["第二个", "二", "２", "第2项", "选2"])
def test_the_second_choice_can_be_said_in_many_ways(env, answer):
    turns = converse(env, [("驾照", ["请回复数字"]), (answer, ["【机动车驾驶证"])])
    assert turns[1].state["item"] == turns[0].state["choices"][1]


def test_a_choice_can_be_picked_with_a_question_about_it(env):
    turns = converse(env, [("驾照", ["请回复数字"]), ("第二个要带什么", ["需要带", "!办理地点"])])
    assert turns[1].state["item"] == turns[0].state["choices"][1]


def test_a_choice_can_be_picked_by_typing_its_name(env, knowledge):
    first = converse(env, [("驾照", ["请回复数字"])])[0]
    name = knowledge.catalogue.get(first.state["choices"][0]).name
    turns = converse(env, [(name, [f"【{name}"])], state=first.state)
    assert turns[0].state["item"] == first.state["choices"][0]


def test_a_number_out_of_range_is_asked_again_politely_with_the_choices(env):
    turns = converse(env, [
        ("驾照", ["请回复数字"]),
        ("9", ["没有第9项", "请回复1到5之间的数字", "1. 机动车驾驶证", "5. "]),
        ("1", ["【机动车驾驶证"]),
    ])
    assert turns[1].state["choices"] == turns[0].state["choices"]


def test_cancel_clears_the_choices_and_the_item(env):
    turns = converse(env, [
        ("居住证", ["【居住证申领】"]),
        ("驾照", ["请回复数字"]),
        ("取消", ["已取消", "重新开始"]),
        ("2", ["!【机动车驾驶证"]),
    ])
    assert turns[2].state["choices"] == [] and turns[2].state["item"] is None


@pytest.mark.parametrize("word", ["返回", "重新开始"])
def test_back_and_start_again_also_cancel(env, word):
    turn = converse(env, [("居住证", []), (word, ["已取消"])])[1]
    assert turn.state["item"] is None


# --- help and a person ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("word", ["帮助", "菜单", "你好", "在吗"])
def test_help_words_show_what_the_assistant_does_as_a_numbered_menu(env, word):
    converse(env, [(word, ["帮办小助手", "1. 办事咨询", "要带什么", "在哪办", "多久", "预约帮办代办", "材料清单",
                           "查进度", "转人工"])])


def test_a_number_after_the_help_menu_picks_from_the_menu(env):
    converse(env, [("帮助", ["1. 办事咨询"]), ("1", ["请直接打字或发语音", "身份证丢了怎么补办"])])
    converse(env, [("菜单", ["4. 查进度"]), ("4", ["还没有", "查不到进度"])])
    converse(env, [("菜单", []), ("8", ["请回复1到5之间的数字"])])


@pytest.mark.parametrize("word", ["转人工", "人工", "找工作人员", "我要转人工"])
def test_asking_for_a_person_escalates_with_the_item_and_the_last_question(env, word):
    turns = converse(env, [
        ("居住证在哪办", ["【居住证申领】"]),
        (word, ["工作人员", "办公时间", "周一至周五", "020-83120000", "居住证申领"]),
    ])
    (escalate,) = turns[1].effects
    assert escalate == Escalate(reason="asked", item_id=RESIDENCE, catalogue_version=env.catalogue.version,
                                last_question="居住证在哪办", history=escalate.history)
    assert escalate.history == (("in", "居住证在哪办"), ("out", turns[0].replies[0][:300]), ("in", word))


def test_a_person_asked_for_in_a_sentence_gets_that_sentence(env):
    turn = converse(env, [("转人工，我想问老人上门办身份证", ["工作人员"])])[0]
    (escalate,) = turn.effects
    assert escalate.last_question == "转人工，我想问老人上门办身份证" and escalate.item_id is None


def test_three_messages_not_understood_in_a_row_offer_a_person_prominently(env):
    turns = converse(env, [
        ("asdfgh", ["!请回复“转人工”，请工作人员帮您"]),
        ("今天天气怎么样", ["!请回复“转人工”，请工作人员帮您"]),
        ("qwe zxc", ["请回复“转人工”，请工作人员帮您"]),
    ])
    assert turns[-1].replies[0].startswith("抱歉，我好像没能听懂。请回复“转人工”")
    assert [t.state["misses"] for t in turns] == [1, 2, 3]
    assert all(t.effects == () for t in turns)


def test_something_understood_resets_the_count_of_misunderstandings(env):
    turns = converse(env, [
        ("asdfgh", []), ("zzzz", []),
        ("居住证", ["【居住证申领】"]),
        ("qqqq", ["!请回复“转人工”，请工作人员帮您"]),
    ])
    assert [t.state["misses"] for t in turns] == [1, 2, 0, 1]


# --- booking and progress ------------------------------------------------------------------------------------------

def test_booking_an_item_on_the_halls_list_starts_the_booking_with_the_forms_the_list_offers(env):
    turns = converse(env, [
        ("居住证", ["【居住证申领】"]),
        ("预约", ["【居住证申领】", "请选择服务方式", "1. 现场帮办", "代办", "!上门帮办", "取消"]),
    ])
    assert turns[1].state["flow"]["name"] == "booking" and turns[1].state["item"] == RESIDENCE


def test_after_new_choices_the_material_list_is_for_one_of_them_not_the_earlier_item(env):
    turns = converse(env, [
        ("居住证", ["【居住证申领】"]),
        ("驾照", ["请回复数字"]),
        ("材料清单", ["您要看哪一项的材料清单？请回复数字", "1. 机动车驾驶证", "!居住证"]),
        ("1", ["【机动车驾驶证", "的材料，共"]),
    ])
    assert turns[3].state["item"] == turns[1].state["choices"][0]


def test_a_field_question_right_after_choices_asks_which_choice_then_answers_that_field(env):
    turns = converse(env, [
        ("居住证", ["【居住证申领】"]),
        ("驾照", ["请回复数字"]),
        ("在哪办", ["请回复数字", "1. 机动车驾驶证", "!居住证"]),
        ("第一个", ["【机动车驾驶证", "办理地点", "!需要带"]),
    ])
    assert turns[3].state["item"] == turns[1].state["choices"][0]


def test_booking_without_an_item_asks_which_item_then_books_it(env):
    turns = converse(env, [
        ("我要预约", ["您想预约哪件事"]),
        ("居住证", ["【居住证申领】", "请选择服务方式"]),
    ])
    assert turns[1].state["item"] == RESIDENCE and turns[1].state["want"] is None
    assert turns[1].state["flow"]["data"]["item"] == RESIDENCE


def test_booking_an_item_the_hall_does_not_offer_says_so_and_offers_a_person(env):
    turns = converse(env, [("驾照", []), ("2", ["暂未提供"]), ("预约", ["暂未提供", "转人工", "020-83120000"])])
    assert env.hall.entry(turns[1].state["item"]) is None


def test_progress_without_a_case_says_plainly_there_is_none(env):
    converse(env, [("查进度", ["还没有", "查不到进度"])])


def test_progress_with_an_open_case_names_it(knowledge, hall):
    with_case = Env(now=NOW, consult=knowledge.consult, catalogue=knowledge.catalogue, hall=hall,
                    open_case="BB-20240506-0001")
    converse(with_case, [("查进度", ["BB-20240506-0001", "转人工"])])


def test_thanks_gets_a_short_polite_answer_and_keeps_the_item(env):
    turns = converse(env, [("居住证", []), ("谢谢", ["不客气"]), ("在哪办", ["【居住证申领】", "1楼 A区"])])
    assert turns[1].state["misses"] == 0


# --- time ----------------------------------------------------------------------------------------------------------

def later(env: Env, minutes: int) -> Env:
    return Env(now=env.now + timedelta(minutes=minutes), consult=env.consult, catalogue=env.catalogue,
               hall=env.hall, idle_minutes=env.idle_minutes)


def test_an_idle_conversation_with_pending_choices_restarts_with_a_gentle_note(env):
    first = converse(env, [("驾照", ["请回复数字"])])[0]
    turn = converse(later(env, 31), [("2", ["刚才的对话已超时，我们重新开始", "重新说一下您要办的事",
                                            "!【机动车驾驶证"])], state=first.state)[0]
    assert turn.state["choices"] == [] and turn.state["item"] is None and turn.state["misses"] == 0


def test_an_idle_conversation_restarts_and_answers_the_new_question(env):
    first = converse(env, [("居住证", [])])[0]
    converse(later(env, 45), [("结婚登记", ["刚才的对话已超时", "【结婚登记】"])], state=first.state)


def test_a_conversation_within_the_idle_time_carries_on_without_a_note(env):
    first = converse(env, [("居住证", [])])[0]
    converse(later(env, 29), [("在哪办", ["【居住证申领】", "!超时"])], state=first.state)


def test_an_idle_conversation_with_nothing_pending_restarts_without_a_note(env):
    first = converse(env, [("帮助", [])])[0]
    converse(later(env, 120), [("居住证", ["【居住证申领】", "!超时"])], state=first.state)


# --- voice, photos, places, other kinds ----------------------------------------------------------------------------

def test_a_recognised_voice_message_is_answered_as_if_typed_and_echoed_first(env):
    turns = converse(env, [
        (voice("居住证在哪办"), ["您说的是：“居住证在哪办”", "【居住证申领】", "1楼 A区"]),
        (voice("要带什么材料"), ["您说的是：“要带什么材料”", "需要带"]),
    ])
    assert turns[0].replies[0].startswith("您说的是：“居住证在哪办”\n")


@pytest.mark.parametrize("recognised", [None, "", "  "])
def test_a_voice_message_without_recognition_asks_politely_to_try_again_or_type(env, recognised):
    converse(env, [(voice(recognised), ["没听清", "打字", "!您说的是"])])


def test_a_photo_with_an_open_case_is_kept_against_the_case(knowledge, hall):
    with_case = Env(now=NOW, consult=knowledge.consult, catalogue=knowledge.catalogue, hall=hall,
                    open_case="BB-20240506-0001")
    turns = converse(with_case, [("居住证", []), (photo("media-42"), ["照片已收到", "BB-20240506-0001"])])
    (keep,) = turns[1].effects
    assert isinstance(keep, KeepMedia) and keep.media_id == "media-42" and "居住证申领" in keep.note


def test_a_photo_without_an_open_case_explains_what_to_do_and_keeps_nothing(env):
    turn = converse(env, [(photo(), ["还没有办件", "预约", "转人工"])])[0]
    assert turn.effects == ()


def test_a_location_gets_the_hall_with_its_distance_address_hours_and_phone(env):
    h = env.hall.hall
    two_km_north = h.latitude + 2.0 / 111.195  # one degree of latitude is about 111.195 km
    converse(env, [(location(two_km_north, h.longitude), ["约2.0公里", h.address, "周一至周五", h.phone])])


def test_a_location_near_the_hall_is_given_in_metres(env):
    h = env.hall.hall
    converse(env, [(location(h.latitude + 0.3 / 111.195, h.longitude), ["约300米", "!公里"])])


def test_a_location_far_away_suggests_calling_first(env):
    converse(env, [(location(39.9042, 116.4074), ["公里", "先打电话"])])  # Beijing


def test_a_hall_without_coordinates_gives_its_address(env):
    from dataclasses import replace

    from knowledge.model import HallData

    bare = HallData(hall=replace(env.hall.hall, latitude=None, longitude=None), listing=env.hall.listing)
    no_map = Env(now=NOW, consult=env.consult, catalogue=env.catalogue, hall=bare)
    converse(no_map, [(location(23.1, 113.3), [bare.hall.address, "!公里", "!米（"])])


@pytest.mark.parametrize("kind", ["video", "link", "file", "other", "shortvideo"])
def test_videos_links_files_and_other_kinds_get_a_polite_fallback(env, kind):
    converse(env, [(Inbound(user="o-citizen", kind=kind, media_id="x"), ["文字和语音", "帮助"])])


# --- events --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, key", [("subscribe", None), ("subscribe_scan", "123"), ("scan", "hall-door")])
def test_following_or_scanning_the_code_gets_a_warm_welcome_with_the_menu(env, name, key):
    converse(env, [(event(name, key), ["欢迎关注", "示例政务服务中心", "1. 办事咨询", "转人工", "发语音"])])


def test_unfollowing_forgets_the_conversation_and_says_nothing(env):
    first = converse(env, [("居住证", [])])[0]
    turn = handle(first.state, event("unsubscribe"), env)
    assert turn == Turn(state=None, replies=(), effects=(ForgetUser(),))


@pytest.mark.parametrize("key, phrases", [
    ("CONSULT", ["请直接打字或发语音", "身份证丢了怎么补办", "居住证要带什么材料"]),
    ("BOOK", ["您想预约哪件事"]),
    ("MATERIALS", ["哪件事的材料清单"]),
    ("PROGRESS", ["查不到进度"]),
    ("HUMAN", ["工作人员", "办公时间"]),
    ("NO_SUCH_KEY", ["帮办小助手", "1. 办事咨询"]),
    (None, ["帮办小助手"]),
])
def test_each_menu_button_does_what_it_says(env, key, phrases):
    turn = converse(env, [(event("click", key), phrases)])[0]
    assert (turn.effects != ()) == (key == "HUMAN")


def test_the_booking_button_with_a_current_item_books_that_item(env):
    converse(env, [("居住证", []), (event("click", "BOOK"), ["【居住证申领】", "请选择服务方式", "现场帮办"])])


def test_the_human_button_escalates_with_the_item(env):
    turns = converse(env, [("居住证要多久", []), (event("click", "HUMAN"), ["工作人员"])])
    (escalate,) = turns[1].effects
    assert escalate == Escalate("asked", RESIDENCE, env.catalogue.version, "居住证要多久", escalate.history)
    assert escalate.history[-1] == ("in", "[点了菜单：转人工]")


@pytest.mark.parametrize("name", ["view", "location", "templatesendjobfinish"])
def test_events_that_need_no_answer_get_none_and_leave_the_conversation_alone(env, name):
    first = converse(env, [("驾照", [])])[0]
    turn = handle(first.state, event(name, "https://example.org"), env)
    assert turn.replies == () and turn.effects == () and turn.state == first.state


# --- whatever was stored -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("stored", [
    {"v": 99}, "not a dict", 42, [], {"v": 1}, {"v": 1, "updated": "yesterday"},
    {"v": 1, "updated": "2024-05-06T09:59:00"},  # no time zone
    {"v": 1, "updated": "2024-05-06T09:59:00+08:00", "item": 5, "choices": "abc", "misses": "x", "menu": "yes"},
    {"v": 1, "updated": "2024-05-06T09:59:00+08:00", "item": "NO-SUCH-ITEM", "choices": ["NO-1", "NO-2"]},
])
@pytest.mark.parametrize("message", [said("2"), said("在哪办"), said("转人工"), voice("居住证"), photo(),
                                     location(23.1, 113.3), event("click", "BOOK")])
def test_a_garbage_state_is_a_new_conversation_never_a_crash(env, stored, message):
    turn = handle(stored, message, env)
    check(turn)
    assert turn.replies and turn.state["v"] == STATE_VERSION
    assert turn.state["item"] in (None, RESIDENCE)


def test_an_empty_text_gets_the_help(env):
    converse(env, [("   ", ["帮办小助手"])])


def test_a_very_long_question_still_gets_replies_that_fit(env):
    converse(env, [("我想问一下" + "居住证怎么办理需要什么材料" * 200, []), (voice("结婚登记" * 300), ["您说的是"])])
