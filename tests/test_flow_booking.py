"""Booking a 帮办代办, moving and cancelling it: transcripts against dialogs.engine.handle with a fake case database.

Each turn's key phrases are checked (a phrase starting with "!" must not appear), every reply fits one WeChat
message and every state is plain JSON (tests/flow_helpers.py); the effects are checked field by field.
"""
from __future__ import annotations

from datetime import date, datetime, time

import pytest

from dialogs.effects import Applicant, CancelBooking, Delivery, MoveBooking, OpenCase
from dialogs.recognise import uscc_check_char
from dialogs.views import SlotView
from flow_helpers import (COMPANY, MONDAY, SKILL_TEST, RESIDENCE, SHANGHAI, SOCIAL_CARD, FakeCases, case, converse,
                          effects, env_at, later, with_item)

TUESDAY = date(2026, 11, 24)
CODE = "91440101MA5AB1234" + uscc_check_char("91440101MA5AB1234")  # a 统一社会信用代码 with a right check char


def up_to_the_summary(name: str = "张三", mobile: str = "13800138000"):
    """A person booking 居住证申领 on site for tomorrow morning, to be collected: every step up to the summary."""
    return [
        ("预约", ["【居住证申领】", "请选择服务方式", "1. 现场帮办", "2. 代办", "!上门帮办"]),
        ("1", ["个人还是企业"]),
        ("1", ["姓名"]),
        (name, ["手机号"]),
        (mobile, ["您想约哪天到大厅", "明天上午", "1. 11月23日（周一）上午10:30-11:00"]),
        ("明天上午", ["结果怎么给您", "1. 自己来取", "2. 邮寄"]),
        ("1", ["请核对您的预约", "事项：居住证申领", "服务方式：现场帮办", f"姓名：{name}", f"手机号：{mobile}",
               "预约时间：11月24日（周二）上午9:00-9:30", "取件方式：自取", "回复“是”提交", "手机号填错了"]),
    ]


def test_an_older_person_books_in_their_own_words():
    env = env_at()
    turns = converse(env, [
        ("居住证", []), ("预约", ["请选择服务方式"]), ("现场的", ["个人还是企业"]), ("个人的", ["姓名"]),
        ("我叫王秀英", ["手机号"]), ("139-1234-5678", ["您想约哪天"]), ("明儿个上午", ["结果怎么给您"]),
        ("自己去拿", ["请核对您的预约", "取件方式：自取"]),
        ("要得", ["预约好了", "编号：BB"]),  # yes, in Sichuan
    ])
    [opened] = effects(turns)
    assert opened.applicant.name == "王秀英" and opened.applicant.phone == "13912345678"


def test_a_form_the_item_does_not_offer_is_said_to_be_so():
    turns = converse(env_at(), [
        ("居住证", []), ("预约", ["请选择服务方式", "!上门帮办"]),
        ("上门", ["这件事没有上门帮办", "请回复数字1到4"]),
        ("1", ["个人还是企业"]),
    ])
    assert turns[2].state["flow"]["step"] == "form"


# --- happy paths -------------------------------------------------------------------------------------------------

def test_a_person_books_on_site_and_gets_the_case_number_time_place_phone_and_materials():
    env = env_at()
    turns = converse(env, [("居住证", ["【居住证申领】"]), *up_to_the_summary(), ("是", [
        "预约好了", "编号：BB20261123-0001", "时间：11月24日（周二）上午9:00-9:30",
        "地点：示例政务服务中心1楼 A区 1-8号窗口", "电话：020-83120101", "请带上", "1. 本人身份证",
        "4. 《居住证申领表》", "回复“查进度”", "改约 BB20261123-0001", "取消预约 BB20261123-0001"])])
    (opened,) = effects(turns)
    assert opened == OpenCase(
        number="BB20261123-0001", item_id=RESIDENCE, item_title="居住证申领", catalogue_version=env.catalogue.version,
        unit="区公安分局", form="现场帮办", applicant=Applicant(kind="个人", name="张三", phone="13800138000"),
        slot=SlotView(TUESDAY, time(9), time(9, 30), 3), delivery=Delivery("自取"), promised_limit="15个工作日内")
    assert turns[-1].state["flow"] is None and turns[-1].state["item"] == RESIDENCE


