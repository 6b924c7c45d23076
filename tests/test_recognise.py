"""What the recognisers make of what citizens type: a value, or a short Chinese reason saying what to type."""
from __future__ import annotations

import re
from datetime import date, time

import pytest

from dialogs.recognise import (
    Parsed, When, date_text, id_check_digit, parse_address, parse_choice, parse_company_name, parse_date,
    parse_id_number, parse_mobile, parse_name, parse_numbers, parse_time_of_day, parse_uscc, parse_when,
    parse_yes_no, uscc_check_char, valid_id_number, valid_mobile, valid_uscc,
)

WEDNESDAY = date(2025, 12, 10)  # today in most date tests: Wednesday 10 December 2025
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def assert_refused(parsed: Parsed) -> str:
    """The recogniser gave no value and a reason a citizen can read."""
    assert not parsed.ok and parsed.value is None
    assert parsed.reason and CHINESE.search(parsed.reason) and len(parsed.reason) <= 80, parsed.reason
    return parsed.reason


# --- dates --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("今天", date(2025, 12, 10)), ("明天", date(2025, 12, 11)), ("后天", date(2025, 12, 12)),
    ("大后天", date(2025, 12, 13)), ("明儿", date(2025, 12, 11)), ("就明天吧", date(2025, 12, 11)),
    ("下周三", date(2025, 12, 17)), ("下周一", date(2025, 12, 15)), ("下周日", date(2025, 12, 21)),
    ("下下周一", date(2025, 12, 22)), ("这周五", date(2025, 12, 12)), ("本周五", date(2025, 12, 12)),
    ("这周三", date(2025, 12, 10)), ("周五", date(2025, 12, 12)), ("星期五", date(2025, 12, 12)),
    ("礼拜五", date(2025, 12, 12)), ("星期天", date(2025, 12, 14)), ("周日", date(2025, 12, 14)),
    ("周4", date(2025, 12, 11)), ("12月23日", date(2025, 12, 23)), ("12月23号", date(2025, 12, 23)),
    ("12.23", date(2025, 12, 23)), ("12/23", date(2025, 12, 23)), ("１２月２３日", date(2025, 12, 23)),
    ("12 月 23 日", date(2025, 12, 23)), ("十二月二十三日", date(2025, 12, 23)), ("25号", date(2025, 12, 25)),
    ("二十五号", date(2025, 12, 25)), ("10号", date(2025, 12, 10)), ("2026年12月3日", date(2026, 12, 3)),
    ("2026-12-03", date(2026, 12, 3)), ("2026/1/5", date(2026, 1, 5)), ("二〇二六年一月五日", date(2026, 1, 5)),
    ("明年3月1日", date(2026, 3, 1)), ("12月31日上午9点", date(2025, 12, 31)), ("明天下午", date(2025, 12, 11)),
])
def test_days_are_understood_however_a_citizen_writes_them(text, expected):
    assert parse_date(text, WEDNESDAY) == Parsed(expected)


def test_a_bare_weekday_means_the_next_one_not_today():
    assert parse_date("周三", WEDNESDAY).value == date(2025, 12, 17)
    assert parse_date("今天", WEDNESDAY).value == WEDNESDAY


@pytest.mark.parametrize("text, expected", [
    ("3号", date(2026, 1, 3)), ("三号", date(2026, 1, 3)), ("1月5日", date(2026, 1, 5)), ("1.5", date(2026, 1, 5)),
])
def test_a_day_already_past_this_month_or_year_means_the_next_one(text, expected):
    assert parse_date(text, WEDNESDAY).value == expected


def test_a_day_this_month_does_not_have_moves_to_the_next_month_that_does():
    assert parse_date("31号", date(2025, 11, 15)).value == date(2025, 12, 31)
    assert parse_date("30号", date(2026, 1, 31)).value == date(2026, 3, 30)


@pytest.mark.parametrize("text", ["12月3日", "12.3", "十二月三号", "这周一", "上周三", "2025年1月1日", "2024-12-03"])
def test_a_date_in_the_past_is_refused_with_the_date_named(text):
    reason = assert_refused(parse_date(text, WEDNESDAY))
    assert "已经过去" in reason


