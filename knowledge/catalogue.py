"""Load office guides (JSON lines) into an immutable, versioned Catalogue.

Two row layouts are accepted, both as published: the provincial catalogue export (`consult_phone`, `url`,
`online_booking` ...) and the richer office-guide layout (`phone`, `fee`, `faq`, `source` ...). Every problem is
reported with file, line and field; nothing half-valid is loaded.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Iterable

from .model import Catalogue, Item
from .problems import DataError, Problem

BUNDLED_DIR = Path(__file__).parent / "data" / "catalogue"
BUNDLED_FILES = ("gd-2021.jsonl", "guides-extra.jsonl")

_TEXT, _TEXT_LIST, _INT, _BOOL = "text", "list of texts", "whole number", "true/false"

# field in the file -> (field of Item, kind, required)
_FIELDS: dict[str, tuple[str, str, bool]] = {
    "id": ("id", _TEXT, True),
    "name": ("name", _TEXT, True),
    "unit": ("unit", _TEXT, True),
    "sub_item": ("sub_item", _TEXT, False),
    "catalogue_name": ("catalogue_name", _TEXT, False),
    "level": ("level", _TEXT, False),
    "region": ("region", _TEXT, False),
    "item_type": ("item_type", _TEXT, False),
    "categories": ("categories", _TEXT_LIST, False),
    "audience": ("audience", _TEXT_LIST, False),
    "promised_limit": ("promised_limit", _TEXT, False),
    "legal_limit": ("legal_limit", _TEXT, False),
    "conditions": ("conditions", _TEXT, False),
    "materials": ("materials", _TEXT_LIST, False),
    "location": ("location", _TEXT, False),
    "consult_phone": ("phone", _TEXT, False),
    "phone": ("phone", _TEXT, False),
    "complaint_phone": ("complaint_phone", _TEXT, False),
    "fee": ("fee", _TEXT, False),
    "faq": ("faq", _TEXT, False),
    "visits_required": ("visits_required", _INT, False),
    "online_booking": ("online_booking", _BOOL, False),
    "mail_delivery": ("mail_delivery", _BOOL, False),
    "joint_units": ("joint_units", _TEXT, False),
    "platform": ("platform", _TEXT, False),
    "service_form": ("service_form", _TEXT, False),
    "url": ("url", _TEXT, False),
    "source": ("url", _TEXT, False),
}


def _check_value(kind: str, value: object) -> tuple[object, str | None]:
    """Return (cleaned value, problem or None)."""
    if value is None:
        return None, None
    if kind == _TEXT:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            return None, f"should be {kind}, got {type(value).__name__}"
        value = value.strip()
        return (value or None), None
    if kind == _TEXT_LIST:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return None, f"should be {kind}"
        return tuple(v.strip() for v in value if v.strip()), None
    if kind == _INT:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            return None, f"should be {kind} (0 or more)"
        return value, None
    if kind == _BOOL:
        if not isinstance(value, bool):
            return None, f"should be {kind}"
        return value, None
    raise AssertionError(kind)


def parse_row(row: object, path: str, line: int) -> tuple[Item | None, list[Problem]]:
    """Validate one decoded JSON row."""
    if not isinstance(row, dict):
        return None, [Problem(path, line, None, "each line must be one JSON object {...}")]
    problems: list[Problem] = []
    values: dict[str, object] = {}
    for key, raw in row.items():
        spec = _FIELDS.get(key)
        if spec is None:
            problems.append(Problem(path, line, key, f"unknown field (known: {', '.join(sorted(_FIELDS))})"))
            continue
        attr, kind, _ = spec
        value, problem = _check_value(kind, raw)
        if problem:
            problems.append(Problem(path, line, key, problem))
        elif value is not None:
            values[attr] = value
    for key, (attr, _, required) in _FIELDS.items():
        if required and attr not in values and not any(p.field == key for p in problems):
            problems.append(Problem(path, line, key, "required, missing or empty"))
    if problems:
        return None, problems
    return Item(source_file=Path(path).name, **values), []


def read_items(path: Path) -> tuple[list[tuple[int, Item]], list[Problem], bytes]:
    """Read one JSON-lines file; returns (line, item) pairs, problems and the raw bytes (for the version)."""
    shown = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return [], [Problem(shown, None, None, f"cannot read file: {exc.strerror}")], b""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return [], [Problem(shown, line, None, "not UTF-8 text; save the file as UTF-8")], data
    items: list[tuple[int, Item]] = []
    problems: list[Problem] = []
    for number, raw_line in enumerate(text.split("\n"), start=1):  # U+2028 may be inside a string
        if not raw_line.strip():
            continue
        try:
            row = json.loads(raw_line)
        except json.JSONDecodeError as exc:
            problems.append(Problem(shown, number, None, f"not valid JSON ({exc.msg}, column {exc.colno})"))
            continue
        item, row_problems = parse_row(row, shown, number)
        problems.extend(row_problems)
        if item:
            items.append((number, item))
    return items, problems, data


def check_files(paths: Iterable[Path]) -> tuple[list[Item], list[Problem], str]:
    """Validate files together (ids must be unique across all of them). Returns items, problems, version."""
    items: list[Item] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    digest = hashlib.sha256()
    for path in paths:
        path = Path(path)
        file_items, file_problems, data = read_items(path)
        digest.update(path.name.encode() + b"\0" + data)
        problems.extend(file_problems)
        for number, item in file_items:
            if item.id in seen:
                problems.append(Problem(str(path), number, "id", f"duplicate id {item.id!r}, first in {seen[item.id]}"))
                continue
            seen[item.id] = f"{path.name}:{number}"
            items.append(item)
    return items, problems, digest.hexdigest()[:12]


def load_catalogue(paths: Iterable[Path] | None = None) -> Catalogue:
    """Load and validate; raises DataError listing every problem. Default: the bundled catalogue."""
    paths = list(paths) if paths is not None else bundled_paths()
    items, problems, digest = check_files(paths)
    if not items and not problems:
        problems.append(Problem(", ".join(str(p) for p in paths), None, None, "no items found"))
    if problems:
        raise DataError(problems)
    return Catalogue(version=f"{len(items)}@{digest}", items=tuple(items))


def bundled_paths() -> list[Path]:
    return [BUNDLED_DIR / name for name in BUNDLED_FILES]
