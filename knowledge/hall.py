"""The hall's own published data, edited by operators without code.

A hall directory holds three files:

- ``hall.toml``  — the hall itself: name, address, hours, phone, latitude, longitude, demo;
- ``units.csv``  — each stationed unit's published contacts (seeds 000/002): 单位, 预约电话, 办理人员 (names separated
  by 、), 邮寄地址, 收件人, optionally 办公地址 and 办公时间;
- ``list.csv`` or ``list.xlsx`` — the 帮办代办事项清单 in the layout of seed 003 附件1: 序号, 单位, 事项名称, 子项名称,
  事项类型, 事项分类, 承诺时限, 办理形式, 备注, plus an optional 事项编码 (catalogue item id).

CSV files may be UTF-8 (with or without BOM) or GB18030 (what Excel in China saves). In both the CSV and the .xlsx the
header row is found by its column names, so a title row ("帮办代办事项清单") and a "单位：（盖章） 联系人： 联系电话："
row above it, or ``#`` comment rows, do no harm. Every row of the list is linked to one catalogue item, by 事项编码
or by its name. Every problem names file, row as the operator sees it in Excel (1-based, header rows included) and
column; all problems are collected before :class:`DataError` is raised.
"""
from __future__ import annotations

import csv
import io
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from types import MappingProxyType
from typing import Iterable, Sequence

from rapidfuzz import fuzz, process

from .catalogue import bundled_paths, check_files, read_items
from .model import SERVICE_FORMS, Catalogue, Hall, HallData, Item, ListingEntry, Schedule, UnitContact
from .problems import DataError, Problem

BUNDLED_HALL_DIR = Path(__file__).parent / "data" / "hall"
HALL_FILE = "hall.toml"
UNITS_FILE = "units.csv"
LIST_FILES = ("list.csv", "list.xlsx")

# --- the 帮办代办事项清单 (seed 003 附件1) -------------------------------------------------------------------
C_SEQ, C_UNIT, C_NAME, C_SUB, C_TYPE, C_CATEGORY, C_LIMIT, C_FORMS, C_NOTE, C_ID = (
    "序号", "单位", "事项名称", "子项名称", "事项类型", "事项分类", "承诺时限", "办理形式", "备注", "事项编码")
LIST_COLUMNS = (C_SEQ, C_UNIT, C_NAME, C_SUB, C_TYPE, C_CATEGORY, C_LIMIT, C_FORMS, C_NOTE)
LIST_OPTIONAL_COLUMNS = (C_ID,)

# --- units.csv (seeds 000/002: 预约电话、办理人员、邮寄地址、收件人) ------------------------------------------------
U_UNIT, U_PHONE, U_STAFF, U_MAIL, U_RECIPIENT, U_ADDRESS, U_HOURS = (
    "单位", "预约电话", "办理人员", "邮寄地址", "收件人", "办公地址", "办公时间")
UNIT_COLUMNS = (U_UNIT, U_PHONE, U_STAFF, U_MAIL, U_RECIPIENT)
UNIT_OPTIONAL_COLUMNS = (U_ADDRESS, U_HOURS)

# --- hall.toml ----------------------------------------------------------------------------------------------------
_HALL_TEXT_KEYS = ("name", "address", "hours", "phone")
_HALL_KEYS = (*_HALL_TEXT_KEYS, "latitude", "longitude", "demo", "schedule")
_SCHEDULE_NUMBERS = {"slot_minutes": (5, 240), "slot_capacity": (1, 1000), "booking_days": (1, 60),
                     "handoff_wait_minutes": (1, 24 * 60)}
_SCHEDULE_KEYS = ("periods", *_SCHEDULE_NUMBERS, "extra_holidays", "extra_workdays")
_PERIOD = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")