@pytest.mark.parametrize("text", ["2月30日", "2026年2月29日", "13月1日"])
def test_a_day_that_does_not_exist_is_refused(text):
    assert_refused(parse_date(text, WEDNESDAY))


@pytest.mark.parametrize("text", ["", "我想问一下", "随便", "下个月", "周八", "不知道"])
def test_text_without_a_day_gets_examples_of_what_to_type(text):
    assert "明天" in assert_refused(parse_date(text, WEDNESDAY))


def test_two_different_days_in_one_answer_are_asked_again():
    assert "一个日期" in assert_refused(parse_date("下周三或者周四", WEDNESDAY))
    assert parse_date("周五 12月12日", WEDNESDAY).value == date(2025, 12, 12)  # the same day twice is fine


def test_a_date_is_said_back_with_its_weekday():
    assert date_text(date(2025, 12, 17)) == "12月17日（周三）"


# --- times of day -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("上午", "上午"), ("早上", "上午"), ("下午", "下午"), ("晚上", "晚上"), ("傍晚", "晚上"), ("下午吧", "下午"),
    ("9点", time(9)), ("九点", time(9)), ("九点半", time(9, 30)), ("下午3点", time(15)), ("下午三点", time(15)),
    ("14:30", time(14, 30)), ("１４：３０", time(14, 30)), ("上午10点", time(10)), ("10点整", time(10)),
    ("3点15分", time(15, 15)), ("两点一刻", time(14, 15)), ("14点30", time(14, 30)), ("中午12点", time(12)),
    ("晚上8点", time(20)), ("下午15点", time(15)), ("8:05", time(8, 5)),
])
def test_times_of_day_are_understood(text, expected):
    assert parse_time_of_day(text) == Parsed(expected)


def test_one_to_six_oclock_without_morning_or_afternoon_means_the_afternoon():
    assert parse_time_of_day("3点").value == time(15)
    assert parse_time_of_day("上午3点").value == time(3)
    assert parse_time_of_day("7点").value == time(7)


def test_a_bit_earlier_is_not_one_oclock():
    assert parse_when("明天早一点", WEDNESDAY).value == When(date(2025, 12, 11))


@pytest.mark.parametrize("text", ["25点", "9:75", "上午15点", "9点到10点", "上午或者下午", "中午", "什么时候都行", ""])
def test_impossible_or_unclear_times_are_asked_again(text):
    assert_refused(parse_time_of_day(text))


@pytest.mark.parametrize("text, expected", [
    ("明天下午", When(date(2025, 12, 11), "下午")),
    ("下周三上午", When(date(2025, 12, 17), "上午")),
    ("12月23日上午9点", When(date(2025, 12, 23), "上午", time(9))),
    ("周五", When(date(2025, 12, 12))),
    ("下午3点", When(None, "下午", time(15))),
    ("今晚", When(date(2025, 12, 10), "晚上")),
    ("明早九点半", When(date(2025, 12, 11), "上午", time(9, 30))),
    ("后天 14:00", When(date(2025, 12, 12), "下午", time(14))),
    ("明天一早", When(date(2025, 12, 11), "上午")),
    ("明儿下半天", When(date(2025, 12, 11), "下午")),
])
def test_a_day_and_a_time_together(text, expected):
    assert parse_when(text, WEDNESDAY) == Parsed(expected)


def test_a_moment_is_said_back_in_chinese():
    assert When(date(2025, 12, 23), "上午", time(9)).text == "12月23日（周二）上午9:00"


@pytest.mark.parametrize("text", ["12月3日下午", "随便", "明天或者后天", "明天25点"])
def test_a_moment_in_the_past_or_unclear_is_asked_again(text):
    assert_refused(parse_when(text, WEDNESDAY))


# --- yes / no -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["是", "是的", "好", "好的", "好的呀", "对", "对的", "嗯", "嗯嗯", "可以", "行", "确认",
                                  "没问题", "OK", "ok", "Yes", "要", "需要", "好的，谢谢", "对，就这样", "好好好",
                                  "是的！", " 好 "])