def test_the_example_date_in_the_time_question_is_ahead_of_today_and_is_understood():
    env = env_at(datetime(2027, 3, 1, 10, 0, tzinfo=SHANGHAI))  # a Monday
    converse(env, [("居住证", ["【居住证申领】"]), *up_to_the_summary()[:4],
                   ("13800138000", ["您想约哪天到大厅", "“3月11日9点”", "!12月3日"]),
                   ("3月11日9点", ["结果怎么给您"])])


def test_an_enterprise_books_a_proxy_with_a_clerk_who_is_not_the_legal_representative_and_mail_delivery():
    env = env_at()
    turns = converse(env, [
        ("预约", ["您想预约哪件事"]),
        ("内资有限责任公司设立登记", ["请选择服务方式"]),
        ("代办", ["签一份委托书", "个人还是企业"]),
        ("2", ["单位名称"]),
        ("广州示例科技有限公司", ["统一社会信用代码"]),
        (CODE.lower(), ["法定代表人"]),
        ("李四", ["经办人", "本人"]),
        ("王五", ["经办人不是法定代表人", "授权委托书", "手机号"]),
        ("138 0013 8000", ["哪天"]),
        ("下周三下午", ["结果怎么给您"]),
        ("邮寄", ["收件人姓名"]),
        ("本人", ["收件人手机号", "同上"]),
        ("同上", ["邮寄地址", "!上门地址"]),
        ("广州市天河区示例路1号", ["单位名称：广州示例科技有限公司", f"统一社会信用代码：{CODE}", "法定代表人：李四",
                                  "经办人：王五", "预约时间：12月2日（周三）下午1:00-1:30", "收件人：王五",
                                  "收件人电话：13800138000", "邮寄地址：广州市天河区示例路1号"]),
        ("好的", ["预约好了", "（代办）", "签委托书", "授权委托书", "……共9项。", "回复“材料清单”看全部材料、和我逐项核对"]),
    ])
    (opened,) = effects(turns)
    assert opened.item_id == COMPANY and opened.form == "代办" and opened.unit == "区市场监督管理局"
    assert opened.applicant == Applicant(kind="企业", name="广州示例科技有限公司", phone="13800138000",
                                         credit_code=CODE, legal_representative="李四", agent_name="王五",
                                         agent_phone="13800138000")
    assert opened.delivery == Delivery("邮寄", "王五", "13800138000", "广州市天河区示例路1号")
    assert opened.slot == SlotView(date(2026, 12, 2), time(13), time(13, 30), 3)
    assert opened.promised_limit == "1(工作日)" and "授权委托书" in opened.note


def test_the_legal_representative_coming_in_person_needs_no_authorisation_letter():
    turns = converse(env_at(), [
        ("预约", []), ("内资有限责任公司设立登记", []), ("1", []), ("企业", ["单位名称"]),
        ("广州示例科技有限公司", []), (CODE, []), ("李四", ["经办人"]),
        ("本人", ["手机号", "!授权委托书"]),
    ])
    assert turns[-1].state["flow"]["data"]["agent"] == "李四"


def test_an_item_for_persons_only_does_not_ask_person_or_enterprise_and_must_be_collected_in_person():
    turns = converse(env_at(), [
        ("预约", ["请选择服务方式", "1. 现场帮办", "!代办："]),
        ("1", ["姓名", "!个人还是企业"]),
        ("张三", []), ("13800138000", []),
        ("明天下午", ["请核对", "取件方式：本人领取", "!结果怎么给您"]),
        ("是", ["预约好了"]),
    ], state=with_item(SKILL_TEST, env_at()))
    assert effects(turns)[0].delivery == Delivery("自取")


# --- corrections, back, start again, leave ---------------------------------------------------------------------

def test_a_wrong_mobile_noticed_at_the_summary_is_fixed_and_the_summary_comes_back_without_starting_over():
    turns = converse(env_at(), [("居住证", []), *up_to_the_summary(), ("手机号填错了", ["手机号", "!服务方式"]),
                                ("13912345678", ["请核对您的预约", "手机号：13912345678", "姓名：张三",
                                                 "预约时间：11月24日（周二）上午9:00-9:30"]),
                                ("是", ["预约好了"])])
    assert effects(turns)[0].applicant.phone == "13912345678"