# what operators write in 办理形式 -> the form in SERVICE_FORMS
_FORM_WORDS = {
    "帮办": "帮办",
    "代办": "代办",
    "上门服务": "上门服务",
    "上门": "上门服务",
    "上门帮办": "上门服务",
}
_FORM_SEPARATORS = re.compile(r"[、，,/／;；\s]+")
_STAFF_SEPARATORS = re.compile(r"[、，,;；]+")
_PHONE_SEPARATORS = re.compile(r"[、，,;；/／]+")
# digits, -, spaces, parentheses (either width), an optional leading +, an optional extension
_PHONE = re.compile(r"^\+?[0-9()（）\-－\s]+(?:(?:转|分机|ext\.?|x|#)\s*[0-9]{1,6})?$", re.IGNORECASE)
_EXCEL_NUMBER = re.compile(r"^[0-9](?:\.[0-9]+)?[eE]\+?[0-9]+$")
_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060"), None)


# ================================================================================================================
# Reading tables (CSV in UTF-8 or GB18030, .xlsx)
# ================================================================================================================

Cell = str | int | float


@dataclass
class _Table:
    path: str
    rows: list[tuple[int, list[Cell]]]  # (row number as shown in Excel, cells)


def _clean(value: object) -> Cell:
    """A cell's value with surrounding whitespace and invisible characters removed ("" for empty)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return value
    return str(value).translate(_INVISIBLE).strip()


def _text(value: Cell) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value).strip()


def _decode(data: bytes, shown: str) -> tuple[str | None, list[Problem]]:
    if data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff"):
        return None, [Problem(shown, None, None,
                              "UTF-16 text (Excel's \"Unicode text\"); save as \"CSV UTF-8 (逗号分隔)\" instead")]
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data.decode("utf-8-sig"), []
        except UnicodeDecodeError as exc:
            error = exc
    else:
        try:
            return data.decode("utf-8"), []
        except UnicodeDecodeError as exc:
            error = exc
        try:
            return data.decode("gb18030"), []  # what Excel in China saves as "CSV (逗号分隔)"
        except UnicodeDecodeError:
            pass
    line = data[: error.start].count(b"\n") + 1
    return None, [Problem(shown, line, None,
                          "not UTF-8 or GB18030 text; save the file as \"CSV UTF-8 (逗号分隔)\"")]


def _read_csv(path: Path, shown: str) -> tuple[_Table | None, list[Problem]]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, [Problem(shown, None, None, f"cannot read file: {exc.strerror}")]
    text, problems = _decode(data, shown)
    if text is None:
        return None, problems
    rows: list[tuple[int, list[Cell]]] = []
    try:
        # row numbers count records, as Excel shows them (a quoted cell with a line break stays in one row)
        for number, record in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            rows.append((number, [_clean(cell) for cell in record]))
    except csv.Error as exc:
        return None, [Problem(shown, len(rows) + 1, None, f"not valid CSV ({exc})")]
    return _Table(shown, rows), []


def _read_xlsx(path: Path, shown: str) -> tuple[_Table | None, list[Problem]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, data_only=True)  # data_only: a formula's last computed value
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook is the operator's file problem, not a crash
        reason = "not a valid .xlsx file" if isinstance(exc, zipfile.BadZipFile) else f"{type(exc).__name__}: {exc}"
        return None, [Problem(shown, None, None, f"cannot open as an Excel .xlsx workbook ({reason}); "
                                                 "save it from Excel/WPS as .xlsx")]
    try:
        sheet = workbook.worksheets[0]
        rows = [(number, [_clean(value) for value in values])
                for number, values in enumerate(sheet.iter_rows(min_row=1, max_row=sheet.max_row, values_only=True),
                                                start=1)]
    finally:
        workbook.close()
    return _Table(shown, rows), []


def _read_table(path: Path) -> tuple[_Table | None, list[Problem]]:
    shown = str(path)
    if path.suffix.lower() == ".xlsx":
        return _read_xlsx(path, shown)
    return _read_csv(path, shown)


def _header_key(value: Cell) -> str:
    """Header cells compared without whitespace (Excel headers often wrap: "承诺\\n时限") and width differences."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", _text(value))).lstrip("*")


def _is_blank(cells: Sequence[Cell]) -> bool:
    return all(_text(c) == "" for c in cells)


def _is_comment(cells: Sequence[Cell]) -> bool:
    return bool(cells) and isinstance(cells[0], str) and cells[0].startswith("#")


