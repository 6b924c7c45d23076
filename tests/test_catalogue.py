"""Catalogue loader: office guides as JSON lines, in the two published layouts; every problem names file, line
and field, all problems are reported at once, and nothing half-valid is loaded."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from knowledge.catalogue import bundled_paths, check_files, load_catalogue, read_items
from knowledge.model import Item
from knowledge.problems import DataError

FIXTURES = Path(__file__).parent / "fixtures" / "knowledge"
EXPORT = FIXTURES / "export.jsonl"  # provincial catalogue export layout (consult_phone, url, online_booking ...)
GUIDES = FIXTURES / "guides.jsonl"  # office-guide layout (phone, fee, faq, source ...)

GOOD_ROW = {"id": "X-1", "name": "结婚登记", "unit": "甲市民政局"}


def write_rows(path: Path, *rows: object) -> Path:
    """Write one line per row: dicts and lists as JSON, strings as they are (for broken JSON)."""
    lines = [row if isinstance(row, str) else json.dumps(row, ensure_ascii=False) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def problems_of(path: Path) -> list:
    items, problems, _ = check_files([path])
    return problems


def only(problems):
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


# --- good files ---------------------------------------------------------------------------------------------------

def test_the_catalogue_export_layout_loads_with_its_own_field_names():
    catalogue = load_catalogue([EXPORT])
    assert len(catalogue) == 14
    item = catalogue.get("K-102")
    assert item.name == "居民身份证申领" and item.catalogue_name == "居民身份证核发"
    assert item.unit == "甲市公安局"
    assert item.phone == "020-10000102"  # consult_phone
    assert item.url == "https://example.gov.cn/item/K-102"
    assert item.materials == ("居民户口簿", "近期免冠相片")
    assert item.visits_required == 1 and item.online_booking is True and item.mail_delivery is True
    assert item.source_file == "export.jsonl"


def test_the_office_guide_layout_loads_with_phone_fee_faq_and_source():
    catalogue = load_catalogue([GUIDES])
    item = catalogue.get("G-201")
    assert item.name == "结婚登记" and item.unit == "甲市民政局婚姻登记处"
    assert item.phone == "020-10000201"
    assert item.fee == "不收费"
    assert item.url == "https://example.gov.cn/guide/G-201"  # source
    assert item.faq.startswith("问：")
    assert item.online_booking is None and item.visits_required is None  # not published in this layout
    assert catalogue.get("G-203").service_form == "代办"


def test_both_layouts_load_together_in_file_order():
    catalogue = load_catalogue([EXPORT, GUIDES])
    assert len(catalogue) == 18
    assert [item.id for item in catalogue.items][:2] == ["K-101", "K-102"]
    assert catalogue.items[-1].id == "G-204"
    assert catalogue.get("nope") is None


def test_text_is_trimmed_and_empty_text_counts_as_absent(tmp_path):
    path = write_rows(tmp_path / "a.jsonl", {**GOOD_ROW, "name": "  结婚登记 ", "fee": "  ", "materials": ["身份证", " "]})
    item = load_catalogue([path]).get("X-1")
    assert item.name == "结婚登记"
    assert item.fee is None
    assert item.materials == ("身份证",)


def test_a_file_saved_with_a_byte_order_mark_or_windows_line_ends_loads(tmp_path):
    text = json.dumps(GOOD_ROW, ensure_ascii=False) + "\r\n" + json.dumps({**GOOD_ROW, "id": "X-2"}, ensure_ascii=False)
    path = tmp_path / "notepad.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + (text + "\r\n").encode("utf-8"))
    assert [item.id for item in load_catalogue([path]).items] == ["X-1", "X-2"]


def test_a_line_separator_inside_a_text_does_not_split_the_row(tmp_path):
    # json.dumps(..., ensure_ascii=False) writes U+2028 unescaped; JSON lines are separated by "\n" only.
    path = write_rows(tmp_path / "a.jsonl", {**GOOD_ROW, "conditions": "第一段\u2028第二段"},
                      {"id": "X-2", "name": "结婚登记预约", "unit": "甲市民政局", "visits_required": -1})
    problem = only(problems_of(path))
    assert (problem.line, problem.field) == (2, "visits_required")


def test_blank_lines_are_skipped_but_line_numbers_still_count_them(tmp_path):
    path = write_rows(tmp_path / "a.jsonl", GOOD_ROW, "", "   ", {"id": "X-2", "unit": "甲市民政局"})
    problem = only(problems_of(path))
    assert (problem.line, problem.field) == (4, "name")


# --- Item.title ---------------------------------------------------------------------------------------------------

def test_the_title_adds_the_sub_item_when_the_name_does_not_say_it():
    assert Item(id="1", name="用水报装", unit="u", sub_item="个人用户").title == "用水报装（个人用户）"


def test_the_title_does_not_repeat_a_sub_item_already_in_the_name():
    item = Item(id="1", name="机动车驾驶证初次申领(大陆居民申领摩托车准驾车型)", unit="u", sub_item="大陆居民申领摩托车准驾车型")
    assert item.title == item.name
    assert Item(id="2", name="结婚登记", unit="u").title == "结婚登记"


def test_titles_of_loaded_items_combine_name_and_sub_item():
    catalogue = load_catalogue([EXPORT, GUIDES])
    assert catalogue.get("G-203").title == "最低生活保障（审核确认）"
    assert catalogue.get("K-104").title == "机动车驾驶证初次申领(大陆居民申领小型汽车准驾车型)"


# --- bad rows: each names file, line and field ----------------------------------------------------------------------

BAD_ROWS = [
    pytest.param('{"id": "X-2", "name": "结婚登记", ', None, "not valid JSON", id="invalid JSON"),
    pytest.param(["X-2", "结婚登记", "甲市民政局"], None, "JSON object", id="a list, not an object"),
    pytest.param({"id": "X-2", "name": "结婚登记", "unit": "u", "materails": ["身份证"]}, "materails", "unknown field",
                 id="misspelt field"),
    pytest.param({"id": "X-2", "name": "结婚登记", "unit": "u", "office": "民政局"}, "office", "unknown field",
                 id="unknown field"),
    pytest.param({"id": "X-2", "unit": "u"}, "name", "required", id="missing name"),
    pytest.param({"id": "X-2", "name": "  ", "unit": "u"}, "name", "required", id="blank name"),
    pytest.param({"name": "结婚登记", "unit": "u"}, "id", "required", id="missing id"),
    pytest.param({"id": "X-2", "name": "结婚登记"}, "unit", "required", id="missing unit"),
    pytest.param({"id": "X-2", "name": ["结婚登记"], "unit": "u"}, "name", "text", id="name not text"),
    pytest.param({**GOOD_ROW, "id": "X-2", "materials": "身份证、户口簿"}, "materials", "list", id="materials not a list"),
    pytest.param({**GOOD_ROW, "id": "X-2", "materials": ["身份证", 3]}, "materials", "list", id="materials with a number"),
    pytest.param({**GOOD_ROW, "id": "X-2", "online_booking": "是"}, "online_booking", "true/false",
                 id="online_booking not bool"),
    pytest.param({**GOOD_ROW, "id": "X-2", "mail_delivery": 1}, "mail_delivery", "true/false",
                 id="mail_delivery a number"),
    pytest.param({**GOOD_ROW, "id": "X-2", "visits_required": -1}, "visits_required", "0 or more",
                 id="visits_required negative"),
    pytest.param({**GOOD_ROW, "id": "X-2", "visits_required": "1"}, "visits_required", "whole number",
                 id="visits_required text"),
    pytest.param({**GOOD_ROW, "id": "X-2", "visits_required": 1.5}, "visits_required", "whole number",
                 id="visits_required fraction"),
    pytest.param({**GOOD_ROW, "id": "X-2", "visits_required": True}, "visits_required", "whole number",
                 id="visits_required bool"),
]


@pytest.mark.parametrize("row, field, says", BAD_ROWS)
def test_a_bad_row_names_file_line_and_field(tmp_path, row, field, says):
    path = write_rows(tmp_path / "guides.jsonl", GOOD_ROW, row, {**GOOD_ROW, "id": "X-3"})
    items, problems, _ = check_files([path])
    problem = only(problems)
    assert (problem.path, problem.line, problem.field) == (str(path), 2, field)
    assert says in problem.message
    assert [item.id for item in items] == ["X-1", "X-3"]  # the good rows around it are not affected
    with pytest.raises(DataError) as raised:
        load_catalogue([path])
    assert f"{path}:2" in str(raised.value)
    if field:
        assert f"{path}:2: {field}:" in str(raised.value)


def test_a_row_with_a_misspelt_field_names_file_line_and_field(tmp_path):
    path = write_rows(tmp_path / "guides.jsonl", GOOD_ROW, GOOD_ROW | {"id": "X-2", "phnoe": "020-1"})
    with pytest.raises(DataError) as raised:
        load_catalogue([path])
    assert str(raised.value).startswith(f"{path}:2: phnoe: unknown field")
    assert "phone" in str(raised.value)  # the known names are listed, so the right spelling is at hand


def test_nothing_half_valid_is_loaded(tmp_path):
    path = write_rows(tmp_path / "a.jsonl", GOOD_ROW, {**GOOD_ROW, "id": "X-2", "online_booking": "yes"})
    with pytest.raises(DataError) as raised:
        load_catalogue([path])
    assert len(raised.value.problems) == 1


def test_every_bad_line_is_reported_at_once(tmp_path):
    path = write_rows(tmp_path / "a.jsonl",
                      "{broken",
                      GOOD_ROW,
                      {"id": "X-2", "unit": "u"},
                      {**GOOD_ROW, "id": "X-3", "online_booking": "是"})
    with pytest.raises(DataError) as raised:
        load_catalogue([path])
    problems = raised.value.problems
    assert [(p.line, p.field) for p in problems] == [(1, None), (3, "name"), (4, "online_booking")]


def test_every_bad_field_of_one_row_is_reported(tmp_path):
    path = write_rows(tmp_path / "a.jsonl", {"id": "X-1", "materials": "身份证", "visits_required": -2, "fe": "0"})
    fields = sorted(p.field for p in problems_of(path))
    assert fields == ["fe", "materials", "name", "unit", "visits_required"]
    assert all(p.line == 1 for p in problems_of(path))


def test_problems_in_several_files_are_all_reported(tmp_path):
    first = write_rows(tmp_path / "a.jsonl", {"id": "X-1", "unit": "u"})
    second = write_rows(tmp_path / "b.jsonl", {**GOOD_ROW, "id": "X-2", "online_booking": 1})
    with pytest.raises(DataError) as raised:
        load_catalogue([first, second])
    assert [(p.path, p.field) for p in raised.value.problems] == [(str(first), "name"), (str(second), "online_booking")]


def test_more_than_twenty_problems_are_summarised_in_the_message(tmp_path):
    path = write_rows(tmp_path / "a.jsonl", *[{"id": f"X-{n}", "unit": "u"} for n in range(25)])
    with pytest.raises(DataError) as raised:
        load_catalogue([path])
    assert len(raised.value.problems) == 25
    assert str(raised.value).endswith("... and 5 more")


# --- duplicates, encodings, empty and missing files --------------------------------------------------------------

def test_a_duplicate_id_across_two_files_names_the_second_file_and_line_and_the_first(tmp_path):
    first = write_rows(tmp_path / "a.jsonl", {**GOOD_ROW, "id": "X-0"}, GOOD_ROW)
    second = write_rows(tmp_path / "b.jsonl", {**GOOD_ROW, "id": "X-5"}, {**GOOD_ROW, "id": "X-6"},
                        {**GOOD_ROW, "name": "结婚登记预约"})
    items, problems, _ = check_files([first, second])
    problem = only(problems)
    assert (problem.path, problem.line, problem.field) == (str(second), 3, "id")
    assert "'X-1'" in problem.message and "a.jsonl:2" in problem.message
    assert items[1].name == "结婚登记"  # the first one is kept
    with pytest.raises(DataError):
        load_catalogue([first, second])


def test_a_duplicate_id_within_one_file_is_reported(tmp_path):
    path = write_rows(tmp_path / "a.jsonl", GOOD_ROW, {**GOOD_ROW, "id": "X-2"}, GOOD_ROW)
    problem = only(problems_of(path))
    assert (problem.line, problem.field) == (3, "id")


def test_a_file_that_is_not_utf8_names_the_first_bad_line(tmp_path):
    path = tmp_path / "gbk.jsonl"
    first = json.dumps({"id": "X-1", "name": "marriage", "unit": "civil affairs"})
    second = json.dumps({**GOOD_ROW, "id": "X-2"}, ensure_ascii=False)
    path.write_bytes((first + "\n").encode("ascii") + (second + "\n").encode("gb18030"))
    items, problems, _ = check_files([path])
    assert items == []  # not even the readable first line
    problem = only(problems)
    assert (problem.path, problem.line) == (str(path), 2)
    assert "UTF-8" in problem.message


def test_an_empty_file_on_its_own_is_rejected(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("", encoding="utf-8")
    with pytest.raises(DataError) as raised:
        load_catalogue([path])
    assert str(path) in str(raised.value) and "no items" in str(raised.value)


def test_a_file_of_blank_lines_is_rejected_like_an_empty_one(tmp_path):
    path = tmp_path / "blank.jsonl"
    path.write_text("\n  \n\n", encoding="utf-8")
    with pytest.raises(DataError, match="no items"):
        load_catalogue([path])


def test_a_missing_file_is_named(tmp_path):
    path = tmp_path / "nowhere.jsonl"
    with pytest.raises(DataError) as raised:
        load_catalogue([path])
    problem = only(raised.value.problems)
    assert problem.path == str(path) and "cannot read" in problem.message


def test_read_items_gives_each_item_its_line_number(tmp_path):
    path = write_rows(tmp_path / "a.jsonl", GOOD_ROW, "", {**GOOD_ROW, "id": "X-2"})
    items, problems, data = read_items(path)
    assert [(line, item.id) for line, item in items] == [(1, "X-1"), (3, "X-2")]
    assert problems == [] and data == path.read_bytes()


# --- versions -----------------------------------------------------------------------------------------------------

def test_the_version_counts_items_and_changes_when_any_text_changes(tmp_path):
    path = write_rows(tmp_path / "a.jsonl", GOOD_ROW, {**GOOD_ROW, "id": "X-2"})
    before = load_catalogue([path]).version
    assert before.startswith("2@")
    assert load_catalogue([path]).version == before
    write_rows(path, GOOD_ROW, {**GOOD_ROW, "id": "X-2", "fee": "不收费"})
    assert load_catalogue([path]).version not in (before, "")


def test_the_bundled_catalogue_loads_with_unique_ids_and_a_stable_version(tmp_path):
    first, second = load_catalogue(), load_catalogue()
    assert len(first) == 2285
    ids = [item.id for item in first.items]
    assert len(set(ids)) == len(ids)
    assert all(item.name and item.unit for item in first.items)
    assert first.version == second.version and first.version.startswith("2285@")

    copies = []
    for path in bundled_paths():
        copies.append(tmp_path / path.name)
        shutil.copyfile(path, copies[-1])
    assert load_catalogue(copies).version == first.version  # the folder does not matter, the content does

    data = copies[-1].read_bytes()
    copies[-1].write_bytes(data.replace("结婚登记".encode(), "结婚登讫".encode(), 1))
    assert data != copies[-1].read_bytes()
    changed = load_catalogue(copies)
    assert len(changed) == 2285 and changed.version != first.version