def test_corrections_can_carry_the_new_value_and_a_new_day_offers_its_times():
    converse(env_at(), [("居住证", []), *up_to_the_summary(),
                        ("名字写错了，是李四", ["请核对您的预约", "姓名：李四"]),
                        ("电话改成13912345678", ["手机号：13912345678", "姓名：李四"]),
                        ("改到周五", ["11月27日（周五）可以约这些时间", "1. 11月27日（周五）上午9:00-9:30"]),
                        ("2", ["请核对您的预约", "预约时间：11月27日（周五）上午9:30-10:00", "姓名：李四"])])


def test_no_at_the_summary_lists_what_can_be_changed_by_number():
    converse(env_at(), [("居住证", []), *up_to_the_summary(),
                        ("不对", ["要改哪一项", "1. 服务方式：现场帮办", "3. 姓名：张三", "4. 手机号：13800138000"]),
                        ("3", ["姓名"]),
                        ("王小明", ["请核对您的预约", "姓名：王小明"])])


def test_changing_person_to_enterprise_at_the_summary_asks_only_the_enterprise_questions():
    converse(env_at(), [("居住证", []), *up_to_the_summary(),
                        ("改成企业", ["单位名称"]),
                        ("广州示例科技有限公司", ["统一社会信用代码"]), (CODE, ["法定代表人"]), ("李四", []),
                        ("本人", ["请核对您的预约", "单位名称", "法定代表人：李四", "手机号：13800138000", "!姓名：张三"])])


def test_back_returns_to_the_previous_question_showing_the_answer_given():
    turns = converse(env_at(), [
        ("居住证", []), ("预约", []), ("1", []), ("1", []), ("张三", ["手机号"]),
        ("返回", ["回到上一步", "刚才填的是：张三", "姓名"]),
        ("李四", ["手机号", "!请核对"]),
    ])
    assert turns[-1].state["flow"]["data"]["name"] == "李四"


def test_back_at_the_first_question_says_so_and_how_to_leave():
    converse(env_at(), [("居住证", []), ("预约", []), ("返回", ["第一个问题", "取消", "请选择服务方式"])])


def test_starting_again_goes_back_to_the_first_question_for_the_same_item():
    turns = converse(env_at(), [
        ("居住证", []), ("预约", []), ("1", []), ("1", []), ("张三", []),
        ("重新开始", ["从头开始", "请选择服务方式"]),
    ])
    assert turns[-1].state["flow"]["data"] == {"item": RESIDENCE, "_begin": ["item"]}


def test_cancelling_midway_leaves_the_booking_and_keeps_nothing():
    turns = converse(env_at(), [
        ("居住证", []), ("预约", []), ("1", []), ("1", []), ("张三", []),
        ("取消", ["已退出预约帮办代办", "不保存"]),
        ("13800138000", ["!请核对", "!您想约哪天"]),
    ])
    assert turns[5].state["flow"] is None and effects(turns) == []


def test_three_bad_mobiles_offer_a_person_but_keep_asking_for_the_mobile():
    turns = converse(env_at(), [
        ("居住证", []), ("预约", []), ("1", []), ("1", []), ("张三", []),
        ("123", ["11位", "!转人工"]),
        ("abc", ["11位", "取消"]),
        ("020-8312000", ["手机号", "回复“转人工”"]),
        ("13800138000", ["您想约哪天", "!转人工"]),
    ])
    assert [t.state["flow"]["fails"] for t in turns[5:8]] == [1, 2, 3]
    assert turns[7].state["flow"]["step"] == "mobile" and turns[8].state["flow"]["fails"] == 0
    assert effects(turns) == []


def test_a_question_about_another_matter_midway_is_answered_and_the_booking_waits_at_its_step():
    turns = converse(env_at(), [
        ("居住证", []), ("预约", []), ("1", []), ("1", []), ("张三", []), ("123", ["11位"]),
        ("结婚登记要带什么材料", ["结婚登记", "还没办完", "继续", "!11位"]),
        ("继续", ["手机号"]),
        ("13800138000", ["您想约哪天"]),
    ])
    assert turns[6].state["flow"]["step"] == "mobile" and turns[6].state["flow"]["fails"] == 1
    assert turns[8].state["flow"]["data"]["name"] == "张三"
    assert effects(turns) == []


