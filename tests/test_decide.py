"""The decision step on plain hit lists: answer one item, offer numbered choices, or decline; and the thresholds
file an operator tunes (knowledge/data/decision.toml)."""
from __future__ import annotations

import pytest

from knowledge.decide import ANSWER, CLARIFY, DECLINE, Thresholds, decide, load_thresholds
from knowledge.matcher import Hit
from knowledge.problems import DataError

# Binary fractions, so that "exactly at the threshold" is exact.
T = Thresholds(decline_below=0.5, answer_at=0.75, answer_margin=0.125, clarify_window=0.25, max_choices=5)


def hits(*scored: tuple[str, float]) -> list[Hit]:
    """Hits from (name, score) pairs, best first; ids are H-1, H-2 ... in the order given."""
    return [Hit(f"H-{n}", name, score) for n, (name, score) in enumerate(scored, start=1)]


def ids(decision) -> list[str]:
    return [hit.id for hit in decision.choices]


# --- decline ----------------------------------------------------------------------------------------------------------

def test_nothing_found_is_declined_with_no_choices():
    decision = decide([], T)
    assert decision.kind == DECLINE and decision.choices == ()


def test_a_best_hit_below_decline_below_is_declined():
    decision = decide(hits(("结婚登记", 0.46875), ("结婚登记预约", 0.25)), T)
    assert decision.kind == DECLINE


def test_a_decline_keeps_at_most_three_nearest_items_for_the_log():
    decision = decide(hits(*[(f"事项{n}", 0.25) for n in range(6)]), T)
    assert decision.kind == DECLINE and ids(decision) == ["H-1", "H-2", "H-3"]


def test_a_best_hit_exactly_at_decline_below_is_not_declined():
    assert decide(hits(("结婚登记", 0.5)), T).kind != DECLINE


# --- answer -----------------------------------------------------------------------------------------------------------

def test_a_confident_hit_clearly_ahead_is_answered():
    decision = decide(hits(("机动车驾驶证补领", 0.9375), ("机动车驾驶证换领", 0.5)), T)
    assert decision.kind == ANSWER and ids(decision) == ["H-1"]


def test_a_confident_hit_with_nothing_else_is_answered():
    decision = decide(hits(("内资有限责任公司设立登记", 1.0)), T)
    assert decision.kind == ANSWER and not decision.tentative


def test_a_lone_plausible_hit_below_answer_at_is_answered_as_tentative():
    decision = decide(hits(("内资有限责任公司设立登记", 0.625), ("基金会设立登记", 0.25)), T)
    assert decision.kind == ANSWER and decision.tentative and ids(decision) == ["H-1"]


def test_exactly_at_answer_at_and_exactly_the_margin_ahead_is_answered():
    decision = decide(hits(("结婚登记", 0.75), ("结婚登记预约", 0.625)), T)
    assert decision.kind == ANSWER and ids(decision) == ["H-1"]


def test_the_same_service_published_by_two_units_counts_once():
    # Two units publish 结婚登记; without counting them once, the tie would ask "which one?" of identical names.
    decision = decide(hits(("结婚登记", 0.9375), ("结婚登记", 0.9375), ("结婚登记预约", 0.5)), T)
    assert decision.kind == ANSWER and ids(decision) == ["H-1"]


# --- clarify ----------------------------------------------------------------------------------------------------------

def test_a_confident_hit_not_clearly_ahead_asks_which_one():
    decision = decide(hits(("办理往来港澳通行证", 0.9375), ("办理往来港澳通行证探亲签注", 0.875)), T)
    assert decision.kind == CLARIFY and ids(decision) == ["H-1", "H-2"]


def test_two_close_items_below_answer_at_are_both_offered():
    decision = decide(hits(("居民身份证申领", 0.6875), ("居民身份证补领", 0.625), ("机动车驾驶证补领", 0.25)), T)
    assert decision.kind == CLARIFY and ids(decision) == ["H-1", "H-2"]


