"""The matcher on a small catalogue of real-looking items, with the bundled lexicon and decision thresholds:
what a citizen asks, in the ways citizens ask it, finds the right item first; chit-chat finds nothing.

Scores are not pinned; only orderings and decisions are.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.catalogue import load_catalogue
from knowledge.decide import ANSWER, DECLINE, decide, load_thresholds
from knowledge.lexicon import load_lexicon
from knowledge.matcher import Matcher
from knowledge.service import Knowledge

FIXTURES = Path(__file__).parent / "fixtures" / "knowledge"

# ids in tests/fixtures/knowledge/*.jsonl
MARRIAGE, MARRIAGE_BOOKING, MARRIAGE_CERT_REISSUE = "G-201", "K-101", "G-202"
ID_CARD_APPLY, ID_CARD_REISSUE = "K-102", "K-103"
LICENCE_CAR, LICENCE_MOTORBIKE, LICENCE_RENEW, LICENCE_REISSUE = "K-104", "K-105", "K-106", "K-107"
HK_MACAO_PASS, HK_MACAO_FAMILY_VISIT = "K-108", "K-109"
POWER_REMOVAL, POWER_RESTORE = "K-110", "G-204"
DISABILITY_CARD_REISSUE, DISABILITY_CARD_NEW = "K-111", "K-112"
SUBSISTENCE, SUBSISTENCE_BOOKING = "G-203", "K-113"
COMPANY = "K-114"


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue([FIXTURES / "export.jsonl", FIXTURES / "guides.jsonl"])


@pytest.fixture(scope="module")
def matcher(catalogue) -> Matcher:
    return Matcher(catalogue, load_lexicon())


@pytest.fixture(scope="module")
def thresholds():
    return load_thresholds()


def first(matcher, question: str) -> str:
    hits = matcher.search(question, top=5)
    assert hits, f"nothing found for {question!r}"
    return hits[0].id


def ranked(matcher, question: str) -> list[str]:
    return [hit.id for hit in matcher.search(question, top=50)]


def test_every_formal_name_finds_its_own_item_first(catalogue, matcher):
    wrong = {item.title: first(matcher, item.title) for item in catalogue.items if first(matcher, item.title) != item.id}
    assert wrong == {}


def test_a_formal_name_is_answered_directly(matcher, thresholds):
    for question, expected in [("结婚登记", MARRIAGE), ("内资有限责任公司设立登记", COMPANY),
                               ("《中华人民共和国残疾人证》挂失补办", DISABILITY_CARD_REISSUE)]:
        decision = decide(matcher.search(question), thresholds)
        assert (decision.kind, decision.choices[0].id) == (ANSWER, expected), question


@pytest.mark.parametrize("question, expected", [
    ("驾照丢了怎么补", LICENCE_REISSUE),
    ("驾驶证丢了", LICENCE_REISSUE),
    ("驾照过期了怎么换", LICENCE_RENEW),
    ("身份证丢了怎么办", ID_CARD_REISSUE),
    ("补办结婚证", MARRIAGE_CERT_REISSUE),
    ("残疾证丢了要补办", DISABILITY_CARD_REISSUE),
    ("我想考C1驾照", LICENCE_CAR),
    ("低保", SUBSISTENCE),
    ("去香港探亲", HK_MACAO_FAMILY_VISIT),
    ("港澳通行证探亲签注", HK_MACAO_FAMILY_VISIT),
    ("开公司", COMPANY),
    ("用电暂拆", POWER_REMOVAL),
])
def test_a_colloquial_question_finds_the_catalogue_item(matcher, question, expected):
    assert first(matcher, question) == expected


def test_a_lost_licence_is_answered_with_the_replacement_not_a_first_licence(matcher, thresholds):
    hits = matcher.search("驾照丢了怎么补")
    order = [hit.id for hit in hits]
    assert order[0] == LICENCE_REISSUE
    assert order.index(LICENCE_REISSUE) < order.index(LICENCE_CAR)
    assert decide(hits, thresholds).kind == ANSWER


def test_a_homophone_from_speech_input_finds_the_item(matcher, thresholds):
    hits = matcher.search("残疾人正挂失补办")  # 正 for 证, as a voice keyboard writes it
    assert hits[0].id == DISABILITY_CARD_REISSUE
    assert decide(hits, thresholds).kind == ANSWER


@pytest.mark.parametrize("question, expected", [
    ("结昏登记", MARRIAGE),  # 昏 for 婚
    ("驾使证补领", LICENCE_REISSUE),  # 使 for 驶
    ("残及人证挂失补办", DISABILITY_CARD_REISSUE),  # 及 for 疾
])
def test_a_mistyped_sound_alike_character_is_still_answered(matcher, thresholds, question, expected):
    decision = decide(matcher.search(question), thresholds)
    assert (decision.kind, decision.choices[0].id) == (ANSWER, expected)


def test_a_homophone_still_prefers_the_right_action(matcher):
    order = ranked(matcher, "残疾人正挂失补办")
    assert order.index(DISABILITY_CARD_REISSUE) < order.index(DISABILITY_CARD_NEW)


@pytest.mark.parametrize("traditional, simplified", [
    ("駕駛證補領", "驾驶证补领"),
    ("結婚登記", "结婚登记"),
    ("辦理往來港澳通行證", "办理往来港澳通行证"),
    ("殘疾人證掛失補辦", "残疾人证挂失补办"),
])
def test_traditional_characters_find_the_same_items_as_simplified(matcher, traditional, simplified):
    assert ranked(matcher, traditional) == ranked(matcher, simplified)
    assert ranked(matcher, traditional)


def test_traditional_characters_find_the_licence_replacement(matcher):
    assert first(matcher, "駕駛證補領") == LICENCE_REISSUE


@pytest.mark.parametrize("question", [
    "嗯就是想问一下那个结婚登记要带什么",
    "你好，请问我在天河区想办结婚登记，麻烦问下要带啥？谢谢",
    "2023年结婚登记",
])
def test_chatter_around_the_question_does_not_change_the_answer(matcher, thresholds, question):
    assert first(matcher, question) == MARRIAGE
    assert decide(matcher.search(question), thresholds).kind == ANSWER


def test_full_width_digits_and_letters_match_like_half_width(matcher):
    assert ranked(matcher, "我想考Ｃ１驾照") == ranked(matcher, "我想考c1驾照")
    assert ranked(matcher, "２０２３年办理往来港澳通行证") == ranked(matcher, "办理往来港澳通行证")
    assert first(matcher, "我想考Ｃ１驾照") == LICENCE_CAR


def test_a_motorbike_question_prefers_the_motorbike_licence(matcher):
    order = ranked(matcher, "摩托车驾照初次申领")
    assert order[0] == LICENCE_MOTORBIKE and order.index(LICENCE_MOTORBIKE) < order.index(LICENCE_CAR)


@pytest.mark.parametrize("question", ["你会唱歌吗", "哦", "？？？", "今天天气怎么样", "谢谢", "好的", ""])
def test_chit_chat_finds_nothing_above_the_decline_threshold(matcher, thresholds, question):
    hits = matcher.search(question)
    assert all(hit.score < thresholds.decline_below for hit in hits), [(h.name, h.score) for h in hits]
    assert decide(hits, thresholds).kind == DECLINE


@pytest.mark.parametrize("question, plain, variant", [
    ("结婚登记", MARRIAGE, MARRIAGE_BOOKING),
    ("我要办结婚登记", MARRIAGE, MARRIAGE_BOOKING),
    ("最低生活保障", SUBSISTENCE, SUBSISTENCE_BOOKING),
    ("用电服务暂拆", POWER_REMOVAL, POWER_RESTORE),
    ("办理往来港澳通行证", HK_MACAO_PASS, HK_MACAO_FAMILY_VISIT),
])
def test_a_plain_question_prefers_the_plain_item_over_its_variant(matcher, question, plain, variant):
    order = ranked(matcher, question)
    assert order[0] == plain and order.index(plain) < order.index(variant)


def test_asking_for_the_booking_finds_the_booking_item(matcher):
    order = ranked(matcher, "结婚登记预约")
    assert order[0] == MARRIAGE_BOOKING and order.index(MARRIAGE_BOOKING) < order.index(MARRIAGE)


def test_asking_for_the_restoration_finds_the_restoration(matcher):
    order = ranked(matcher, "暂拆以后恢复用电")
    assert order[0] == POWER_RESTORE and order.index(POWER_RESTORE) < order.index(POWER_REMOVAL)


@pytest.mark.parametrize("k", [1, 3, 5])
def test_search_returns_the_best_k_hits_sorted_best_first(matcher, k):
    question = "居民身份证补领"
    everything = matcher.search(question, top=50)
    assert len(everything) > k  # enough items score above zero
    hits = matcher.search(question, top=k)
    assert len(hits) == k
    assert [h.id for h in hits] == [h.id for h in everything[:k]]
    assert all(a.score >= b.score for a, b in zip(everything, everything[1:]))
    assert all(0 < hit.score <= 1 for hit in everything)


def test_a_hit_says_which_part_of_the_question_it_explains(matcher):
    hit = matcher.search("请问结婚登记")[0]
    assert hit.id == MARRIAGE and hit.name == "结婚登记"
    assert "结婚登记" in hit.matched


def test_a_hit_carries_the_title_with_the_sub_item(matcher):
    assert matcher.search("最低生活保障审核确认")[0].name == "最低生活保障（审核确认）"


def test_search_accepts_an_analysed_query(matcher):
    query = matcher.analyse("驾照丢了怎么补")
    assert matcher.search(query) == matcher.search("驾照丢了怎么补")


def test_the_assistant_answers_the_item_and_the_field_asked_about(catalogue, matcher, thresholds):
    knowledge = Knowledge(catalogue, matcher.lexicon, matcher, thresholds)
    result = knowledge.consult("驾照丢了在哪办")
    assert result.decision.kind == ANSWER and result.decision.choices[0].id == LICENCE_REISSUE
    assert result.query.fields == ("place",)
    assert knowledge.consult("你会唱歌吗").decision.kind == DECLINE


def test_a_word_typed_with_one_wrong_character_inside_it_is_still_understood(matcher, thresholds, monkeypatch):
    # 最低生后保障: 后 (hou) for 活 (huo) is neither the same character nor the same sound
    typo = matcher.search("最低生后保障", top=3)
    assert typo[0].id == SUBSISTENCE and decide(typo, thresholds).kind != DECLINE
    import knowledge.matcher

    monkeypatch.setattr(knowledge.matcher, "TYPO_CREDIT", 0.0)
    assert typo[0].score > matcher.search("最低生后保障", top=3)[0].score  # the wrong character is forgiven


# --- facts for the decision step: how much of the item the question names; another sub-case ----------------------

def _guide(id_, name, sub_item=None, materials=(), unit="甲市服务中心"):
    return {"id": id_, "name": name, "sub_item": sub_item, "unit": unit, "level": "市", "item_type": None,
            "categories": [], "promised_limit": None, "legal_limit": None, "service_form": None,
            "conditions": None, "materials": list(materials), "fee": None, "location": None, "phone": None,
            "faq": None}


@pytest.fixture(scope="module")
def sub_case_matcher(tmp_path_factory):
    """A catalogue that has only one sub-case of 住房公积金提取; other items' guides mention 网上 (procedure)."""
    import json
    rows = [
        _guide("F-1", "住房公积金提取", "离休、退休提取", ["提取申请表", "退休证原件"]),
        _guide("F-2", "用电服务暂拆", None, ["用电户身份证明", "网上申请截图"]),
        _guide("F-3", "结婚登记", None, ["居民身份证、户口簿", "网上预约记录"], unit="甲市民政局婚姻登记处"),
        _guide("F-4", "经济开发区查询"),
        _guide("F-5", "药品零售许可", "连锁门店", unit="甲市市场监督管理局"),
    ]
    path = tmp_path_factory.mktemp("sub_case") / "guides.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return Matcher(load_catalogue([path]), load_lexicon())


