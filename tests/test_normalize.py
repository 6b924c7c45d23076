"""What a citizen typed, made comparable: width, script, case, years, English, aliases; and the question analysis
that marks chatter, places and field phrases as soft and reports which part of a guide is asked about."""
from __future__ import annotations

import re

import pytest

from knowledge.lexicon import load_lexicon
from knowledge.normalize import (
    alias_pattern, apply_aliases, clean, drop_years, ending_not_as_question, pinyin_of, segments, translate_english,
)
from knowledge.query import CORE, SOFT, QueryAnalyser


@pytest.fixture(scope="module")
def analyser() -> QueryAnalyser:
    return QueryAnalyser(load_lexicon())


def tokens(query) -> list:
    return [token for run in query.runs for token in run]


def kind_of(query, text: str) -> str:
    matching = [t.kind for t in tokens(query) if t.text == text]
    assert matching, (text, [t.text for t in tokens(query)])
    return matching[0]


# --- clean, years, segments -----------------------------------------------------------------------------------------

def test_full_width_digits_and_letters_become_half_width_and_lower_case():
    assert clean("ＡＢＣ１２３") == "abc123"
    assert clean("Ｃ１驾照") == "c1驾照"
    assert clean("ＩＤ　Ｃａｒｄ") == "id card"


def test_traditional_characters_become_simplified():
    assert clean("駕駛證") == "驾驶证"
    assert clean("結婚證補辦") == "结婚证补办"
    assert clean("辦理往來港澳通行證") == "办理往来港澳通行证"


def test_book_title_marks_and_quotes_are_dropped():
    assert clean("《中华人民共和国残疾人证》挂失补办") == "中华人民共和国残疾人证挂失补办"
    assert clean("“低保”") == "低保"


def test_clean_accepts_nothing():
    assert clean("") == "" and clean(None) == ""


@pytest.mark.parametrize("text", ["2023年在深圳生的", "2023年度在深圳生的", "23年在深圳生的", "2023在深圳生的"])
def test_years_are_dropped(text):
    assert drop_years(text).strip() == "在深圳生的"


@pytest.mark.parametrize("text, asked", [("能办不", "能办吗"), ("要带不啦？", "要带吗啦？"), ("开门不，12点去", "开门吗，12点去"),
                                         ("周六上班不 我腿脚不好", "周六上班吗 我腿脚不好")])
def test_a_question_ending_in_bu_asks_like_ma(text, asked):
    assert ending_not_as_question(text) == asked


@pytest.mark.parametrize("text", ["我就不", "要不要带", "好不好", "不", "不方便", "绝不"])
def test_a_bu_that_does_not_end_a_question_stays(text):
    assert ending_not_as_question(text) == text


@pytest.mark.parametrize("text", ["今年18岁", "拨打12345", "年龄60岁以上", "60年龄", "第20230号"])
def test_numbers_that_are_not_years_stay(text):
    assert re.findall(r"\d+", drop_years(text)) == re.findall(r"\d+", text)


def test_segments_split_on_punctuation_and_spaces():
    assert segments("驾照丢了，怎么补? 急!!") == ["驾照丢了", "怎么补", "急"]
    assert segments("???") == []


def test_homophones_share_their_pinyin():
    assert pinyin_of("证") == pinyin_of("正") == "zheng"
    assert pinyin_of("a") == "a" and pinyin_of("1") == "1"


# --- English and aliases on their own -------------------------------------------------------------------------------

def test_english_words_are_replaced_as_whole_words_longest_first():
    glossary = {"social security": "社会保险", "social security card": "社会保障卡", "id card": "居民身份证"}
    assert translate_english("lost my social security card", glossary).split() == ["lost", "my", "社会保障卡"]
    assert translate_english("valid card", glossary).split() == ["valid", "card"]  # not "id card" inside "valid"


def test_an_alias_is_not_applied_inside_its_own_catalogue_wording():
    aliases = {"身份证": "居民身份证"}
    pattern = alias_pattern(aliases)
    assert apply_aliases("身份证丢了", aliases, pattern) == "居民身份证丢了"
    assert apply_aliases("居民身份证丢了", aliases, pattern) == "居民身份证丢了"


def test_the_longest_colloquial_form_wins():
    aliases = {"驾照": "机动车驾驶证", "考驾照": "驾驶人考试"}
    assert apply_aliases("我想考驾照", aliases, alias_pattern(aliases)) == "我想驾驶人考试"


def test_no_aliases_change_nothing():
    assert apply_aliases("结婚登记", {}, alias_pattern({})) == "结婚登记"


def test_a_letter_digit_alias_does_not_match_inside_a_plate_number():
    aliases = {"a1": "大型汽车"}
    assert apply_aliases("粤a12345违章", aliases, alias_pattern(aliases)) == "粤a12345违章"


# --- the whole rewrite with the bundled lexicon ---------------------------------------------------------------------

def test_a_colloquial_name_is_rewritten_to_catalogue_wording(analyser):
    assert analyser.rewrite("驾照丢了怎么补") == "机动车驾驶证丢了怎么补"
    assert analyser.rewrite("结婚证补办") == "婚姻登记证补办"


