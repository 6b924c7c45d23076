"""The hall's own data: 帮办代办事项清单 (CSV / GB18030 CSV / .xlsx), units.csv, hall.toml, and the bundled demo."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from knowledge.catalogue import load_catalogue
from knowledge.hall import BUNDLED_HALL_DIR, check_path, load_hall, parse_forms
from knowledge.model import SERVICE_FORMS
from knowledge.problems import DataError

FIXTURES = Path(__file__).parent / "fixtures" / "hall"
BAD = FIXTURES / "bad"
LIST_HEADER = ["序号", "单位", "事项名称", "子项名称", "事项类型", "事项分类", "承诺时限", "办理形式", "备注", "事项编码"]


@pytest.fixture(scope="module")
def catalogue():
    """Five items: two named 结婚登记 (T-001, T-002), 居民身份证申领 (catalogue name 居民身份证核发),
    用水报装 with 子项 个人用户, 内资有限责任公司设立登记."""
    return load_catalogue([FIXTURES / "catalogue.jsonl"])


@pytest.fixture(scope="module")
def bundled_catalogue():
    return load_catalogue()


def messages(problems) -> list[str]:
    return [str(p) for p in problems]


def only(problems) -> str:
    assert len(problems) == 1, messages(problems)
    return str(problems[0])


# --- good files -------------------------------------------------------------------------------------------------

def test_good_csv_with_title_rows(catalogue):
    data = load_hall(FIXTURES / "good", catalogue)
    assert data.hall.name == "测试政务服务中心" and data.hall.demo is False
    assert (data.hall.latitude, data.hall.longitude) == (23.13, 113.26)
    assert list(data.listing) == ["T-001", "T-003", "T-004", "T-005"]

    marriage = data.entry("T-001")  # linked by 事项编码
    assert (marriage.seq, marriage.unit, marriage.forms) == (1, "民政局", frozenset({"帮办"}))
    assert marriage.item_type == "行政确认" and marriage.promised_limit == "即办"  # empty: the catalogue's
    assert marriage.category == "婚姻登记类" and marriage.note == "须双方本人到场"

    id_card = data.entry("T-003")  # by name; 上门 means 上门服务
    assert id_card.forms == frozenset({"帮办", "上门服务"})
    assert id_card.promised_limit == "20(工作日)"

    water = data.entry("T-004")  # 事项名称 + 子项名称 against "用水报装(个人用户)"
    assert water.sub_item == "个人用户" and water.promised_limit == "5个工作日"  # given: the hall's own
    assert water.forms == frozenset({"帮办", "代办"})

    company = data.entry("T-005")  # name with spaces around it; separators " / "
    assert company.item_name == "内资有限责任公司设立登记"
    assert company.forms == frozenset(SERVICE_FORMS)

    police = data.hall.unit("公安局")
    assert police.booking_phone == "(020) 8300 0002 转 12"
    assert police.address == "1楼 1-4号窗口" and police.hours == "周一至周六 9:00-17:00"
    assert data.hall.unit("民政局").staff == ("张三", "李四")
    assert data.hall.unit("民政局").address is None  # the hall's
    assert check_path(FIXTURES / "good", catalogue) == []
    for name in ("hall.toml", "units.csv", "list.csv"):
        assert check_path(FIXTURES / "good" / name, catalogue) == [], name


def test_gb18030_csv(catalogue):
    """Excel in China saves "CSV (逗号分隔)" as GB18030; names match through full-width brackets and catalogue names."""
    assert b"\xef\xbb\xbf" not in (FIXTURES / "gb18030" / "list.csv").read_bytes()[:3]
    with pytest.raises(UnicodeDecodeError):
        (FIXTURES / "gb18030" / "list.csv").read_bytes().decode("utf-8")
    data = load_hall(FIXTURES / "gb18030", catalogue)
    assert list(data.listing) == ["T-003", "T-004"]  # 居民身份证核发 is T-003's catalogue name
    assert data.entry("T-004").forms == frozenset({"帮办", "上门服务"})  # 上门帮办，帮办
    assert data.entry("T-004").note == "“一户一表”改造同样可办"
    assert data.hall.unit("公安局").staff == ("王五",)


def test_utf8_bom_csv(catalogue, tmp_path):
    shutil.copytree(FIXTURES / "good", tmp_path / "hall")
    path = tmp_path / "hall" / "list.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert len(load_hall(tmp_path / "hall", catalogue).listing) == 4


def _write_xlsx(path: Path, rows: list[list[object]]) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "帮办代办事项清单"
    sheet.append(["帮办代办事项清单"])
    sheet.merge_cells("A1:J1")
    sheet.append(["单位：（盖章）", None, "联系人：", None, "联系电话："])
    sheet.append(["序号", "单位", "事项名称", "子项名称", "事项类型", "事项分类", "承诺\n时限", "办理形式", "备注", "事项编码"])
    for row in rows:
        sheet.append(row)
    workbook.create_sheet("说明").append(["second sheet, not read"])
    workbook.save(path)


def test_good_xlsx_with_title_rows(catalogue, tmp_path):
    hall = tmp_path / "hall"
    hall.mkdir()
    for name in ("hall.toml", "units.csv"):
        shutil.copy(FIXTURES / "good" / name, hall / name)
    _write_xlsx(hall / "list.xlsx", [
        [1, "民政局", "结婚登记", None, None, "婚姻登记类", None, "帮办、代办", None, "T-001"],
        [2.0, "公安局", "居民身份证申领", None, "行政许可", None, 20, "帮办，上门服务", "卧床老人上门办"],
        [],  # a blank row is skipped
        [3, "自来水公司", "用水报装（个人用户）", None, None, None, None, "代办 帮办", None, None],
    ])
    data = load_hall(hall, catalogue)
    assert list(data.listing) == ["T-001", "T-003", "T-004"]
    assert data.entry("T-001").forms == frozenset({"帮办", "代办"})
    assert data.entry("T-003").seq == 2 and data.entry("T-003").promised_limit == "20"
    assert data.entry("T-003").forms == frozenset({"帮办", "上门服务"})
    assert check_path(hall / "list.xlsx", catalogue) == []
    assert check_path(hall, catalogue) == []


def test_bad_xlsx_names_sheet_rows(catalogue, tmp_path):
    path = tmp_path / "list.xlsx"
    _write_xlsx(path, [
        [1, "民政局", "结婚登记", None, None, None, None, "帮办", None, "T-001"],
        ["一", "公安局", "居民身份证申领", None, None, None, None, "网上办", None, None],
        [3, "民政局", "结婚登记", None, None, None, None, "帮办", None, 1.1440000006941354e30],
    ])
    found = messages(check_path(path, catalogue))
    assert f"{path}:5: 序号: should be a whole number (1, 2, 3 …), got '一'" in found
    assert any(m.startswith(f"{path}:5: 办理形式: unknown form '网上办'") for m in found), found
    assert any(m.startswith(f"{path}:6: 事项编码: Excel stored the code as a number") for m in found), found
    assert len(found) == 3


def test_excel_mangled_code_in_csv(catalogue, tmp_path):
    path = tmp_path / "list.csv"
    path.write_text(",".join(LIST_HEADER) + "\n1,民政局,结婚登记,,,,,帮办,,1.144E+30\n"
                    "2,民政局,结婚登记,,,,,帮办,,1144000000694020000000000000000\n", encoding="utf-8")
    found = messages(check_path(path, catalogue))
    assert len(found) == 2, found
    assert found[0].startswith(f"{path}:2: 事项编码: '1.144E+30' is a code that Excel turned into a number")
    assert found[1].startswith(f"{path}:3: 事项编码: unknown 事项编码") and "lost digits" in found[1]


def test_not_an_xlsx(catalogue, tmp_path):
    path = tmp_path / "list.xlsx"
    path.write_text("序号,单位\n", encoding="utf-8")
    assert only(check_path(path, catalogue)).startswith(f"{path}: cannot open as an Excel .xlsx workbook")


# --- bad 事项清单 -----------------------------------------------------------------------------------------------

def test_unknown_name_suggests_close_names(catalogue):
    path = BAD / "list_unknown_name.csv"
    message = only(check_path(path, catalogue))
    assert message.startswith(f"{path}:4: 事项名称: unknown item name '内资有限公司设立登记', did you mean 《内资有限责任公司设立登记》")


def test_ambiguous_name_lists_ids_and_units(catalogue):
    path = BAD / "list_ambiguous.csv"
    message = only(check_path(path, catalogue))
    assert message.startswith(f"{path}:3: 事项名称: ambiguous: 2 items named '结婚登记'; add 事项编码 (ids: ")
    assert "T-001" in message and "甲市民政局" in message and "T-002" in message and "乙县民政局" in message


def test_bad_and_missing_form(catalogue):
    path = BAD / "list_bad_form.csv"
    found = messages(check_path(path, catalogue))
    assert len(found) == 2, found
    assert found[0].startswith(f"{path}:3: 办理形式: unknown form '网办'")
    assert found[1].startswith(f"{path}:4: 办理形式: required, missing")


def test_unknown_id(catalogue):
    path = BAD / "list_unknown_id.csv"
    # row 4 gives only the 事项编码: the name comes from the catalogue
    assert only(check_path(path, catalogue)).startswith(f"{path}:3: 事项编码: unknown 事项编码 'T-009'")


def test_duplicate_item(catalogue):
    path = BAD / "list_duplicate.csv"
    message = only(check_path(path, catalogue))
    assert message.startswith(f"{path}:5: 事项编码: duplicate: 《居民身份证申领》 (T-003) is already listed in row 3")


def test_unknown_sub_item(catalogue, tmp_path):
    path = tmp_path / "list.csv"
    path.write_text(",".join(LIST_HEADER) + "\n1,自来水公司,用水报装,企业用户,,,,帮办,,\n", encoding="utf-8")
    message = only(check_path(path, catalogue))
    assert message.startswith(f"{path}:2: 子项名称: unknown 子项名称 '企业用户' of '用水报装'")
    assert "个人用户" in message


def test_missing_and_unknown_columns(catalogue, tmp_path):
    path = tmp_path / "list.csv"
    header = [c for c in LIST_HEADER if c != "办理形式"] + ["事项编号"]
    path.write_text(",".join(header) + "\n", encoding="utf-8")
    found = messages(check_path(path, catalogue))
    assert f"{path}:1: 办理形式: missing column in the header row" in found
    assert any(m.startswith(f"{path}:1: 事项编号: unknown column") for m in found), found


def test_missing_unit_in_units_csv(catalogue):
    directory = FIXTURES / "missing_unit"
    with pytest.raises(DataError) as error:
        load_hall(directory, catalogue)
    assert len(error.value.problems) == 1
    assert str(error.value).startswith(f"{directory / 'list.csv'}:7: 单位: unit '市场监管局' has no row in "
                                       f"{directory / 'units.csv'}")
    # the list alone is checked against the units.csv next to it
    assert only(check_path(directory / "list.csv", catalogue)).startswith(f"{directory / 'list.csv'}:7: 单位:")


def test_missing_unit_reported_also_for_rows_with_other_problems(catalogue, tmp_path):
    shutil.copytree(FIXTURES / "missing_unit", tmp_path / "hall")
    path = tmp_path / "hall" / "list.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("帮办 / 代办 / 上门帮办", "网办"), encoding="utf-8")
    found = messages(check_path(tmp_path / "hall", catalogue))
    assert len(found) == 2, found
    assert found[0].startswith(f"{path}:7: 办理形式: unknown form '网办'")
    assert found[1].startswith(f"{path}:7: 单位: unit '市场监管局' has no row in")


def test_load_collects_every_problem(catalogue, tmp_path):
    hall = tmp_path / "hall"
    hall.mkdir()
    shutil.copy(BAD / "hall_bad_values.toml", hall / "hall.toml")
    shutil.copy(BAD / "units_bad_phone.csv", hall / "units.csv")
    shutil.copy(BAD / "list_bad_form.csv", hall / "list.csv")
    with pytest.raises(DataError) as error:
        load_hall(hall, catalogue)
    files = {Path(p.path).name for p in error.value.problems}
    assert files == {"hall.toml", "units.csv", "list.csv"}
    assert len(error.value.problems) == 4 + 2 + 2


# --- units.csv and hall.toml -------------------------------------------------------------------------------------

def test_bad_phone_and_missing_field_in_units(catalogue):
    path = BAD / "units_bad_phone.csv"  # recognised as a units.csv by its header
    found = messages(check_path(path, catalogue))
    assert len(found) == 2, found
    assert found[0].startswith(f"{path}:3: 预约电话: 'call me' does not look like a phone number")
    assert found[1] == f"{path}:4: 收件人: required, missing"


def test_bad_toml_syntax(catalogue):
    path = BAD / "hall_bad_syntax.toml"
    assert only(check_path(path, catalogue)).startswith(f"{path}:2: not valid TOML")


def test_bad_toml_values(catalogue):
    path = BAD / "hall_bad_values.toml"
    found = messages(check_path(path, catalogue))
    assert f"{path}: name: required, missing" in found  # a missing key: file + key
    assert any(m.startswith(f"{path}:3: phone: '请拨打总机' does not look like a phone number") for m in found), found
    assert f"{path}:4: latitude: 123.4 is out of range (-90 to 90 degrees)" in found
    assert f"{path}:6: demo: should be true or false (without quotes)" in found
    assert len(found) == 4


@pytest.mark.parametrize("phone", ["020-83331234", "61387687", "12345", "(020) 8333 1234", "+86 20 8333 1234",
                                   "020-83331234转806", "020-83331234 ext. 12", "13800138000、020-83331234"])
def test_phone_numbers_accepted(catalogue, tmp_path, phone):
    path = tmp_path / "units.csv"
    path.write_text(f"单位,预约电话,办理人员,邮寄地址,收件人\n民政局,{phone},张三,甲市人民路1号,张三\n", encoding="utf-8")
    assert check_path(path, catalogue) == []


@pytest.mark.parametrize("phone", ["电话", "020", "020-8333-ABCD", "call 020-83331234"])
def test_phone_numbers_refused(catalogue, tmp_path, phone):
    path = tmp_path / "units.csv"
    path.write_text(f"单位,预约电话,办理人员,邮寄地址,收件人\n民政局,{phone},张三,甲市人民路1号,张三\n", encoding="utf-8")
    assert only(check_path(path, catalogue)).startswith(f"{path}:2: 预约电话:")


def test_parse_forms():
    assert parse_forms("代办、帮办") == (frozenset({"帮办", "代办"}), [])
    assert parse_forms("帮办，上门") == (frozenset({"帮办", "上门服务"}), [])
    assert parse_forms("帮办/代办/上门帮办") == (frozenset(SERVICE_FORMS), [])
    assert parse_forms("帮办 网办") == (frozenset({"帮办"}), ["网办"])


# --- check_path dispatch -----------------------------------------------------------------------------------------

def test_check_guides_jsonl_ids_must_not_collide(catalogue):
    path = BAD / "guides_collide.jsonl"
    assert only(check_path(path, catalogue)).startswith(f"{path}:1: id: id 'T-003' is already used by the catalogue")


def test_check_unknown_things(catalogue, tmp_path):
    assert "no such file or directory" in only(check_path(tmp_path / "nothing.csv", catalogue))
    other = tmp_path / "other.csv"
    other.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    assert "neither a 帮办代办事项清单" in only(check_path(other, catalogue))
    text = tmp_path / "notes.txt"
    text.write_text("hello", encoding="utf-8")
    assert "don't know how to check" in only(check_path(text, catalogue))
    empty = tmp_path / "empty"
    empty.mkdir()
    assert {Path(p.path).name for p in check_path(empty, catalogue)} == {"hall.toml", "units.csv", "list.csv"}


def test_both_list_files_is_an_error(catalogue, tmp_path):
    shutil.copytree(FIXTURES / "good", tmp_path / "hall")
    _write_xlsx(tmp_path / "hall" / "list.xlsx", [])
    assert "keep only one" in only(check_path(tmp_path / "hall", catalogue))


# --- the bundled demo hall ---------------------------------------------------------------------------------------

def test_bundled_demo_hall(bundled_catalogue):
    data = load_hall(None, bundled_catalogue)
    assert data.hall.demo is True and "演示" in data.hall.name
    assert len(data.listing) >= 75
    assert all(bundled_catalogue.get(item_id) for item_id in data.listing)
    for entry in data.listing.values():
        assert "帮办" in entry.forms
        contact = data.hall.unit(entry.unit)
        assert contact is not None, entry.unit
        assert contact.booking_phone and contact.staff and contact.mail_address and contact.recipient
    forms = [entry.forms for entry in data.listing.values()]
    assert sum("代办" in f for f in forms) >= 30 and sum("上门服务" in f for f in forms) >= 8
    assert 22 <= data.hall.latitude <= 24 and 112 <= data.hall.longitude <= 115  # Guangzhou
    assert check_path(BUNDLED_HALL_DIR, bundled_catalogue) == []
    for guides in ("gd-2021.jsonl", "guides-extra.jsonl"):  # the bundled files themselves do not "collide"
        assert check_path(BUNDLED_HALL_DIR.parent / "catalogue" / guides, bundled_catalogue) == []
