"""What a citizen reads: answers, field answers, numbered choices and declines, always one WeChat message."""
from __future__ import annotations

import pytest

from dialogs.consult import choices_text, decline_text, facts, field_answer, full_answer, reply
from dialogs.text import WECHAT_TEXT_LIMIT, clip, time_limit
from knowledge.model import Catalogue, Hall, HallData, Item, ListingEntry, UnitContact


def utf8(text: str) -> int:
    return len(text.encode("utf-8"))


@pytest.fixture()
def hall() -> HallData:
    unit = UnitContact(unit="区民政局", booking_phone="020-83120303", staff=("王秀英",), mail_address="示例大道1号",
                       recipient="王秀英")
    entry = ListingEntry(seq=1, unit="区民政局", item_id="M1", item_name="结婚登记", sub_item=None, item_type=None,
                         category=None, promised_limit=None, forms=frozenset({"帮办", "上门服务"}), note=None)
    h = Hall(name="示例中心", address="示例大道1号", hours="周一至周五 9:00-17:00", phone="020-83120000",
             units=(unit,))
    return HallData(hall=h, listing={"M1": entry})


def marriage(**changes) -> Item:
    values = dict(id="M1", name="结婚登记", unit="某县民政局", materials=("身份证", "户口簿", "2寸合影照片"),
                  promised_limit="0(工作日)", location="民政局一楼", phone="0817-5525066", fee="不收费",
                  mail_delivery=False)
    values.update(changes)
    return Item(**values)


def test_an_answer_names_item_unit_materials_time_place_phone_and_what_to_reply(hall):
    text = full_answer(facts(marriage(), hall))
    for expected in ("【结婚登记】", "区民政局", "1. 身份证", "3. 2寸合影照片", "当场办结", "示例大道1号",
                     "020-83120303", "帮办、上门服务", "预约", "材料清单", "转人工"):
        assert expected in text
    assert utf8(text) <= WECHAT_TEXT_LIMIT


def test_an_item_not_on_the_halls_list_gives_the_guides_own_place_and_phone_and_no_booking(hall):
    item = marriage(id="OTHER")
    text = full_answer(facts(item, hall))
    assert "民政局一楼" in text and "0817-5525066" in text
    assert "暂未提供" in text and "回复“预约”" not in text


def test_when_the_guide_is_silent_and_has_no_phone_the_citizen_is_told_whom_to_ask(hall):
    item = marriage(id="OTHER", phone=None, materials=(), promised_limit=None, conditions=None)
    f = facts(item, hall)
    for text in (full_answer(f), field_answer(f, "materials"), field_answer(f, "time"), field_answer(f, "condition")):
        assert "请向某县民政局咨询" in text and "转人工" in text and "请电话咨询" not in text
    with_phone = facts(marriage(id="OTHER", materials=()), hall)
    assert "请电话咨询" in field_answer(with_phone, "materials") and "0817-5525066" in full_answer(with_phone)


def test_going_in_person_is_answered_from_the_forms_offered_and_how_the_result_comes(hall):
    here = field_answer(facts(marriage(), hall), "in_person")  # on the list: 帮办, 上门服务; collected in person
    assert "办事指南没有写明" in here and "上门服务" in here and "办好后要本人来领取" in here
    mailed = field_answer(facts(marriage(id="OTHER", mail_delivery=True), hall), "in_person")
    assert "办好后结果可以邮寄" in mailed and "上门服务" not in mailed


def test_doing_it_online_is_answered_from_the_visits_the_guide_states(hall):
    online = field_answer(facts(marriage(visits_required=0, platform="广东政务服务网"), hall), "online")
    assert "可以网上办，不用到现场（在广东政务服务网办）" in online and "帮网上办" in online  # 帮办 is offered
    twice = field_answer(facts(marriage(id="OTHER", visits_required=2), hall), "online")
    assert "要到现场2次" in twice and "帮网上办" not in twice
    assert "办事指南没有写明" in field_answer(facts(marriage(), hall), "online")
    assert "不用到现场" in field_answer(facts(marriage(id="OTHER", visits_required=0), hall), "in_person")


def test_a_long_material_list_is_summarised_with_a_way_to_see_the_rest(hall):
    item = marriage(materials=tuple(f"第{i}种证明材料，" + "需要原件和复印件各一份并加盖公章" * 3 for i in range(40)))
    text = full_answer(facts(item, hall))
    assert utf8(text) <= WECHAT_TEXT_LIMIT
    assert "还有" in text and "回复“材料清单”查看全部" in text
    assert "1. 第0种证明材料" in text


def test_a_materials_question_lists_every_material_when_it_fits(hall):
    text = field_answer(facts(marriage(), hall), "materials")
    assert "1. 身份证" in text and "2. 户口簿" in text and "3. 2寸合影照片" in text
    assert "办理地点" not in text