def _find_header(table: _Table, required: Sequence[str], optional: Sequence[str], what: str
                 ) -> tuple[int | None, dict[str, int], list[Problem]]:
    """Find the header row by its column names. Returns (index into table.rows, column -> cell index, problems)."""
    known = (*required, *optional)
    for index, (number, cells) in enumerate(table.rows[:50]):
        keys = [_header_key(c) for c in cells]
        if sum(1 for k in keys if k in required) < min(3, len(required)):
            continue
        columns: dict[str, int] = {}
        problems: list[Problem] = []
        for position, key in enumerate(keys):
            if not key:
                continue
            if key in columns:
                problems.append(Problem(table.path, number, key, "column appears twice in the header row"))
            elif key in known:
                columns[key] = position
            else:
                problems.append(Problem(table.path, number, key,
                                        f"unknown column; the columns are: {'、'.join(known)}"))
        for name in required:
            if name not in columns:
                problems.append(Problem(table.path, number, name, "missing column in the header row"))
        return index, columns, problems
    return None, {}, [Problem(table.path, None, None,
                              f"no header row found: a {what} needs a row with the columns {'、'.join(required)}")]


def _data_rows(table: _Table, header_index: int, columns: dict[str, int]
               ) -> Iterable[tuple[int, dict[str, Cell]]]:
    for number, cells in table.rows[header_index + 1:]:
        if _is_blank(cells) or _is_comment(cells):
            continue
        yield number, {name: (cells[i] if i < len(cells) else "") for name, i in columns.items()}


# ================================================================================================================
# Linking rows to catalogue items
# ================================================================================================================