def test_a_question_where_the_name_is_asked_is_answered_not_taken_for_the_name():
    turns = converse(env_at(), [
        ("居住证", []), ("预约", []), ("1", []), ("1", []),
        ("电话多少", ["咨询电话", "还没办完", "!手机号"]),
        ("继续", ["姓名"]),
        ("张三", ["手机号"]),
    ])
    assert turns[4].state["flow"]["step"] == "name" and turns[-1].state["flow"]["data"]["name"] == "张三"


def test_follow_ups_in_everyday_words_midway_are_answered_for_the_item_and_the_booking_waits():
    turns = converse(env_at(), [
        ("居住证", []), ("预约", []), ("1", []), ("1", []),
        ("周六开门不", ["办理时间", "还没办完", "!手机号"]),  # not taken for the name
        ("地址", ["办理地点", "还没办完"]),
        ("多久能办好", ["办理时限", "还没办完"]),
        ("要交钱不", ["收费", "还没办完"]),
        ("继续", ["姓名"]),
    ])
    assert [t.state["flow"]["step"] for t in turns[4:]] == ["name"] * 5
    assert all(t.state["flow"]["fails"] == 0 for t in turns[4:])


def test_a_question_mentioning_an_option_is_answered_not_taken_for_the_choice():
    turns = converse(env_at(), [
        ("居住证", []), ("预约", ["请选择服务方式"]),
        ("电话多少", ["咨询电话", "还没办完", "!个人还是企业"]),  # not the option 远程帮办 (by phone)
        ("网上能办吗", ["还没办完", "!个人还是企业"]),  # nor 帮网上办
        ("你们能代办不", ["还没办完", "!个人还是企业"]),
        ("继续", ["请选择服务方式"]),
        ("我要代办", ["个人还是企业"]),  # an option named inside a plain answer is still taken
    ])
    assert [t.state["flow"]["step"] for t in turns[2:5]] == ["form"] * 3 and turns[-1].state["flow"]["data"]["form"]


def test_a_question_that_names_no_matter_midway_is_taken_as_a_wrong_answer():
    turns = converse(env_at(), [
        ("居住证", []), ("预约", []), ("1", []), ("1", []), ("张三", []),
        ("这个怎么弄啊", ["11位", "!还没办完"]),
    ])
    assert turns[5].state["flow"]["fails"] == 1


def test_help_in_the_middle_says_what_is_asked_and_how_to_leave():
    converse(env_at(), [("居住证", []), ("预约", []), ("1", []), ("1", []), ("张三", []),
                        ("帮助", ["您正在预约帮办代办", "返回", "重新开始", "取消", "转人工", "手机号"])])


def test_a_person_asked_for_midway_keeps_the_booking_which_goes_on_after():
    turns = converse(env_at(), [
        ("居住证", []), ("预约", []), ("1", []), ("1", []), ("张三", []),
        ("转人工", ["工作人员", "预约帮办代办还没办完", "继续"]),
        ("继续", ["手机号"]),
        ("13800138000", ["您想约哪天"]),
    ])
    assert turns[5].effects[0].reason == "asked"
    assert turns[7].state["flow"]["data"]["name"] == "张三"


def test_progress_asked_midway_is_answered_and_the_booking_waits():
    turns = converse(env_at(), [
        ("居住证", []), ("预约", []), ("1", []), ("1", []), ("张三", []),
        ("查进度", ["还没有帮办代办的办件", "还没办完", "继续"]),
        ("13800138000", ["您想约哪天"]),
    ])
    assert turns[5].state["flow"]["step"] == "mobile"


def test_an_idle_booking_expires_with_the_gentle_restart():
    env = env_at()
    first = converse(env, [("居住证", []), ("预约", []), ("1", []), ("1", [])])[-1]
    turn = converse(later(env, 31), [("张三", ["刚才的对话已超时，我们重新开始", "!手机号"])], state=first.state)[0]
    assert turn.state["flow"] is None


# --- slots ---------------------------------------------------------------------------------------------------------

