"""The citizen's own cases as the flows show them (查进度, 改约, 取消预约): numbers, lines, details, slot times.

Only `env.cases()` (through `Ctx.cases`) is ever looked in, so a number that belongs to someone else reads exactly
like one that does not exist: NOT_YOURS.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date, time
from typing import TYPE_CHECKING, Sequence

from ..parse import choice_number
from ..recognise import Parsed, date_text
from ..text import shorten
from . import Ctx, Option, pick

if TYPE_CHECKING:
    from ..views import CaseView

FLOWS = ()  # a helper, not a flow

NOT_YOURS = "没有找到您名下的这个编号：{number}。\n请核对编号，或回复“查进度”看您的全部办件。"
SHOWN = 9  # cases listed at most; older ones by number

_CASE_NUMBER = re.compile(r"BB\s*[-—_－]?\s*(\d{8})\s*[-—_－]?\s*(\d{1,6})(?!\d)", re.IGNORECASE)


def find_case_number(text: str | None) -> str | None:
    """The case number in a message, as the case database writes it: "bb20261122-7" → "BB20261122-0007"."""
    match = _CASE_NUMBER.search(unicodedata.normalize("NFKC", text or ""))
    return f"BB{match.group(1)}-{int(match.group(2)):04d}" if match else None


def own_case(ctx: Ctx, number: str, cases: "Sequence[CaseView] | None" = None) -> "CaseView | None":
    """The citizen's case with this number (written any way), or None: not theirs, or no such case."""
    wanted = find_case_number(number)
    return next((c for c in (ctx.cases() if cases is None else cases) if find_case_number(c.number) == wanted),
                None) if wanted else None


def ordered(cases: "Sequence[CaseView]") -> "list[CaseView]":
    """Open cases first, each group newest first (env.cases() is newest first)."""
    return sorted(cases, key=lambda c: c.closed)


def clock(moment: time) -> str:
    """9:00, and in the afternoon 1:30 as people say it ("下午1:30")."""
    hour = moment.hour - 12 if moment.hour > 12 else moment.hour
    return f"{hour}:{moment.minute:02d}"


def slot_text(day: date, start: time, end: time) -> str:
    """"12月3日（周四）上午9:00-9:30", "12月3日（周四）下午1:30-2:00"."""
    part = "上午" if start.hour < 12 else "下午"
    return f"{date_text(day)}{part}{clock(start)}-{clock(end)}"


def case_line(case: "CaseView") -> str:
    """One case in a numbered list: "居住证申领（办理中）BB20261122-0007"."""
    return f"{shorten(case.item_title, 20)}（{case.state}）{case.number}"


def case_options(cases: "Sequence[CaseView]") -> list[Option]:
    return [Option(c.number, case_line(c)) for c in cases[:SHOWN]]


def pick_case(text: str, cases: "Sequence[CaseView]") -> Parsed:
    """A case from the numbered list, by number in the list or by its case number (any of the citizen's)."""
    number = find_case_number(text)
    if number:
        found = next((c for c in cases if find_case_number(c.number) == number), None)
        return Parsed(found.number) if found else Parsed(reason=NOT_YOURS.format(number=number))
    said = choice_number(text)
    if said and not said[1]:
        return pick(text, case_options(cases))
    return Parsed(reason=f"请回复数字1到{min(len(cases), SHOWN)}，或者直接输入编号。")


def details(case: "CaseView") -> str:
    """Everything the citizen may see of one case, and what they can do with it."""
    lines = [f"【{case.item_title}】", f"编号：{case.number}", f"状态：{case.state}"]
    if case.next_step:
        lines.append(f"下一步：{case.next_step}")
    if case.holder:
        lines.append(f"经办：{case.holder}")
    if case.due_date and not case.closed:
        lines.append(f"办理期限：{date_text(case.due_date)}前")
    if case.appointment:
        a = case.appointment
        lines.append(f"预约：{slot_text(a.day, a.start, a.end)}" + (f"（{case.form}）" if case.form else ""))
    elif case.form:
        lines.append(f"方式：{case.form}")
    if not case.closed:
        if case.appointment:
            lines.append(f"改约回复“改约 {case.number}”，取消回复“取消预约 {case.number}”。")
        else:
            lines.append(f"不办了回复“取消预约 {case.number}”。")
    lines.append("有疑问请回复“转人工”。")
    return "\n".join(lines)
