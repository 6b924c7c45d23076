"""The hand-kept word lists: the bundled ones load, and every broken line is named by file, line and entry.

Bad lexicons are copies of the bundled folder with one line added, so these tests keep working while the word
lists are being edited.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from knowledge.lexicon import BUNDLED_DIR, FIELDS, load_lexicon
from knowledge.problems import DataError


@pytest.fixture
def lexicon_dir(tmp_path) -> Path:
    directory = tmp_path / "lexicon"
    shutil.copytree(BUNDLED_DIR, directory)
    return directory


def append(path: Path, *lines: str) -> list[int]:
    """Add lines at the end of a word list; returns their line numbers."""
    text = path.read_text(encoding="utf-8-sig")
    if text and not text.endswith("\n"):
        text += "\n"
    first = len(text.splitlines()) + 1
    path.write_text(text + "".join(line + "\n" for line in lines), encoding="utf-8")
    return list(range(first, first + len(lines)))


def problems_loading(directory: Path) -> list:
    with pytest.raises(DataError) as raised:
        load_lexicon(directory)
    return raised.value.problems


def only(problems):
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


# --- the bundled lexicon --------------------------------------------------------------------------------------------

def test_the_bundled_lexicon_loads_with_every_list_filled():
    lexicon = load_lexicon()
    assert lexicon.aliases["驾照"] == "机动车驾驶证"
    assert lexicon.aliases["身份证"] == "居民身份证"
    assert lexicon.actions["丢了"] == "补领" and lexicon.actions["补领"] == "补领"
    assert lexicon.fields["要带什么"] == "materials" and lexicon.fields["多久"] == "time"
    assert "请问" in lexicon.filler and "天河" in lexicon.regions
    assert lexicon.english["passport"] == "护照"
    assert "香港" in lexicon.expansions["港澳"]
    assert set(lexicon.fields.values()) <= set(FIELDS)


def test_no_bundled_alias_points_at_another_alias():
    lexicon = load_lexicon()
    assert not [a for a, target in lexicon.aliases.items() if target in lexicon.aliases]


def test_the_tokenizer_words_include_aliases_targets_actions_and_fields():
    lexicon = load_lexicon()
    words = lexicon.words()
    assert {"驾照", "机动车驾驶证", "丢了", "补领", "要带什么", "请问", "天河"} <= words


def test_a_copy_of_the_bundled_folder_loads_the_same(lexicon_dir):
    assert load_lexicon(lexicon_dir) == load_lexicon()


def test_comments_blank_lines_and_full_width_forms_are_accepted(lexicon_dir):
    append(lexicon_dir / "aliases.txt", "", "# 测试用 => 这一行是注释", "测试甲 ｜ 测试乙 ＝＞ 测试目标  # 全角符号")
    lexicon = load_lexicon(lexicon_dir)
    assert lexicon.aliases["测试甲"] == lexicon.aliases["测试乙"] == "测试目标"
    assert "测试用" not in lexicon.aliases


def test_english_words_are_matched_without_regard_to_case(lexicon_dir):
    append(lexicon_dir / "english.txt", "Birth Certificate => 出生医学证明")
    assert load_lexicon(lexicon_dir).english["birth certificate"] == "出生医学证明"


# --- bad lines ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("line, entry, says", [
    pytest.param("测试甲 测试目标", None, "'=>'", id="no arrow"),
    pytest.param("测试甲 => 测试目标 => 测试别的", None, "'=>'", id="two arrows"),
    pytest.param("测试甲 =>", "=> right side", "empty", id="empty right side"),
    pytest.param(" => 测试目标", "left side", "empty", id="empty left side"),
    pytest.param("测试甲 | | 测试乙 => 测试目标", "left side", "empty", id="empty entry between bars"),
    pytest.param("测试目标 | 测试甲 => 测试目标", "测试目标", "same as", id="alias equal to its target"),
])
def test_a_bad_alias_line_names_file_line_and_entry(lexicon_dir, line, entry, says):
    [number] = append(lexicon_dir / "aliases.txt", line)
    problem = only(problems_loading(lexicon_dir))
    assert (problem.path, problem.line, problem.field) == (str(lexicon_dir / "aliases.txt"), number, entry)
    assert says in problem.message


def test_an_alias_mapped_twice_to_different_targets_names_both_lines(lexicon_dir):
    first, second = append(lexicon_dir / "aliases.txt", "测试甲 => 测试目标一", "测试乙 | 测试甲 => 测试目标二")
    problem = only(problems_loading(lexicon_dir))
    assert (problem.line, problem.field) == (second, "测试甲")
    assert "测试目标一" in problem.message and f"line {first}" in problem.message


def test_an_alias_repeated_with_the_same_target_is_harmless(lexicon_dir):
    append(lexicon_dir / "aliases.txt", "测试甲 => 测试目标", "测试甲 | 测试乙 => 测试目标")
    assert load_lexicon(lexicon_dir).aliases["测试甲"] == "测试目标"


def test_a_chained_alias_names_file_and_entry(lexicon_dir):
    append(lexicon_dir / "aliases.txt", "测试甲 => 测试乙", "测试乙 => 测试丙")
    problem = only(problems_loading(lexicon_dir))
    assert (problem.path, problem.field) == (str(lexicon_dir / "aliases.txt"), "测试甲")
    assert "测试乙" in problem.message and "itself rewritten" in problem.message


def test_a_chained_alias_names_the_line_to_fix(lexicon_dir):
    first, _ = append(lexicon_dir / "aliases.txt", "测试甲 => 测试乙", "测试乙 => 测试丙")
    assert only(problems_loading(lexicon_dir)).line == first


def test_a_phrase_the_aliases_rewrite_is_named_since_it_would_never_be_found(lexicon_dir):
    # 驾照 becomes 机动车驾驶证 before phrases are looked up, so a phrase written with 驾照 never matches
    [number] = append(lexicon_dir / "fields.txt", "materials: 驾照要带吗")
    problem = only(problems_loading(lexicon_dir))
    assert (problem.path, problem.line, problem.field) == (str(lexicon_dir / "fields.txt"), number, "驾照要带吗")
    assert "机动车驾驶证要带吗" in problem.message


def test_a_cue_word_only_has_to_survive_inside_its_rewriting(lexicon_dir):
    append(lexicon_dir / "field_cues.txt", "materials: 驾驶证")  # inside 机动车驾驶证: still found
    assert load_lexicon(lexicon_dir).field_cues["驾驶证"] == "materials"
    [number] = append(lexicon_dir / "field_hints.txt", "materials: 驾照")
    problem = only(problems_loading(lexicon_dir))
    assert (problem.path, problem.line, problem.field) == (str(lexicon_dir / "field_hints.txt"), number, "驾照")


def test_an_unknown_field_name_in_field_cues_txt_is_named_with_its_line(lexicon_dir):
    [number] = append(lexicon_dir / "field_cues.txt", "cost: 贵")
    problem = only(problems_loading(lexicon_dir))
    assert (problem.path, problem.line, problem.field) == (str(lexicon_dir / "field_cues.txt"), number, "cost")


def test_an_unknown_field_name_in_field_hints_txt_is_named_with_its_line(lexicon_dir):
    [number] = append(lexicon_dir / "field_hints.txt", "who: 闺女")
    problem = only(problems_loading(lexicon_dir))
    assert (problem.path, problem.line, problem.field) == (str(lexicon_dir / "field_hints.txt"), number, "who")


def test_an_unknown_field_name_in_fields_txt_is_named_with_the_allowed_ones(lexicon_dir):
    [number] = append(lexicon_dir / "fields.txt", "cost: 多少钱呀 贵不贵")
    problem = only(problems_loading(lexicon_dir))
    assert (problem.path, problem.line, problem.field) == (str(lexicon_dir / "fields.txt"), number, "cost")
    assert "fee" in problem.message and "materials" in problem.message


@pytest.mark.parametrize("line", ["fee 贵不贵", "fee:", ": 贵不贵"])
def test_a_fields_line_without_head_colon_or_phrases_is_named(lexicon_dir, line):
    [number] = append(lexicon_dir / "fields.txt", line)
    problem = only(problems_loading(lexicon_dir))
    assert (problem.path, problem.line) == (str(lexicon_dir / "fields.txt"), number)
    assert "规范词" in problem.message


def test_a_phrase_under_two_fields_is_named(lexicon_dir):
    [number] = append(lexicon_dir / "fields.txt", "time: 要带什么")
    problem = only(problems_loading(lexicon_dir))
    assert (problem.line, problem.field) == (number, "要带什么")
    assert "materials" in problem.message


def test_an_action_word_under_two_actions_is_named(lexicon_dir):
    [number] = append(lexicon_dir / "actions.txt", "补领: 换发")
    problem = only(problems_loading(lexicon_dir))
    assert (problem.path, problem.line, problem.field) == (str(lexicon_dir / "actions.txt"), number, "换发")
    assert "换领" in problem.message


@pytest.mark.parametrize("line", ["港澳 香港", "=> 香港", "测试甲 =>"])
def test_a_bad_expansion_line_is_named(lexicon_dir, line):
    [number] = append(lexicon_dir / "expansions.txt", line)
    problem = only(problems_loading(lexicon_dir))
    assert (problem.path, problem.line) == (str(lexicon_dir / "expansions.txt"), number)
    assert "=>" in problem.message


def test_an_expansion_listed_twice_is_named(lexicon_dir):
    _, second = append(lexicon_dir / "expansions.txt", "测试甲 => 甲一", "测试甲 => 甲二")
    problems = problems_loading(lexicon_dir)
    assert (second, "测试甲") in [(p.line, p.field) for p in problems]
    assert all(p.path == str(lexicon_dir / "expansions.txt") for p in problems)


def test_an_english_line_whose_left_side_is_not_english_is_named(lexicon_dir):
    append(lexicon_dir / "english.txt", "护照本 => 护照")
    problem = only(problems_loading(lexicon_dir))
    assert (problem.path, problem.field) == (str(lexicon_dir / "english.txt"), "护照本")
    assert "English" in problem.message


def test_problems_in_several_files_are_reported_at_once(lexicon_dir):
    [alias_line] = append(lexicon_dir / "aliases.txt", "测试甲 测试目标")
    [field_line] = append(lexicon_dir / "fields.txt", "cost: 贵不贵")
    [expansion_line] = append(lexicon_dir / "expansions.txt", "港澳")
    problems = problems_loading(lexicon_dir)
    assert sorted((Path(p.path).name, p.line) for p in problems) == sorted([
        ("aliases.txt", alias_line), ("fields.txt", field_line), ("expansions.txt", expansion_line)])
    message = str(DataError(problems))
    assert f"aliases.txt:{alias_line}" in message and f"fields.txt:{field_line}: cost" in message


def test_a_missing_word_list_is_named(lexicon_dir):
    (lexicon_dir / "regions.txt").unlink()
    problem = only(problems_loading(lexicon_dir))
    assert problem.path == str(lexicon_dir / "regions.txt") and "cannot read" in problem.message


def test_a_word_list_that_is_not_utf8_is_named(lexicon_dir):
    (lexicon_dir / "filler.txt").write_bytes("请问 麻烦 谢谢\n".encode("gb18030"))
    problem = only(problems_loading(lexicon_dir))
    assert problem.path == str(lexicon_dir / "filler.txt") and "UTF-8" in problem.message