def test_the_numbered_choices_follow_the_score_order():
    decision = decide(hits(("机动车驾驶证换领", 0.875), ("机动车驾驶证补领", 0.8125),
                           ("机动车驾驶证初次申领", 0.75), ("居民身份证补领", 0.6875)), T)
    assert decision.kind == CLARIFY
    assert ids(decision) == ["H-1", "H-2", "H-3", "H-4"]
    scores = [hit.score for hit in decision.choices]
    assert scores == sorted(scores, reverse=True)


def test_items_outside_the_clarify_window_are_not_offered():
    decision = decide(hits(("结婚登记", 0.875), ("结婚登记预约", 0.8125), ("补领婚姻登记证", 0.5625)), T)
    assert decision.kind == CLARIFY and ids(decision) == ["H-1", "H-2"]


def test_items_below_decline_below_are_never_offered():
    decision = decide(hits(("结婚登记", 0.625), ("结婚登记预约", 0.5625), ("补领婚姻登记证", 0.4375)), T)
    assert decision.kind == CLARIFY and ids(decision) == ["H-1", "H-2"]


def test_duplicate_names_are_offered_once():
    decision = decide(hits(("最低生活保障", 0.875), ("最低生活保障", 0.875), ("最低生活保障业务申请预约", 0.8125)), T)
    assert decision.kind == CLARIFY
    assert [hit.name for hit in decision.choices] == ["最低生活保障", "最低生活保障业务申请预约"]
    assert ids(decision) == ["H-1", "H-3"]


@pytest.mark.parametrize("max_choices", [2, 3, 5])
def test_no_more_than_max_choices_are_offered(max_choices):
    t = Thresholds(decline_below=0.5, answer_at=0.75, answer_margin=0.125, clarify_window=0.25,
                   max_choices=max_choices)
    decision = decide(hits(*[(f"事项{n}", 0.875 - n / 64) for n in range(8)]), t)
    assert decision.kind == CLARIFY
    assert ids(decision) == [f"H-{n}" for n in range(1, max_choices + 1)]


# --- the two facts besides the score: the item is named; the question names another sub-case --------------------------

N = Thresholds(decline_below=0.5, named_from=0.25, named_share=0.625, answer_at=0.75, answer_margin=0.125,
               clarify_window=0.25, max_choices=5)


def test_a_low_scoring_hit_whose_name_the_question_mostly_names_is_answered_tentatively():
    # "装修期间电表暂拆": the chatter lowers the score, but the question names the item.
    decision = decide([Hit("H-1", "用电服务暂拆", 0.375, coverage=0.75), Hit("H-2", "用电服务暂拆恢复", 0.25)], N)
    assert decision.kind == ANSWER and decision.tentative and ids(decision) == ["H-1"]


@pytest.mark.parametrize("score, coverage", [(0.1875, 1.0), (0.375, 0.5)])
def test_a_low_scoring_hit_is_declined_when_too_low_or_not_named_enough(score, coverage):
    assert decide([Hit("H-1", "更名过户", score, coverage=coverage)], N).kind == DECLINE


def test_a_named_item_is_declined_when_the_question_names_another_sub_case_of_it():
    hit = Hit("H-1", "住房公积金提取（离休、退休提取）", 0.375, coverage=0.75, other_case=True)
    assert decide([hit], N).kind == DECLINE


def test_a_lone_item_is_not_answered_when_the_question_names_another_sub_case():
    # "买房提取住房公积金" against the only item, 住房公积金提取（离休、退休提取）.
    hit = Hit("H-1", "住房公积金提取（离休、退休提取）", 0.625, coverage=0.75, other_case=True)
    decision = decide([hit, Hit("H-2", "基金会设立登记", 0.125)], N)
    assert decision.kind == DECLINE and ids(decision) == ["H-1", "H-2"]
    plain = Hit("H-1", "住房公积金提取（离休、退休提取）", 0.625, coverage=0.75)
    assert decide([plain], N).kind == ANSWER


def test_a_confident_hit_is_answered_even_when_a_sub_case_looks_different():
    hit = Hit("H-1", "住房公积金提取（离休、退休提取）", 0.8125, coverage=0.75, other_case=True)
    assert decide([hit], N).kind == ANSWER