def normalise_name(text: str) -> str:
    """Compare names without whitespace and without full-width/half-width differences (（）→()，：→: ...)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _normalise_sub(text: str | None) -> str:
    """子项名称 also without enclosing brackets: the catalogue writes some as "（个人）"."""
    value = normalise_name(text or "")
    while len(value) > 2 and value[0] in "([【〔" and value[-1] in ")]】〕":
        value = value[1:-1]
    return value


def _name_similarity(a: str, b: str, **_: object) -> float:
    """Whole-name similarity averaged with WRatio's partial matching: for short Chinese names neither alone ranks well
    ("社保卡补办" -> 社会保障卡补领、换领; "公积金提取" -> 住房公积金提取)."""
    return (fuzz.ratio(a, b) + fuzz.WRatio(a, b)) / 2


class ItemIndex:
    """Exact lookups of catalogue items by name, title or catalogue name, and close-name suggestions."""

    def __init__(self, catalogue: Catalogue):
        self.catalogue = catalogue
        self._by_name: dict[str, list[Item]] = {}
        self._by_catalogue_name: dict[str, list[Item]] = {}
        for item in catalogue.items:
            keys = {normalise_name(item.name), normalise_name(item.title)}
            if item.sub_item:  # "办理往来港澳通行证团队游签注(广州市户籍居民)" is also "办理往来港澳通行证团队游签注"
                name, sub = normalise_name(item.name), normalise_name(item.sub_item)
                if name.endswith(f"({sub})") and len(name) > len(sub) + 2:
                    keys.add(name[: -len(sub) - 2])
            for key in keys:
                self._by_name.setdefault(key, []).append(item)
            if item.catalogue_name:
                self._by_catalogue_name.setdefault(normalise_name(item.catalogue_name), []).append(item)
        self._choices: list[str] = sorted({item.title for item in catalogue.items})
        self._choice_keys = [normalise_name(c) for c in self._choices]

    def find(self, name: str, sub_item: str | None = None) -> list[Item]:
        """Items whose name or title (failing that: catalogue name) is `name`, narrowed to `sub_item` when given."""
        key = normalise_name(name)
        by_name = self._by_name.get(key, [])
        by_catalogue = self._by_catalogue_name.get(key, [])
        if sub_item:
            sub = _normalise_sub(sub_item)
            found = [i for i in by_name + by_catalogue if _normalise_sub(i.sub_item) == sub]
            found += self._by_name.get(normalise_name(f"{name}({sub_item})"), [])
        else:
            found = by_name or by_catalogue
        unique: dict[str, Item] = {}
        for item in found:
            unique.setdefault(item.id, item)
        return list(unique.values())

    def sub_items(self, name: str) -> list[str]:
        key = normalise_name(name)
        items = self._by_name.get(key, []) + self._by_catalogue_name.get(key, [])
        return sorted({i.sub_item for i in items if i.sub_item})

    def suggest(self, name: str, limit: int = 3) -> list[str]:
        matches = process.extract(normalise_name(name), self._choice_keys, scorer=_name_similarity,
                                  limit=limit, score_cutoff=40)
        return [self._choices[index] for _, _, index in matches]

    def suggest_ids(self, item_id: str, limit: int = 3) -> list[str]:
        matches = process.extract(item_id, list(self.catalogue.by_id), scorer=fuzz.ratio, limit=limit,
                                  score_cutoff=85)
        return [choice for choice, _, _ in matches]


def _describe(items: Sequence[Item], limit: int = 8) -> str:
    shown = "; ".join(f"{i.id} {i.title}（{i.unit}）" for i in items[:limit])
    if len(items) > limit:
        shown += f"; … and {len(items) - limit} more"
    return shown


# ================================================================================================================
# The 帮办代办事项清单
# ================================================================================================================

def parse_forms(text: str) -> tuple[frozenset[str], list[str]]:
    """'帮办、代办' -> ({帮办, 代办}, []); unknown words are returned as the second element."""
    forms: set[str] = set()
    unknown: list[str] = []
    for word in _FORM_SEPARATORS.split(unicodedata.normalize("NFKC", text).strip()):
        if not word:
            continue
        form = _FORM_WORDS.get(word)
        if form is None:
            unknown.append(word)
        else:
            forms.add(form)
    return frozenset(forms), unknown


def _parse_seq(value: Cell) -> int | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return value if value >= 1 else None
    if isinstance(value, float):
        return None
    text = unicodedata.normalize("NFKC", value).strip()
    if re.fullmatch(r"[0-9]+(?:\.0+)?", text) and int(float(text)) >= 1:
        return int(float(text))
    return None


def _parse_item_id(value: Cell) -> tuple[str | None, str | None]:
    """(id, problem). Excel turns long all-digit codes into numbers and loses digits: say so."""
    if isinstance(value, float) and not (value.is_integer() and abs(value) < 1e15):
        return None, (f"Excel stored the code as a number ({value:.6g}) and lost digits; format the column "
                      "as 文本 (Text) and enter the code again")
    text = _text(value)
    if _EXCEL_NUMBER.match(text):
        return None, (f"{text!r} is a code that Excel turned into a number and lost digits; format the column "
                      "as 文本 (Text) and enter the code again")
    return (text or None), None


@dataclass
class _Listing:
    path: str
    entries: list[ListingEntry]
    unit_rows: dict[str, list[int]]  # every 单位 named in the list -> its rows (also rows with other problems)
    problems: list[Problem]


def _check_listing_table(table: _Table, index: ItemIndex) -> _Listing:
    header, columns, problems = _find_header(table, LIST_COLUMNS, LIST_OPTIONAL_COLUMNS, "帮办代办事项清单")
    listing = _Listing(table.path, [], {}, problems)
    if header is None or any(p.message.startswith("missing column") for p in problems):
        return listing
    path = table.path
    first_row_of: dict[str, int] = {}
    for line, cells in _data_rows(table, header, columns):
        row_problems: list[Problem] = []

        def problem(column: str, message: str) -> None:
            row_problems.append(Problem(path, line, column, message))

        seq = _parse_seq(cells[C_SEQ])
        if seq is None:
            problem(C_SEQ, f"should be a whole number (1, 2, 3 …), got {_text(cells[C_SEQ])!r}" if _text(cells[C_SEQ])
                    else "required, missing")
        unit = _text(cells[C_UNIT])
        if unit:
            listing.unit_rows.setdefault(unit, []).append(line)
        else:
            problem(C_UNIT, "required, missing: the unit (部门/单位) that handles the item in this hall")
        name = _text(cells[C_NAME])
        sub_item = _text(cells[C_SUB]) or None

        item: Item | None = None
        item_id, id_problem = _parse_item_id(cells.get(C_ID, ""))
        if id_problem:
            problem(C_ID, id_problem)
        elif item_id:
            item = index.catalogue.get(item_id)
            if item is None:
                close = index.suggest_ids(item_id)
                hint = f"; did you mean {', '.join(close)}?" if close else ""
                if item_id.isdigit() and len(item_id) >= 20 and len(item_id.rstrip("0")) <= 16:
                    hint += ("; the trailing zeros suggest Excel stored the code as a number and lost digits: "
                             "format the column as 文本 (Text) and enter the code again")
                problem(C_ID, f"unknown 事项编码 {item_id!r}: no such item in the catalogue "
                              f"({index.catalogue.version}){hint}")
            elif name and not _name_fits(name, sub_item, item):
                problem(C_NAME, f"事项编码 {item_id} is 《{item.title}》, which does not look like {name!r}; "
                                "check the code or the name")
        elif not name:
            problem(C_NAME, "required, missing (or give the item's 事项编码)")
        else:
            found = index.find(name, sub_item)
            if len(found) == 1:
                item = found[0]
            elif len(found) > 1:
                named = f"{name}（{sub_item}）" if sub_item else name
                problem(C_NAME, f"ambiguous: {len(found)} items named {named!r}; add 事项编码 "
                                f"(ids: {_describe(found)})")
            elif sub_item and index.find(name):
                known = index.sub_items(name)
                problem(C_SUB, f"unknown 子项名称 {sub_item!r} of {name!r}"
                               + (f"; the catalogue has: {'、'.join(known[:8])}" if known else
                                  "; the catalogue has no 子项 for it, leave 子项名称 empty"))
            else:
                close = index.suggest(f"{name}{sub_item or ''}")
                hint = f", did you mean {'、'.join(f'《{c}》' for c in close)}?" if close else ""
                problem(C_NAME, f"unknown item name {name!r}{hint} (names must match the catalogue exactly; "
                                "or give the item's 事项编码)")

        forms_text = _text(cells[C_FORMS])
        forms, unknown = parse_forms(forms_text)
        if not forms_text:
            problem(C_FORMS, f"required, missing: one or more of {'、'.join(SERVICE_FORMS)}")
        elif unknown:
            problem(C_FORMS, f"unknown form {'、'.join(unknown)!r} in {forms_text!r}: write one or more of "
                             f"{'、'.join(SERVICE_FORMS)} separated by 、")

        if item is not None:
            if item.id in first_row_of:
                problem(C_ID if item_id else C_NAME,
                        f"duplicate: 《{item.title}》 ({item.id}) is already listed in row {first_row_of[item.id]}")
            else:
                first_row_of[item.id] = line
        problems.extend(row_problems)
        if row_problems or item is None or seq is None:
            continue
        listing.entries.append(ListingEntry(
            seq=seq,
            unit=unit,
            item_id=item.id,
            item_name=name or item.name,
            sub_item=sub_item if name else item.sub_item,
            item_type=_text(cells[C_TYPE]) or item.item_type,
            category=_text(cells[C_CATEGORY]) or None,
            promised_limit=_text(cells[C_LIMIT]) or item.promised_limit,
            forms=forms,
            note=_text(cells[C_NOTE]) or None,
        ))
    if not listing.entries and not problems:
        problems.append(Problem(path, None, None, "the list has no items"))
    return listing


def _name_fits(name: str, sub_item: str | None, item: Item) -> bool:
    """Loose check that a row's 事项名称 is about its 事项编码's item (local names may differ from the catalogue's)."""
    key = normalise_name(name)
    names = [normalise_name(n) for n in (item.name, item.title, item.catalogue_name or "") if n]
    if key in names:
        return True
    return max(fuzz.partial_ratio(key, n) for n in names) >= 60


def _check_list_file(path: Path, index: ItemIndex) -> _Listing:
    table, problems = _read_table(path)
    if table is None:
        return _Listing(str(path), [], {}, problems)
    return _check_listing_table(table, index)


def _check_units_cover(listing: _Listing, units: dict[str, UnitContact], units_path: str) -> list[Problem]:
    """Every 单位 in the list needs its contacts; reported once per unit, at its first row."""
    problems: list[Problem] = []
    for unit, lines in listing.unit_rows.items():
        if unit not in units:
            more = ""
            if len(lines) > 1:
                more = f" (rows {', '.join(map(str, lines[:10]))}{' …' if len(lines) > 10 else ''})"
            problems.append(Problem(listing.path, lines[0], C_UNIT,
                                    f"unit {unit!r} has no row in {units_path}{more}: add its 预约电话、办理人员、"
                                    "邮寄地址、收件人 there"))
    return problems


# ================================================================================================================
# units.csv
# ================================================================================================================

def check_phone(text: str) -> str | None:
    """None when every number in `text` (several separated by 、 or ,) looks like a phone number, else why not."""
    for number in _PHONE_SEPARATORS.split(text):
        number = number.strip()
        if not number:
            continue
        digits = sum(ch.isdigit() for ch in number)
        if not _PHONE.match(number) or not 5 <= digits <= 20:
            return (f"{number!r} does not look like a phone number (digits, -, spaces, brackets, an optional "
                    "extension such as 转123; e.g. 020-83331234 or 12345)")
    return None


def _check_units_table(table: _Table) -> tuple[dict[str, UnitContact], list[Problem]]:
    header, columns, problems = _find_header(table, UNIT_COLUMNS, UNIT_OPTIONAL_COLUMNS, "units.csv")
    if header is None or any(p.message.startswith("missing column") for p in problems):
        return {}, problems
    units: dict[str, UnitContact] = {}
    first_line: dict[str, int] = {}
    for line, cells in _data_rows(table, header, columns):
        values = {column: _text(value) for column, value in cells.items()}
        row_problems = [Problem(table.path, line, column, "required, missing")
                        for column in UNIT_COLUMNS if not values[column]]
        phone = values[U_PHONE]
        if phone and (why := check_phone(phone)):
            row_problems.append(Problem(table.path, line, U_PHONE, why))
        unit = values[U_UNIT]
        if unit and unit in first_line:
            row_problems.append(Problem(table.path, line, U_UNIT, f"unit {unit!r} already has row {first_line[unit]}"))
        problems.extend(row_problems)
        if unit:
            first_line.setdefault(unit, line)
        if row_problems:
            continue
        units[unit] = UnitContact(
            unit=unit,
            booking_phone=phone,
            staff=tuple(s.strip() for s in _STAFF_SEPARATORS.split(values[U_STAFF]) if s.strip()),
            mail_address=values[U_MAIL],
            recipient=values[U_RECIPIENT],
            address=values.get(U_ADDRESS) or None,
            hours=values.get(U_HOURS) or None,
        )
    if not units and not problems:
        problems.append(Problem(table.path, None, None, "no units found"))
    return units, problems


def _check_units_file(path: Path) -> tuple[dict[str, UnitContact], list[Problem]]:
    table, problems = _read_table(path)
    if table is None:
        return {}, problems
    return _check_units_table(table)


# ================================================================================================================
# hall.toml
# ================================================================================================================

def _toml_key_line(text: str, key: str) -> int | None:
    pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return None


def _check_hall_file(path: Path) -> tuple[dict[str, object] | None, list[Problem]]:
    shown = str(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        return None, [Problem(shown, None, None, f"cannot read file: {exc.strerror}")]
    except UnicodeDecodeError:
        return None, [Problem(shown, None, None, "not UTF-8 text; save the file as UTF-8")]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        line = int(found.group(1)) if found else None
        return None, [Problem(shown, line, None, f"not valid TOML: {exc} (text values need quotes: name = \"…\")")]

    problems: list[Problem] = []

    def problem(key: str, message: str) -> None:
        problems.append(Problem(shown, _toml_key_line(text, key), key, message))

    for key in data:
        if key not in _HALL_KEYS:
            problem(key, f"unknown key; the keys are: {', '.join(_HALL_KEYS)}")
    values: dict[str, object] = {}
    for key in _HALL_TEXT_KEYS:
        value = data.get(key)
        if value is None:
            problems.append(Problem(shown, None, key, "required, missing"))
        elif not isinstance(value, str):
            problem(key, f"should be text in quotes, got {type(value).__name__}")
        elif not value.strip():
            problem(key, "required, empty")
        else:
            values[key] = value.strip()
    if "phone" in values and (why := check_phone(str(values["phone"]))):
        problem("phone", why)
        values.pop("phone")
    for key, low, high in (("latitude", -90.0, 90.0), ("longitude", -180.0, 180.0)):
        value = data.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problem(key, f"should be a number in degrees (e.g. 23.12), got {type(value).__name__}")
        elif not low <= value <= high:
            problem(key, f"{value} is out of range ({low:g} to {high:g} degrees)")
        else:
            values[key] = float(value)
    if ("latitude" in data) != ("longitude" in data):
        missing = "longitude" if "latitude" in data else "latitude"
        problems.append(Problem(shown, None, missing, "give both latitude and longitude, or neither"))
    demo = data.get("demo", False)
    if not isinstance(demo, bool):
        problem("demo", "should be true or false (without quotes)")
    else:
        values["demo"] = demo
    schedule = data.get("schedule")
    if schedule is not None:
        if not isinstance(schedule, dict):
            problem("schedule", "should be a table: [schedule] with periods, slot_minutes …")
        else:
            values["schedule"] = _check_schedule(schedule, problem)
    return (values if not problems else None), problems


def _check_schedule(data: dict, problem) -> Schedule:
    """The [schedule] table; `problem(key, message)` records what is wrong (the key's line is found by name)."""
    values: dict[str, object] = {}
    for key in data:
        if key not in _SCHEDULE_KEYS:
            problem(key, f"unknown key in [schedule]; the keys are: {', '.join(_SCHEDULE_KEYS)}")
    if "periods" in data:
        periods = _periods(data["periods"])
        if periods is None:
            problem("periods", 'should be a list of working periods in time order, e.g. ["09:00-12:00", "13:00-17:00"]')
        else:
            values["periods"] = periods
    for key, (low, high) in _SCHEDULE_NUMBERS.items():
        value = data.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            problem(key, f"should be a whole number from {low} to {high}")
        else:
            values[key] = value
    for key in ("extra_holidays", "extra_workdays"):
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(d, date) and not isinstance(d, datetime)
                                                  for d in value):
            problem(key, "should be a list of dates without quotes, e.g. [2027-01-01, 2027-02-08]")
        else:
            values[key] = frozenset(value)
    return Schedule(**values)  # type: ignore[arg-type]


def _periods(value: object) -> tuple[tuple[time, time], ...] | None:
    if not isinstance(value, list) or not value:
        return None
    periods: list[tuple[time, time]] = []
    for text in value:
        match = _PERIOD.match(text) if isinstance(text, str) else None
        if not match:
            return None
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            return None
        start, end = time(h1, m1), time(h2, m2)
        if start >= end or (periods and start < periods[-1][1]):
            return None
        periods.append((start, end))
    return tuple(periods)


# ================================================================================================================
# The whole hall
# ================================================================================================================

def _list_path(directory: Path) -> tuple[Path | None, list[Problem]]:
    present = [directory / name for name in LIST_FILES if (directory / name).is_file()]
    if not present:
        return None, [Problem(str(directory / LIST_FILES[0]), None, None,
                              f"missing: the 帮办代办事项清单 as {' or '.join(LIST_FILES)}")]
    if len(present) > 1:
        return None, [Problem(str(present[1]), None, None,
                              f"both {' and '.join(p.name for p in present)} exist; keep only one")]
    return present[0], []


def _check_hall_dir(directory: Path, catalogue: Catalogue
                    ) -> tuple[HallData | None, list[Problem]]:
    problems: list[Problem] = []
    hall_path, units_path = directory / HALL_FILE, directory / UNITS_FILE
    hall_values: dict[str, object] | None = None
    if hall_path.is_file():
        hall_values, found = _check_hall_file(hall_path)
        problems += found
    else:
        problems.append(Problem(str(hall_path), None, None, "missing: the hall's name, address, hours, phone"))
    units: dict[str, UnitContact] = {}
    units_ok = units_path.is_file()
    if units_ok:
        units, found = _check_units_file(units_path)
        problems += found
        units_ok = not found
    else:
        problems.append(Problem(str(units_path), None, None, "missing: the units' contacts"))
    entries: list[ListingEntry] = []
    list_path, found = _list_path(directory)
    problems += found
    if list_path is not None:
        listing = _check_list_file(list_path, ItemIndex(catalogue))
        problems += listing.problems
        entries = listing.entries
        if units_ok:
            problems += _check_units_cover(listing, units, str(units_path))
    if problems or hall_values is None:
        return None, problems
    hall = Hall(units=tuple(units.values()), **hall_values)  # type: ignore[arg-type]
    return HallData(hall=hall, listing=MappingProxyType({e.item_id: e for e in entries})), []


def load_hall(directory: Path | None, catalogue: Catalogue) -> HallData:
    """Load and validate a hall directory (default: the bundled demo); raises DataError listing every problem."""
    directory = Path(directory) if directory is not None else BUNDLED_HALL_DIR
    if not directory.is_dir():
        raise DataError([Problem(str(directory), None, None, "not a directory")])
    data, problems = _check_hall_dir(directory, catalogue)
    if problems or data is None:
        raise DataError(problems)
    return data


def check_path(path: Path, catalogue: Catalogue) -> list[Problem]:
    """Every problem in PATH (empty list = fine), for `bangban catalogue check PATH`.

    PATH is a hall directory, a hall.toml, a units.csv, a 事项清单 (.csv/.xlsx) or an office-guide file (.jsonl)
    whose ids must not collide with `catalogue`'s.
    """
    path = Path(path)
    shown = str(path)
    if path.is_dir():
        return _check_hall_dir(path, catalogue)[1]
    if not path.is_file():
        return [Problem(shown, None, None, "no such file or directory")]
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return _check_guides(path, catalogue)
    if suffix == ".toml":
        return _check_hall_file(path)[1]
    if suffix == ".xlsx":
        table, problems = _read_table(path)
        return problems if table is None else _check_listing_with_units(table, path, catalogue)
    if suffix == ".csv":
        table, problems = _read_table(path)
        if table is None:
            return problems
        kind = _table_kind(table)
        if kind == "units":
            return _check_units_table(table)[1]
        if kind == "list":
            return _check_listing_with_units(table, path, catalogue)
        return [Problem(shown, None, None,
                        f"neither a 帮办代办事项清单 (columns {'、'.join(LIST_COLUMNS)}) nor a units.csv "
                        f"(columns {'、'.join(UNIT_COLUMNS)}): no such header row found")]
    return [Problem(shown, None, None,
                    "don't know how to check this file: expected a hall directory, hall.toml, units.csv, "
                    "a 事项清单 .csv/.xlsx or an office-guide .jsonl")]


def _table_kind(table: _Table) -> str | None:
    for _, cells in table.rows[:50]:
        keys = {_header_key(c) for c in cells}
        if {C_NAME, C_FORMS} & keys and len(keys & set(LIST_COLUMNS)) >= 3:
            return "list"
        if U_PHONE in keys and len(keys & set(UNIT_COLUMNS)) >= 3:
            return "units"
    return None


def _check_listing_with_units(table: _Table, path: Path, catalogue: Catalogue) -> list[Problem]:
    """A 事项清单 alone; its units are checked against a units.csv next to it when there is one."""
    listing = _check_listing_table(table, ItemIndex(catalogue))
    problems = listing.problems
    units_path = path.parent / UNITS_FILE
    if units_path.is_file():
        units, unit_problems = _check_units_file(units_path)
        if not unit_problems:
            problems += _check_units_cover(listing, units, str(units_path))
    return problems


def _check_guides(path: Path, catalogue: Catalogue) -> list[Problem]:
    """An office-guide file to add to the catalogue: valid rows, and ids not already used by `catalogue`."""
    _, problems, _ = check_files([path])
    bundled = {p.resolve() for p in bundled_paths()}
    if path.resolve() in bundled:
        return problems  # a bundled file is part of the catalogue itself
    pairs, _, _ = read_items(path)
    for line, item in pairs:
        existing = catalogue.get(item.id)
        if existing is not None:
            problems.append(Problem(str(path), line, "id",
                                    f"id {item.id!r} is already used by the catalogue "
                                    f"(《{existing.title}》, {existing.source_file}); choose another id"))
    return sorted(problems, key=lambda p: (p.line or 0))