def test_a_full_slot_offers_the_next_free_times_numbered():
    db = FakeCases()
    db.fill(TUESDAY, time(9))
    turns = converse(env_at(cases=db), [
        ("居住证", []), ("预约", []), ("1", []), ("1", []), ("张三", []), ("13800138000", []),
        ("明天上午9点", ["11月24日（周二）上午9:00-9:30已经约满了", "1. 11月24日（周二）上午9:30-10:00",
                         "2. 11月24日（周二）下午1:00-1:30", "3. 11月25日（周三）上午9:00-9:30"]),
        ("1", ["结果怎么给您"]),
    ])
    assert turns[-1].state["flow"]["data"]["slot"] == {"day": "2026-11-24", "start": "09:30", "end": "10:00"}


def test_a_morning_already_full_says_so_and_a_slot_taken_meanwhile_is_asked_again_at_the_end():
    db = FakeCases()
    for start in (time(9), time(9, 30), time(10), time(10, 30), time(11), time(11, 30)):
        db.fill(TUESDAY, start)
    env = env_at(cases=db)
    turns = converse(env, [
        ("居住证", []), ("预约", []), ("1", []), ("1", []), ("张三", []), ("13800138000", []),
        ("明天上午", ["11月24日（周二）上午已经约满了", "1. 11月24日（周二）下午1:00-1:30"]),
        ("1", []), ("1", ["请核对"]),
    ])
    db.fill(TUESDAY, time(13))
    converse(env, [("是", ["刚刚约满了", "请换一个时间", "可以约这些时间"])], state=turns[-1].state)


def test_today_offers_only_the_times_still_ahead():
    converse(env_at(now=datetime(2026, 11, 23, 16, 10, tzinfo=SHANGHAI)), [
        ("居住证", []), ("预约", []), ("1", []), ("1", []), ("张三", []),
        ("13800138000", ["1. 11月23日（周一）下午4:30-5:00", "!下午4:00-4:30"]),
        ("今天上午", ["今天上午已经过了"]),
        ("12点半", ["12:30不在办理时间内"]),
        ("晚上", ["晚上不办公"]),
    ])


def test_a_booking_over_national_day_2026_says_which_holiday_and_offers_the_next_working_days():
    env = env_at(now=datetime(2026, 9, 30, 15, 0, tzinfo=SHANGHAI))
    turns = converse(env, [
        ("居住证", []), ("预约", []), ("1", []), ("1", []), ("张三", []), ("13800138000", []),
        ("明天上午", ["10月1日是国庆节", "不办公", "1. 10月8日（周四）上午9:00-9:30", "!10月7日"]),
        ("10月5日", ["10月5日是国庆节"]),
        ("10月10日上午", ["结果怎么给您"]),  # a Saturday, but a make-up working day (调休) in 2026
    ])
    assert turns[-1].state["flow"]["data"]["slot"] == {"day": "2026-10-10", "start": "09:00", "end": "09:30"}
    converse(env, [("10月11日", ["10月11日是周日", "不办公"])], state=turns[-2].state)


def test_a_day_too_far_ahead_is_refused_with_the_last_bookable_day():
    converse(env_at(), [("居住证", []), ("预约", []), ("1", []), ("1", []), ("张三", []), ("13800138000", []),
                        ("12月31日", ["只能预约10个工作日以内", "最晚12月7日（周一）"])])


# --- 上门帮办 ----------------------------------------------------------------------------------------------------

def test_a_home_visit_is_only_for_someone_elderly_disabled_pregnant_or_ill():
    converse(env_at(), [
        ("预约", ["3. 上门帮办"]),
        ("上门帮办", ["请问办事人是", "1. 老年人", "5. 都不是"]),
        ("都不是", ["只为老年人、残疾人、孕妇和病人", "请选择服务方式"]),
    ], state=with_item(SOCIAL_CARD, env_at()))


def test_an_elderly_citizen_books_a_home_visit_with_the_address_and_a_green_channel():
    env = env_at()
    turns = converse(env, [
        ("预约", ["上门帮办"]),
        ("3", ["个人还是企业", "!请问办事人是"]),
        ("个人", []), ("张三", []), ("13800138000", ["上门的详细地址"]),
        ("广州市天河区示例路1号3栋201", ["希望工作人员哪天上门"]),
        ("明天上午", []), ("自取", ["上门对象：老年人", "上门地址：广州市天河区示例路1号3栋201"]),
        ("是", ["上门地址：广州市天河区示例路1号3栋201", "请准备好"]),
    ], state=with_item(SOCIAL_CARD, env, group="老年人"))
    (opened,) = effects(turns)
    assert opened.form == "上门帮办" and opened.applicant.address == "广州市天河区示例路1号3栋201"
    assert opened.applicant.priority_group == "老年人"