def test_yes_in_its_many_forms(text):
    assert parse_yes_no(text) == Parsed(True)


@pytest.mark.parametrize("text", ["不", "不是", "不用", "不用了", "不要", "算了", "没有", "否", "no", "NO", "不对",
                                  "错了", "不需要", "不用了，谢谢", "不是，我要改日期", "不行"])
def test_no_in_its_many_forms(text):
    assert parse_yes_no(text) == Parsed(False)


@pytest.mark.parametrize("text, said", [("中", True), ("中中中", True), ("要得", True), ("得行", True), ("对头", True),
                                        ("好嘞", True), ("是滴", True), ("嗯呐", True), ("不中", False),
                                        ("要不得", False), ("不得行", False)])
def test_yes_and_no_in_the_words_older_people_use_in_the_regions(text, said):
    assert parse_yes_no(text) == Parsed(said)


@pytest.mark.parametrize("text", ["1", "2", "是不是", "不好意思", "我想想", "", "结婚登记", "好不好"])
def test_numbers_and_unclear_answers_are_neither_yes_nor_no(text):
    assert "是" in assert_refused(parse_yes_no(text))


# --- choices ------------------------------------------------------------------------------------------------

OPTIONS = ["身份证", "临时身份证", "居住证", "港澳通行证"]


@pytest.mark.parametrize("text, index", [
    ("1", 0), ("２", 1), ("二", 1), ("第二个", 1), ("选3", 2), ("4号", 3),
    ("身份证", 0), ("临时身份证", 1), ("我要办临时身份证", 1), ("居住证吧", 2), ("港澳", 3), ("通行证", 3),
])
def test_a_choice_by_number_or_by_name(text, index):
    assert parse_choice(text, OPTIONS) == Parsed(index)


@pytest.mark.parametrize("text", ["5", "0", "第十个"])
def test_a_number_out_of_range_is_refused_with_the_valid_numbers(text):
    assert "1到4" in assert_refused(parse_choice(text, OPTIONS))


def test_a_word_that_fits_several_options_lists_their_numbers():
    reason = assert_refused(parse_choice("证", ["身份证", "居住证"]))  # one character matches nothing on its own
    assert "1到2" in reason
    reason = assert_refused(parse_choice("我要居住证和港澳通行证", OPTIONS))
    assert "3、4" in reason
    reason = assert_refused(parse_choice("结婚", ["结婚登记", "离婚登记", "补办结婚证"]))
    assert "1、3" in reason


def test_text_naming_no_option_is_refused():
    assert_refused(parse_choice("护照", OPTIONS))
    assert "数字1。" in assert_refused(parse_choice("随便", ["只有这一项"]))


# --- numbers for a checklist --------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("第2、5个", [2, 5]), ("2和5", [2, 5]), ("2,5", [2, 5]), ("2，5", [2, 5]), ("二、五", [2, 5]), ("2 5", [2, 5]),
    ("5、2、2", [2, 5]), ("３", [3]), ("第1到3项", [1, 2, 3]), ("1-3", [1, 2, 3]), ("十二", [12]), ("12", [12]),
])
def test_several_numbers_for_a_checklist(text, expected):
    assert parse_numbers(text) == Parsed(expected)


@pytest.mark.parametrize("text", ["", "都有了", "0", "5到2", "第二个和那个"])
def test_text_that_is_not_a_list_of_numbers_is_refused(text):
    assert_refused(parse_numbers(text))


def test_numbers_above_the_list_are_refused():
    assert "1到6" in assert_refused(parse_numbers("2、9", maximum=6))
    assert parse_numbers("2、6", maximum=6).value == [2, 6]


# --- mobile numbers -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["13800138000", "138 0013 8000", "138-0013-8000", "+86 138 0013 8000",
                                  "8613800138000", "１３８００１３８０００", "手机号是13800138000",
                                  "13800138000。"])
def test_mobile_numbers_however_written(text):
    assert parse_mobile(text) == Parsed("13800138000")


@pytest.mark.parametrize("text", ["19912345678", "16612345678", "14712345678"])
def test_newer_mobile_prefixes_are_accepted(text):
    assert parse_mobile(text).value == text