def test_a_question_naming_a_sub_case_the_item_is_not_is_declined(sub_case_matcher, thresholds):
    hit = sub_case_matcher.search("买房提取住房公积金")[0]
    assert hit.id == "F-1" and hit.other_case
    assert decide(sub_case_matcher.search("买房提取住房公积金"), thresholds).kind == DECLINE


@pytest.mark.parametrize("question", [
    "住房公积金提取多久到账",  # names no sub-case: the one the catalogue has is the answer
    "退休了提取住房公积金",  # names the item's own sub-case
    "网上提取住房公积金",  # 网上 is in other items' guides: how it is done, not which case
    # channels (lexicon channels.txt): where or on what it is done, not which case; no guide here says them
    "支付宝提取住房公积金", "用手机提取住房公积金", "打印住房公积金提取表格",
    "跑着去提取住房公积金", "快提取住房公积金",  # a one-character verb names no case
    "提取住房公积金要带什么卡",  # a one-character noun after the item's words is what is asked about it
])
def test_a_question_naming_no_other_sub_case_is_answered(sub_case_matcher, thresholds, question):
    hits = sub_case_matcher.search(question)
    assert hits[0].id == "F-1" and not hits[0].other_case
    assert decide(hits, thresholds).kind == ANSWER


def test_a_one_character_noun_names_another_sub_case(sub_case_matcher, thresholds):
    # 房 is in the item's name only inside 住房公积金, which the question names itself.
    hits = sub_case_matcher.search("买了房怎么提取住房公积金")
    assert hits[0].id == "F-1" and hits[0].other_case
    assert decide(hits, thresholds).kind == DECLINE