# --- refusals and bad codes -----------------------------------------------------------------------------------

def test_an_item_the_hall_does_not_offer_says_so_and_offers_consultation_or_a_person():
    turns = converse(env_at(), [("驾照", []), ("2", ["暂未提供"]),
                                ("预约", ["暂未提供", "转人工", "020-83120000", "详情"])])
    assert turns[-1].state["flow"] is None


def test_a_credit_code_with_a_wrong_check_character_is_asked_again():
    wrong = CODE[:-1] + ("0" if CODE[-1] != "0" else "1")
    turns = converse(env_at(), [
        ("预约", []), ("内资有限责任公司设立登记", []), ("1", []), ("2", []), ("广州示例科技有限公司", []),
        (wrong, ["最后一位校验不对"]),
        ("12345", ["应为18位"]),
        (CODE, ["法定代表人"]),
    ])
    assert turns[-2].state["flow"]["step"] == "credit_code"


def test_a_stored_slot_that_is_not_a_slot_is_asked_again():
    env = env_at()
    turns = converse(env, [("居住证", []), *up_to_the_summary()])
    state = turns[-1].state
    state["flow"]["data"]["slot"] = "tomorrow"
    converse(env, [("是", ["重新填", "您想约哪天", "!预约好了"])], state=state)


# --- moving and cancelling --------------------------------------------------------------------------------------

WEDNESDAY_NINE = SlotView(date(2026, 11, 25), time(9), time(9, 30), 0)


def citizen_with_cases() -> FakeCases:
    return FakeCases(mine=[
        case("BB20261120-0003", appointment=WEDNESDAY_NINE),
        case("BB20261110-0002", "社会保障卡补领、换领", "办理中", item_id=SOCIAL_CARD, form="代办",
             appointment=SlotView(date(2026, 11, 26), time(13), time(13, 30), 0)),
        case("BB20261101-0001", "结婚登记", "已办结", item_id="EXT-001", closed=True, appointment=None),
    ])


def test_moving_a_booking_by_its_number():
    turns = converse(env_at(cases=citizen_with_cases()), [
        ("改约 BB20261120-0003", ["【居住证申领】BB20261120-0003", "现在约的是11月25日（周三）上午9:00-9:30",
                                 "您想约哪天"]),
        ("后天下午", ["从：11月25日（周三）上午9:00-9:30", "改到：11月25日（周三）下午1:00-1:30", "确认改约"]),
        ("是", ["改好了", "新的时间：11月25日（周三）下午1:00-1:30", "示例政务服务中心1楼"]),
    ])
    assert effects(turns) == [MoveBooking("BB20261120-0003", SlotView(date(2026, 11, 25), time(13), time(13, 30), 3))]


def test_moving_a_booking_does_not_offer_the_time_it_has_now():
    [turn] = converse(env_at(cases=citizen_with_cases()), [("改约 BB20261120-0003", ["可以约这些时间"])])
    assert turn.replies[0].count("11月25日（周三）上午9:00-9:30") == 1  # in "现在约的是", not among the offers


def test_moving_without_a_number_asks_which_of_the_citizens_open_bookings():
    turns = converse(env_at(cases=citizen_with_cases()), [
        ("我要改约", ["您要改哪一个预约", "1. 居住证申领（待甄别）BB20261120-0003", "2. 社会保障卡", "!结婚登记"]),
        ("2", ["现在约的是11月26日（周四）下午1:00-1:30", "您想约哪天"]),
        ("11月30日9点", ["改到：11月30日（周一）上午9:00-9:30"]),
        ("改到下周二上午", ["改到：12月1日（周二）上午9:00-9:30"]),
        ("是", ["改好了"]),
    ])
    assert effects(turns) == [MoveBooking("BB20261110-0002", SlotView(date(2026, 12, 1), time(9), time(9, 30), 3))]