def test_a_formal_name_is_not_doubled(analyser):
    assert analyser.rewrite("居民身份证丢了") == "居民身份证丢了"
    assert analyser.rewrite("身份证丢了") == "居民身份证丢了"
    assert analyser.rewrite("机动车驾驶证") == "机动车驾驶证"


def test_full_width_traditional_and_year_are_all_undone_before_matching(analyser):
    assert analyser.rewrite("２０２３年駕照丟了").strip() == "机动车驾驶证丢了"


def test_english_words_become_catalogue_wording(analyser):
    assert analyser.rewrite("passport").strip() == "护照"
    assert analyser.rewrite("Lost my PASSPORT").split() == ["补领", "my", "护照"]
    assert analyser.rewrite("ID card").strip() == "居民身份证"


@pytest.mark.parametrize("question", ["driver's license", "Driver's License", "driver’s license", "driver license"])
def test_an_english_phrase_with_an_apostrophe_is_understood(analyser, question):
    assert analyser.rewrite(question).strip() == "机动车驾驶证"


@pytest.mark.parametrize("question, field", [
    ("结婚登记要带什么", "materials"),
    ("结婚登记要什么材料", "materials"),
    ("结婚登记多久", "time"),
    ("结婚登记电话", "phone"),
    ("结婚登记收费吗", "fee"),
    ("结婚登记多少钱", "fee"),
    ("结婚登记在哪办", "place"),
    ("结婚登记要预约吗", "booking"),
    ("结婚登记要什么", "materials"),
    ("结婚登记要什么条件", "condition"),  # "what is needed" followed by what: that one
    ("结婚登记要啥条件", "condition"),
    ("结婚登记几点上班", "hours"),
    ("结婚登记周六上班吗", "hours"),
    ("结婚登记能代办吗", "service"),
    ("结婚登记能上门吗", "service"),
    ("结婚登记要本人去吗", "in_person"),
    ("结婚登记能网上办吗", "online"),
    ("结婚登记要跑几次", "online"),
])
def test_the_part_of_the_guide_asked_about_is_reported(analyser, question, field):
    query = analyser.analyse(question)
    assert query.fields == (field,)
    assert query.core_text == "结婚登记"  # the field phrase does not count as what is asked for


def test_several_fields_are_reported_in_the_order_asked(analyser):
    assert analyser.analyse("结婚登记多少钱，在哪办，要带什么").fields == ("fee", "place", "materials")


def test_a_plain_question_asks_no_field(analyser):
    assert analyser.analyse("结婚登记").fields == ()


def test_chatter_places_and_field_phrases_are_soft(analyser):
    query = analyser.analyse("请问我在天河区想办结婚登记要带什么")
    assert kind_of(query, "请问") == SOFT
    assert kind_of(query, "天河区") == SOFT and [t.region for t in tokens(query) if t.text == "天河区"] == [True]
    assert kind_of(query, "要带什么") == SOFT
    assert kind_of(query, "结婚登记") == CORE
    assert query.core_text == "结婚登记"


def test_an_office_named_around_the_question_is_soft(analyser):
    assert analyser.analyse("民政局结婚登记").core_text == "结婚登记"


def test_a_lost_document_is_read_as_a_replacement(analyser):
    query = analyser.analyse("驾照丢了")
    assert query.actions == frozenset({"补领"})
    assert query.core_text == "机动车驾驶证补领"


def test_chit_chat_and_punctuation_leave_nothing_to_look_up(analyser):
    for question in ["哦", "？？？", "你好", "谢谢", ""]:
        assert analyser.analyse(question).empty, question
    assert not analyser.analyse("你会唱歌吗").empty  # 唱歌 is a real word: the matcher, not the analyser, declines


def test_an_alias_written_in_capitals_matches_what_citizens_type(tmp_path):
    import shutil

    from knowledge.lexicon import BUNDLED_DIR

    shutil.copytree(BUNDLED_DIR, tmp_path / "lexicon")
    with (tmp_path / "lexicon" / "aliases.txt").open("a", encoding="utf-8") as f:
        f.write("E照 => 测试目标证\n")
    lexicon = load_lexicon(tmp_path / "lexicon")
    assert apply_aliases(clean("E照丢了"), lexicon.aliases, alias_pattern(lexicon.aliases)) == "测试目标证丢了"


def test_an_item_name_typed_in_full_still_names_its_action(analyser):
    assert "补领" in analyser.analyse("社会保障卡补领、换领").actions


@pytest.mark.parametrize("text, kept", [("罚款2000元", "2000元"), ("缴满15年", "15年"), ("建校120年", "120年")])
def test_numbers_that_are_not_years_are_kept(text, kept):
    assert kept in drop_years(text)


def test_the_words_an_item_name_uses_are_told_from_a_citizens_circumstances():
    names = QueryAnalyser(load_lexicon(), extra_words=("住房公积金提取", "机动车驾驶证换证", "居住证申领"))
    assert names.analyse("另外问下公积金贷款在哪办").catalogue_words == ("住房公积金",)  # via the alias 公积金
    assert names.analyse("营业执照在哪儿办").catalogue_words == ("营业执照",)  # expansions.txt finds items by it
    assert names.analyse("我明天上午跟老伴去").catalogue_words == ()
    assert names.analyse("12点过去行吗").catalogue_words == ()