def test_a_one_character_noun_the_name_has_elsewhere_is_explained(sub_case_matcher, thresholds):
    # 药 is the 药 of 药品零售许可, which the rest of the question (零售许可) does not name.
    hits = sub_case_matcher.search("卖药的零售许可")
    assert hits[0].id == "F-5" and not hits[0].other_case
    assert decide(hits, thresholds).kind == ANSWER


def test_an_item_without_a_qualifier_has_no_other_sub_case(sub_case_matcher):
    assert not sub_case_matcher.search("装修用电暂拆")[0].other_case


def test_name_coverage_grows_with_how_much_of_the_name_is_named(sub_case_matcher):
    def coverage(question):
        return next(h.coverage for h in sub_case_matcher.search(question) if h.id == "F-2")
    assert coverage("用电服务暂拆") == 1.0
    assert coverage("用电服务暂拆") > coverage("电表暂拆") > coverage("暂拆") > 0


def test_a_chatty_question_that_names_the_item_is_answered_tentatively(sub_case_matcher, thresholds):
    question = "我家装修房子电表要暂拆"
    hits = sub_case_matcher.search(question)
    assert hits[0].id == "F-2" and hits[0].score < thresholds.decline_below
    decision = decide(hits, thresholds)
    assert decision.kind == ANSWER and decision.tentative


def test_an_unknown_district_is_a_place_not_what_is_asked(sub_case_matcher, thresholds):
    tokens = {t.text: t for run in sub_case_matcher.analyse("郑州民政局离婚办理时间二七区").runs for t in run}
    assert tokens["二七区"].region
    # a word ending like a district that an item name uses is still what is asked
    assert not next(t for run in sub_case_matcher.analyse("开发区").runs for t in run).region


def test_naming_the_office_around_the_question_does_not_lower_the_item(sub_case_matcher):
    def score(question):
        return next(h.score for h in sub_case_matcher.search(question) if h.id == "F-3")
    assert score("民政局结婚登记") >= score("结婚登记")