def test_cancelling_a_booking_by_number_asks_to_confirm_first():
    turns = converse(env_at(cases=citizen_with_cases()), [
        ("取消预约 bb20261120-3", ["确定要取消这件预约吗", "BB20261120-0003", "11月25日（周三）上午9:00-9:30"]),
        ("是", ["已取消预约", "BB20261120-0003"]),
    ])
    assert effects(turns) == [CancelBooking("BB20261120-0003", "申请人在微信上取消预约")]


def test_saying_no_to_cancelling_keeps_the_booking():
    turns = converse(env_at(cases=citizen_with_cases()), [
        ("取消预约", ["您要取消哪一件", "1. 居住证申领"]),
        ("1", ["确定要取消"]),
        ("不", ["预约保留"]),
    ])
    assert effects(turns) == [] and turns[-1].state["flow"] is None


def test_cancelling_another_booking_in_the_middle_of_moving_one_switches_to_it():
    turns = converse(env_at(cases=citizen_with_cases()), [
        ("改约 BB20261120-0003", ["您想约哪天"]),
        ("取消预约 BB20261110-0002", ["确定要取消", "BB20261110-0002"]),
    ])
    assert turns[-1].state["flow"]["name"] == "cancel_booking"


@pytest.mark.parametrize("message", ["改约 BB20261120-0099", "取消预约 BB20261120-0099", "改约 BB20250101-0001"])
def test_someone_elses_or_a_missing_number_is_not_found_in_the_citizens_name(message):
    turns = converse(env_at(cases=citizen_with_cases()), [
        (message, ["没有找到您名下的这个编号", "!确定要取消", "!您想约哪天"])])
    assert turns[0].effects == () and turns[0].state["flow"] is None


def test_a_closed_case_cannot_be_moved():
    converse(env_at(cases=citizen_with_cases()), [("改约 BB20261101-0001", ["已办结", "不能", "!您想约哪天"])])


def test_nothing_to_move_or_cancel_says_so():
    converse(env_at(), [("改约", ["没有可以改约的预约", "预约"]), ("取消预约", ["没有可以取消的预约"])])


# --- starting -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("message", ["我想预约居住证", "预约居住证", "居住证可以预约吗", "居住证怎么预约？"])
def test_naming_the_item_with_the_wish_to_book_starts_the_booking_for_it(message):
    turns = converse(env_at(), [(message, ["为您预约【居住证申领】", "请选择服务方式"])])
    assert turns[0].state["item"] == RESIDENCE and turns[0].state["flow"]["data"]["item"] == RESIDENCE


def test_booking_a_vaguely_named_item_asks_which_then_books_the_one_picked():
    turns = converse(env_at(), [("预约驾照", ["您想预约的是哪一项", "1. 机动车驾驶证"]), ("1", ["机动车驾驶证"])])
    assert turns[0].state["want"] == "book"


def test_the_booking_button_in_the_middle_of_a_booking_goes_on_with_it():
    from dialogs.messages import Inbound
    turns = converse(env_at(), [("居住证", []), ("预约", []), ("1", []), ("1", []), ("张三", ["手机号"]),
                                (Inbound(user="o-citizen", kind="event", event="click", key="BOOK"),
                                 ["接着来", "手机号", "!请选择服务方式"])])
    assert turns[-1].state["flow"]["data"]["name"] == "张三"


@pytest.mark.parametrize("said, then, slot", [
    ("明天下午", None, ("2026-11-24", "13:00")),
    ("下周三上午", None, ("2026-12-02", "09:00")),
    ("12月3日", ("12月3日（周四）可以约这些时间", "2"), ("2026-12-03", "09:30")),
    ("3号 9点", None, ("2026-12-03", "09:00")),
    ("11月25日下午2点", None, ("2026-11-25", "14:00")),
    ("2", None, ("2026-11-23", "13:00")),  # the second time offered with the question
])
def test_times_are_understood_as_people_say_them(said, then, slot):
    steps = [("居住证", []), ("预约", []), ("1", []), ("1", []), ("张三", []), ("13800138000", []),
             (said, [then[0]] if then else ["结果怎么给您"])]
    if then:
        steps.append((then[1], ["结果怎么给您"]))
    turns = converse(env_at(), steps)
    kept = turns[-1].state["flow"]["data"]["slot"]
    assert (kept["day"], kept["start"]) == slot