def test_items_that_differ_by_sub_case_are_still_offered_as_choices():
    # "查下我名下有哪些涉税信息": which of the sub-cases is the citizen's is exactly what the choices ask.
    decision = decide([Hit("H-1", "纳税人涉税信息查询(（个人）)", 0.5625, other_case=True),
                       Hit("H-2", "纳税人涉税信息查询(（企业）)", 0.5625, other_case=True)], N)
    assert decision.kind == CLARIFY and ids(decision) == ["H-1", "H-2"]


# --- the thresholds file --------------------------------------------------------------------------------------------

def write(tmp_path, text: str):
    path = tmp_path / "decision.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_bundled_thresholds_load_and_make_sense():
    t = load_thresholds()
    assert 0 < t.named_from <= t.decline_below <= t.answer_at <= 1
    assert 0.5 <= t.named_share <= 1
    assert 0 < t.answer_margin < 1 and 0 < t.clarify_window < 1
    assert 2 <= t.max_choices <= 9


def test_settings_not_given_keep_their_defaults(tmp_path):
    t = load_thresholds(write(tmp_path, "answer_at = 0.8\nmax_choices = 3\n"))
    assert (t.answer_at, t.max_choices) == (0.8, 3)
    assert t.decline_below == Thresholds().decline_below


@pytest.mark.parametrize("line, key", [
    ("decline_below = -0.1", "decline_below"),
    ("answer_at = 1.5", "answer_at"),
    ("answer_at = 75", "answer_at"),
    ("answer_margin = \"0.06\"", "answer_margin"),
    ("clarify_window = true", "clarify_window"),
    ("max_choices = 1", "max_choices"),
    ("max_choices = 10", "max_choices"),
    ("max_choices = 3.5", "max_choices"),
])
def test_an_out_of_range_or_mistyped_setting_is_named(tmp_path, line, key):
    path = write(tmp_path, line + "\n")
    with pytest.raises(DataError) as raised:
        load_thresholds(path)
    [problem] = raised.value.problems
    assert (problem.path, problem.field) == (str(path), key)
    assert f"{path}: {key}: should be" in str(raised.value)


def test_an_unknown_setting_is_named(tmp_path):
    path = write(tmp_path, "answer_at = 0.8\nanswer_above = 0.8\n")
    with pytest.raises(DataError) as raised:
        load_thresholds(path)
    [problem] = raised.value.problems
    assert problem.field == "answer_above" and "unknown" in problem.message


def test_every_bad_setting_is_reported_at_once(tmp_path):
    with pytest.raises(DataError) as raised:
        load_thresholds(write(tmp_path, "answer_at = 2\nmax_choice = 3\nmax_choices = 0\n"))
    assert sorted(p.field for p in raised.value.problems) == ["answer_at", "max_choice", "max_choices"]


def test_decline_below_above_answer_at_is_rejected(tmp_path):
    with pytest.raises(DataError) as raised:
        load_thresholds(write(tmp_path, "decline_below = 0.8\nanswer_at = 0.7\n"))
    [problem] = raised.value.problems
    assert problem.field == "decline_below" and "answer_at" in problem.message


def test_named_from_above_decline_below_is_rejected(tmp_path):
    with pytest.raises(DataError) as raised:
        load_thresholds(write(tmp_path, "decline_below = 0.4\nnamed_from = 0.5\n"))
    [problem] = raised.value.problems
    assert problem.field == "named_from" and "decline_below" in problem.message


def test_decline_below_equal_to_answer_at_is_allowed(tmp_path):
    t = load_thresholds(write(tmp_path, "decline_below = 0.7\nanswer_at = 0.7\n"))
    assert t.decline_below == t.answer_at == 0.7


def test_a_file_that_is_not_toml_is_named(tmp_path):
    path = write(tmp_path, "answer_at: 0.8\n")
    with pytest.raises(DataError) as raised:
        load_thresholds(path)
    assert str(path) in str(raised.value) and "TOML" in str(raised.value)


def test_a_missing_thresholds_file_is_named(tmp_path):
    path = tmp_path / "nowhere.toml"
    with pytest.raises(DataError) as raised:
        load_thresholds(path)
    assert str(path) in str(raised.value)