@pytest.mark.parametrize("text", ["010-12345678", "0755 8888 8888", "88886666"])
def test_a_landline_is_refused_with_a_request_for_a_mobile(text):
    assert "手机号" in assert_refused(parse_mobile(text))


@pytest.mark.parametrize("text", ["1380013800", "138001380001", "12800138000", "手机", "", "13800138000 13900139000"])
def test_wrong_mobile_numbers_are_refused(text):
    assert_refused(parse_mobile(text))


def test_the_stored_form_of_a_mobile_is_eleven_plain_digits():
    assert valid_mobile("13800138000")
    assert not valid_mobile("138 0013 8000") and not valid_mobile("+8613800138000") and not valid_mobile("12800138000")


# --- 身份证号 -----------------------------------------------------------------------------------------------

VALID_ID = "11010519491231002X"


def test_the_sample_id_numbers_have_the_right_check_digits():
    assert id_check_digit(VALID_ID[:17]) == "X"
    assert id_check_digit("11010119900307447") == "7"


@pytest.mark.parametrize("text, expected", [
    (VALID_ID, VALID_ID), ("11010519491231002x", VALID_ID), ("110105 19491231 002X", VALID_ID),
    ("１１０１０５１９４９１２３１００２Ｘ", VALID_ID), ("身份证号：11010519491231002X", VALID_ID),
    ("110101199003074477", "110101199003074477"),
])
def test_id_numbers_are_accepted_in_any_width_or_case(text, expected):
    assert parse_id_number(text) == Parsed(expected)


@pytest.mark.parametrize("last", "0123456789")
def test_an_id_number_with_a_wrong_check_digit_is_refused(last):
    assert assert_refused(parse_id_number(VALID_ID[:17] + last)) == "身份证号最后一位校验不对，请核对后再输一次。"


@pytest.mark.parametrize("text, words", [
    ("11010519491231002", "18位"), ("1101051949123100", "18位"), ("110105194912310021X", "18位"),
    ("110105491231002", "15位"), ("1101051949123100AX", "数字"), ("110105*19491231002", "数字"),
    ("11010519491331002X", "出生日期"), ("11010518991231002X", "出生日期"), ("01010519491231002X", "开头"),
    ("", "身份证号"),
])
def test_malformed_id_numbers_are_refused_with_what_is_wrong(text, words):
    assert words in assert_refused(parse_id_number(text))


def test_an_id_number_born_after_today_is_refused_only_when_today_is_given():
    future = "110105203001010000"
    future = future[:17] + id_check_digit(future[:17])
    assert parse_id_number(future).ok
    assert "出生日期" in assert_refused(parse_id_number(future, today=WEDNESDAY))
    assert not valid_id_number(future, today=WEDNESDAY)


def test_the_stored_form_of_an_id_number_is_exact():
    assert valid_id_number(VALID_ID)
    assert not valid_id_number(VALID_ID.lower()) and not valid_id_number(VALID_ID[:17] + "1")
    assert not valid_id_number(" " + VALID_ID)


# --- 统一社会信用代码 ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("code", ["91350100M000100Y43", "9144030071526726XG", "91330100716105852F",
                                  "91110000802100433B"])
def test_real_credit_codes_are_accepted(code):
    assert parse_uscc(code) == Parsed(code)
    assert valid_uscc(code) and uscc_check_char(code[:17]) == code[-1]


@pytest.mark.parametrize("text", ["91350100m000100y43", "9135 0100 M000 100Y 43", "９１３５０１００Ｍ０００１００Ｙ４３",
                                  "统一社会信用代码：91350100M000100Y43"])
def test_credit_codes_are_cleaned_up(text):
    assert parse_uscc(text).value == "91350100M000100Y43"


@pytest.mark.parametrize("text, words", [
    ("91350100M000100Y44", "校验"), ("91350100M000100Y4", "18位"), ("440301103245678", "15位"),
    ("91350100MO00100Y43", "O"), ("9135010IM000100Y43", "I"), ("91AB0100M000100Y43", "地区"),
    ("913501_0M000100Y43", "数字和大写字母"), ("", "18位"),
])
def test_malformed_credit_codes_are_refused_with_what_is_wrong(text, words):
    assert words in assert_refused(parse_uscc(text))