@pytest.mark.parametrize("field, expected", [
    ("place", "示例大道1号"), ("time", "当场办结"), ("phone", "020-83120303"), ("fee", "不收费"),
])
def test_a_question_about_one_field_gets_that_field(hall, field, expected):
    text = field_answer(facts(marriage(), hall), field)
    assert expected in text and "【结婚登记】" in text
    assert "需要带" not in text


def test_parts_asked_before_are_added_only_while_the_message_has_room(hall):
    many = marriage(materials=tuple(f"第{i}种证明材料，" + "需要原件和复印件各一份并加盖公章" * 3 for i in range(40)))
    both = field_answer(facts(marriage(), hall), "place", before=("materials",))
    assert "示例大道1号" in both and "1. 身份证" in both and both.count("回复“详情”") == 1
    shortened = field_answer(facts(many, hall), "place", before=("materials",))  # the list is cut to make room
    assert "示例大道1号" in shortened and "1. 第0种证明材料" in shortened and "还有" in shortened
    room = utf8(field_answer(facts(many, hall), "place"))
    alone = field_answer(facts(many, hall), "place", limit=room, before=("materials",))
    assert "示例大道1号" in alone and "需要带" not in alone  # no room for the other part: the part asked last


def test_an_unknown_fee_is_not_presented_as_free(hall):
    text = field_answer(facts(marriage(fee=None), hall), "fee")
    assert "未写明" in text and "不收费" not in text


def test_choices_are_numbered_and_offer_a_way_out():
    text = choices_text(["结婚登记", "结婚登记预约"])
    assert "1. 结婚登记\n2. 结婚登记预约" in text
    assert "转人工" in text


def test_a_decline_says_the_catalogue_has_no_such_item_names_the_unit_and_offers_a_human(hall):
    text = decline_text(hall, "广州市公安局", understood=True)
    assert "没有找到" in text and "广州市公安局" in text and "转人工" in text and "020-83120000" in text


def test_chit_chat_gets_a_short_introduction_not_a_unit(hall):
    text = decline_text(hall, None, understood=False)
    assert "帮办小助手" in text and "转人工" in text and "一般由" not in text


def test_clip_never_breaks_a_chinese_character():
    text = clip("办" * 1000, 100)
    assert utf8(text) <= 100 and text.endswith("……")
    text.encode("utf-8").decode("utf-8")


@pytest.mark.parametrize("raw, shown", [("5(工作日)", "5个工作日"), ("0(工作日)", "当场办结"),
                                        ("30个工作日", "30个工作日"), (None, None)])
def test_time_limits_read_naturally(raw, shown):
    assert time_limit(raw) == shown


class _Query:
    def __init__(self, fields=(), topic_words=(), actions=frozenset()):
        self.fields, self.topic_words, self.actions = fields, topic_words, actions
        self.runs = ()  # no words of its own: nothing asked besides the last field


class _Decision:
    def __init__(self, kind, choices, tentative=False):
        self.kind, self.choices, self.tentative = kind, choices, tentative


class _Hit:
    def __init__(self, id, name, score):
        self.id, self.name, self.score = id, name, score


class _Consultation:
    def __init__(self, kind, hits, fields=(), tentative=False, topic_words=()):
        self.query, self.hits = _Query(fields, topic_words), tuple(hits)
        self.decision = _Decision(kind, tuple(hits), tentative)


def test_reply_answers_the_asked_field_of_a_confident_match(hall):
    catalogue = Catalogue(version="t", items=(marriage(),))
    text = reply(_Consultation("answer", [_Hit("M1", "结婚登记", 0.9)], fields=("time",)), catalogue, hall)
    assert "当场办结" in text and "需要带" not in text


def test_reply_declines_chit_chat_without_guessing_a_unit(hall):
    catalogue = Catalogue(version="t", items=(marriage(),))
    text = reply(_Consultation("decline", [_Hit("M1", "结婚登记", 0.2)]), catalogue, hall)
    assert "帮办小助手" in text and "民政局" not in text


def test_reply_to_a_question_about_a_matter_not_in_the_catalogue_says_it_was_not_found(hall):
    catalogue = Catalogue(version="t", items=(marriage(),))
    asked = _Consultation("decline", [], fields=("materials",), topic_words=("上学",))  # 孩子上学要什么证明
    assert "没有找到您问的事项" in reply(asked, catalogue, hall)
    how = _Consultation("decline", [], fields=("process",), topic_words=("高龄", "津贴"))  # 高龄津贴怎么申请
    assert "没有找到您问的事项" in reply(how, catalogue, hall)
    chatter = _Consultation("decline", [], fields=("service",), topic_words=("不好",))  # 我腿脚不好能上门吗
    assert "帮办小助手" in reply(chatter, catalogue, hall)


def test_a_tentative_answer_says_it_may_be_this_item_and_offers_a_way_out(hall):
    catalogue = Catalogue(version="t", items=(marriage(),))
    text = reply(_Consultation("answer", [_Hit("M1", "结婚登记", 0.6)], tentative=True), catalogue, hall)
    assert text.startswith("您问的可能是") and "【结婚登记】" in text and "转人工" in text