def test_the_stored_form_of_a_credit_code_is_upper_case():
    assert not valid_uscc("91350100m000100y43")


# --- names, addresses, companies ----------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("张三", "张三"), ("我叫张三", "张三"), ("我是李四。", "李四"), ("姓名：王小明", "王小明"), ("名字是欧阳娜娜", "欧阳娜娜"),
    ("买买提·艾力", "买买提·艾力"), ("买买提・艾力", "买买提·艾力"), ("John Smith", "John Smith"),
    ("  John   Smith ", "John Smith"), ("Alexander Konstantinovich", "Alexander Konstantinovich"),
])
def test_names_are_taken_without_the_words_around_them(text, expected):
    assert parse_name(text) == Parsed(expected)


@pytest.mark.parametrize("text", ["张", "张三3", "13800138000", "我想办身份证", "你好吗", "", "张三 John",
                                  "这是一个非常非常非常非常长的不像名字的字"])
def test_what_is_not_a_name_is_refused(text):
    assert_refused(parse_name(text))


@pytest.mark.parametrize("text", ["电话多少", "材料清单", "要带身份证", "收费标准", "多久能好", "周六开门不", "能不能网上办",
                                  "礼拜天上班吗"])
def test_a_question_typed_where_the_name_is_asked_is_not_a_name(text):
    assert_refused(parse_name(text))


@pytest.mark.parametrize("text", ["多吉", "次仁多吉", "欧阳多多", "李号", "欧阳不凡", "王可"])
def test_names_with_a_question_words_character_are_still_names(text):
    assert parse_name(text) == Parsed(text)


@pytest.mark.parametrize("text", ["明天上午", "下周三下午", "上午", "后天"])
def test_a_time_given_where_the_name_is_asked_is_refused_as_a_name(text):
    refused = parse_name(text)
    assert refused.value is None and "这里要填姓名" in refused.reason


@pytest.mark.parametrize("text", ["王明天", "周一", "李晓明"])
def test_names_with_a_time_word_inside_are_still_names(text):
    assert parse_name(text) == Parsed(text)


def test_the_example_date_in_a_help_text_lies_ahead_of_today():
    december_20 = date(2026, 12, 20)
    assert "12月30日" in parse_when("随便", december_20).reason and "12月3日" not in parse_when("随便", december_20).reason
    assert "12月30日" in parse_date("随便", december_20).reason


@pytest.mark.parametrize("text", ["广东省深圳市南山区科技园路1号", "北京市朝阳区", "幸福小区3栋201室",
                                  "地址：杭州市西湖区文三路１２号", "某某县某某镇某某村五组"])
def test_addresses_with_a_place_word_are_accepted(text):
    assert parse_address(text).ok


def test_an_address_comes_back_without_the_label_and_in_half_width():
    assert parse_address("地址：杭州市西湖区文三路１２号").value == "杭州市西湖区文三路12号"


@pytest.mark.parametrize("text", ["南山", "我家附近", "就在那边那个地方吧", ""])
def test_an_address_too_short_or_without_a_place_word_is_refused(text):
    assert "地址" in assert_refused(parse_address(text))


@pytest.mark.parametrize("text, expected", [
    ("深圳市腾讯计算机系统有限公司", "深圳市腾讯计算机系统有限公司"), ("某某农民专业合作社", "某某农民专业合作社"),
    ("张三便利店", "张三便利店"), ("某某律师事务所", "某某律师事务所"), ("名称：某某(深圳)贸易有限公司", "某某（深圳）贸易有限公司"),
    ("李四设计工作室", "李四设计工作室"),
])
def test_company_names_are_accepted_with_brackets_as_on_the_licence(text, expected):
    assert parse_company_name(text) == Parsed(expected)


@pytest.mark.parametrize("text", ["腾讯", "公司", "我不知道呀", "12345678", ""])
def test_what_is_not_a_company_name_is_refused(text):
    assert "名称" in assert_refused(parse_company_name(text))
