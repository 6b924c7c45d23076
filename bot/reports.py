"""The hall's reports: 台账 (seed 003 附件4), 办件统计表 (附件8, monthly, due on the 25th) and 超期 (overdue cases).

Pure queries and builders: a SQLAlchemy session in, rows or .xlsx bytes out; no Flask. The console
(bot/staff/reports.py) and `bangban report monthly` (bot/reportcli.py) call them.

Days are the hall's days (Asia/Shanghai): a month, a 申请日期 or a date filter is a range of hall-local time.

**Which cases count in a month's 办件统计表** (`monthly_statistics`), per handling unit (Case.unit_id; a case is
counted once, under the unit handling it, also when it is an 一件事 led by another unit):

- 办结数量: cases closed as 已办结 within the month (closed_at in the month);
- 在办数量: cases accepted (accepted_at) before the month's end and still open at the month's end (not closed, or
  closed only after the month) — the cases a unit carries into the next month, whenever they were accepted;
- 受理数量 = 在办数量 + 办结数量 (附件8 说明1), by construction: the cases the unit handled in the month, i.e.
  those accepted this month or carried over from earlier months, minus those 终止 (a 终止 case is neither 在办
  nor 办结; the console shows how many were left out). Cases never accepted (待甄别, 待补正, 不予受理) do not count.
  The console also shows how many of the 受理 were accepted in the month itself (本月新受理).
- 满意度 = (非常满意 + 满意 + 基本满意) ÷ 办结数量 × 100% (附件8 说明2): over the month's 办结 cases, counting the
  ratings recorded so far (a rating given after the month's end still counts for the month the case was closed);
  an unrated 办结 case counts in the divisor, not in the numerator. Rounded half-up to 0.1%; no 办结: "—".

Why not "受理 = accepted in the month, 在办/办结 = of those": a case accepted in one month and finished in the next
would then never appear as 办结 in any month, and a case open for three months would vanish from the second
month's report. With the rule above every 办结 is counted exactly once (in the month it is finished) and every open
case appears each month until it is finished.
"""
from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Callable, Iterable, Sequence

from sqlalchemy import and_, case as when, func, or_, select
from sqlalchemy.orm import Session

from dialogs.workdays import Calendar

from .cases import states as s
from .cases.masking import mask_name, mask_phone
from .cases.models import ENTERPRISE, RATINGS, SATISFIED, AuditEntry, Case, Evaluation, FollowUp, Staff, Unit
from .cases.service import HALL_TIME_ZONE, hall_today

DUE_DAY = 25  # 附件8 说明3: reported on the 25th of every month
NO_UNIT = "（未指定单位）"
DASH = "—"
STATISTICS_TITLE = "帮办代办服务事项办件统计表"
LEDGER_TITLE = "帮办代办工作登记台账"
_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")


# ---- days and months ------------------------------------------------------------------------------------------

def parse_month(text: str | None) -> tuple[int, int]:
    """"2026-11" -> (2026, 11); ValueError with a one-line message otherwise."""
    match = _MONTH.match(text or "")
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise ValueError(f"月份应为 YYYY-MM，例如 2026-11（收到“{text or ''}”）")
    return int(match.group(1)), int(match.group(2))


def month_text(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def hall_midnight(day: date) -> datetime:
    """The start of a hall day as an aware datetime (compared with UTC columns, it converts itself)."""
    return datetime.combine(day, time(0), tzinfo=HALL_TIME_ZONE)


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """[start, end) of a month in hall time."""
    following = date(year + (month == 12), month % 12 + 1, 1)
    return hall_midnight(date(year, month, 1)), hall_midnight(following)


def previous_month(today: date) -> tuple[int, int]:
    first = today.replace(day=1) - timedelta(days=1)
    return first.year, first.month


def next_due_date(today: date) -> date:
    """The next 25th (today when it is the 25th): when the 办件统计表 is reported."""
    if today.day <= DUE_DAY:
        return today.replace(day=DUE_DAY)
    following = today.replace(day=1) + timedelta(days=32)
    return following.replace(day=DUE_DAY)


def local(moment: datetime | None) -> datetime | None:
    """A UTC datetime as hall-local wall time, naive (for a page or a spreadsheet cell)."""
    return moment.astimezone(HALL_TIME_ZONE).replace(tzinfo=None) if moment is not None else None


def local_date(moment: datetime | None) -> date | None:
    return moment.astimezone(HALL_TIME_ZONE).date() if moment is not None else None


# ---- 办件统计表 (附件8) ---------------------------------------------------------------------------------------

def percent(satisfied: int, done: int) -> Decimal | None:
    """satisfied ÷ done × 100, rounded half-up to one decimal; None when done is 0."""
    if not done:
        return None
    return (Decimal(satisfied) * 100 / Decimal(done)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class UnitStatistics:
    unit_id: int | None
    unit: str
    accepted: int = 0  # 受理数量 = open + done
    open: int = 0  # 在办数量
    done: int = 0  # 办结数量
    satisfied: int = 0  # 办结 cases rated 非常满意 / 满意 / 基本满意
    rated: int = 0  # 办结 cases with a rating
    new: int = 0  # of `accepted`, accepted within the month
    terminated: int = 0  # accepted cases 终止 within the month (not counted)

    @property
    def carried(self) -> int:
        """Of `accepted`, accepted before the month (上月结转)."""
        return self.accepted - self.new

    @property
    def satisfaction(self) -> Decimal | None:
        return percent(self.satisfied, self.done)

    @property
    def satisfaction_text(self) -> str:
        value = self.satisfaction
        return DASH if value is None else f"{value}%"

    @property
    def remark(self) -> str:
        """附件8's 备注: how the 受理 splits, and what was not counted."""
        if not self.accepted and not self.terminated:
            return ""
        parts = [f"本月新受理{self.new}件，上月结转{self.carried}件"]
        if self.done:
            parts.append(f"办结已评价{self.rated}件")
        if self.terminated:
            parts.append(f"终止{self.terminated}件不计入")
        return "；".join(parts)


@dataclass(frozen=True)
class MonthlyStatistics:
    year: int
    month: int
    rows: tuple[UnitStatistics, ...]
    total: UnitStatistics

    @property
    def month_text(self) -> str:
        return month_text(self.year, self.month)

    @property
    def title_month(self) -> str:
        return f"{self.year}年{self.month}月"


def monthly_statistics(session: Session, year: int, month: int, *, unit_id: int | None = None,
                       include_empty: bool = True) -> MonthlyStatistics:
    """附件8 for one month, one row per unit (the hall's units in their order, then cases of no unit), and a total.
    The counting rules are in the module docstring. `include_empty`: also units with nothing to report."""
    start, end = month_bounds(year, month)
    done_in_month = and_(Case.state == s.DONE, Case.closed_at >= start, Case.closed_at < end)
    open_at_end = or_(Case.closed_at.is_(None), Case.closed_at >= end)
    counted = or_(open_at_end, done_in_month)
    terminated = and_(Case.state == s.TERMINATED, Case.closed_at >= start, Case.closed_at < end)
    one = lambda condition: func.coalesce(func.sum(when((condition, 1), else_=0)), 0)  # noqa: E731
    query = (select(Case.unit_id,
                    one(counted).label("accepted"),
                    one(open_at_end).label("open"),
                    one(done_in_month).label("done"),
                    one(and_(done_in_month, Evaluation.rating.in_(SATISFIED))).label("satisfied"),
                    one(and_(done_in_month, Evaluation.id.is_not(None))).label("rated"),
                    one(and_(counted, Case.accepted_at >= start)).label("new"),
                    one(terminated).label("terminated"))
             .select_from(Case).outerjoin(Evaluation, Evaluation.case_id == Case.id)
             .where(Case.accepted_at.is_not(None), Case.accepted_at < end,
                    or_(Case.closed_at.is_(None), Case.closed_at >= start))
             .group_by(Case.unit_id))
    if unit_id is not None:
        query = query.where(Case.unit_id == unit_id)
    found = {row.unit_id: row for row in session.execute(query)}
    units = session.execute(select(Unit.id, Unit.name).order_by(Unit.id)).all()
    if unit_id is not None:
        units = [u for u in units if u.id == unit_id]
    rows: list[UnitStatistics] = []
    for ident, name in [(u.id, u.name) for u in units] + [(None, NO_UNIT)]:
        row = found.get(ident)
        if row is None:
            if include_empty and ident is not None:
                rows.append(UnitStatistics(ident, name))
            continue
        rows.append(UnitStatistics(ident, name, accepted=int(row.accepted), open=int(row.open), done=int(row.done),
                                   satisfied=int(row.satisfied), rated=int(row.rated), new=int(row.new),
                                   terminated=int(row.terminated)))
    rows = [r for r in rows if include_empty or r.accepted or r.terminated]
    total = UnitStatistics(None, "合计", **{name: sum(getattr(r, name) for r in rows) for name in
                                          ("accepted", "open", "done", "satisfied", "rated", "new", "terminated")})
    return MonthlyStatistics(year, month, tuple(rows), total)


# ---- 台账 (附件4) ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LedgerFilter:
    """申请日期 from/to (hall days, inclusive), the handling or leading unit, the state, words of the item's name."""

    start: date | None = None
    end: date | None = None
    unit_id: int | None = None
    state: str | None = None
    item: str | None = None

    def describe(self, unit_names: dict[int, str] | None = None) -> str:
        parts = []
        if self.start or self.end:
            parts.append(f"申请日期 {self.start or '…'} 至 {self.end or '…'}")
        if self.unit_id is not None:
            parts.append(f"单位 {(unit_names or {}).get(self.unit_id, self.unit_id)}")
        if self.state:
            parts.append(f"状态 {self.state}")
        if self.item:
            parts.append(f"事项含“{self.item}”")
        return "；".join(parts) or "全部"


# The 台账 lists the cases registered in it: seed 003 registers a case when the window accepts it.
LEDGER_STATES = (s.ACCEPTED, s.IN_PROGRESS, s.DONE, s.TERMINATED)


@dataclass(frozen=True)
class UnitFlow:
    """相关单位流转情况: a unit's 受理日期 / 办结日期."""

    unit: str
    accepted_on: date | None
    closed_on: date | None


@dataclass(frozen=True)
class LedgerRow:
    case_id: int
    number: str
    state: str
    applied_on: date  # 申请日期
    applicant: str  # 申请人姓名及电话 (masked unless the viewer may see it)
    item: str  # 帮办代办事项名称
    receiver: str  # 帮办代办窗口收件人姓名: who accepted it at the window (else the assigned clerk)
    flows: tuple[UnitFlow, ...]  # 相关单位流转情况
    feedback_at: datetime | None  # 帮办代办窗口反馈时间 (hall-local): when the citizen was told, else closed
    rating: str  # 评价情况
    remark: str  # 备注
    masked: bool


@dataclass(frozen=True)
class LedgerPage:
    rows: tuple[LedgerRow, ...]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def ledger_query(flt: LedgerFilter):
    query = select(Case, Evaluation).outerjoin(Evaluation, Evaluation.case_id == Case.id).where(
        Case.accepted_at.is_not(None))
    if flt.start is not None:
        query = query.where(Case.created_at >= hall_midnight(flt.start))
    if flt.end is not None:
        query = query.where(Case.created_at < hall_midnight(flt.end + timedelta(days=1)))
    if flt.unit_id is not None:
        query = query.where(or_(Case.unit_id == flt.unit_id, Case.lead_unit_id == flt.unit_id))
    if flt.state:
        query = query.where(Case.state == flt.state)
    if flt.item and flt.item.strip():
        query = query.where(Case.item_title.contains(flt.item.strip(), autoescape=True))
    return query


def ledger_rows(session: Session, flt: LedgerFilter, may_see: Callable[[Case], bool], *, page: int = 1,
                per_page: int | None = 50, newest_first: bool = True) -> LedgerPage:
    """One page of the 台账 (per_page None: all of it). `may_see(case)`: whether the viewer may see the case's
    personal data (bot/staff/auth.may_see_personal); otherwise names and phones are masked and 备注 omits the
    citizen's own words."""
    query = ledger_query(flt)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    order = (Case.created_at.desc(), Case.id.desc()) if newest_first else (Case.created_at, Case.id)
    query = query.order_by(*order)
    page = max(1, page)
    if per_page is not None:
        query = query.offset((page - 1) * per_page).limit(per_page)
    found = session.execute(query).all()
    receivers = _receivers(session, [c.id for c, _ in found])
    units = {ident: name for ident, name in session.execute(select(Unit.id, Unit.name))}
    rows = tuple(_ledger_row(c, e, receivers, units, may_see(c)) for c, e in found)
    return LedgerPage(rows, total, page, per_page or max(total, 1))


def _receivers(session: Session, case_ids: Sequence[int]) -> dict[int, str]:
    """The staff member who accepted each case (its audit entry 'accept'), by name."""
    if not case_ids:
        return {}
    found: dict[int, int] = {}
    for case_id, actor in session.execute(select(AuditEntry.case_id, AuditEntry.actor).where(
            AuditEntry.case_id.in_(case_ids), AuditEntry.action == "accept").order_by(AuditEntry.id)):
        if actor.startswith("staff:") and actor[6:].isdigit():
            found.setdefault(case_id, int(actor[6:]))
    names = {ident: name for ident, name in session.execute(
        select(Staff.id, Staff.name).where(Staff.id.in_(set(found.values()))))} if found else {}
    return {case_id: names[staff_id] for case_id, staff_id in found.items() if staff_id in names}


def applicant_text(case: Case, reveal: bool) -> str:
    """申请人姓名及电话: the name (an enterprise's with its 经办人) and a phone, masked unless `reveal`."""
    person = case.applicant
    shown: Callable[[str | None], str] = (lambda text: text or "") if reveal else mask_name
    name = shown(person.name)
    if person.kind == ENTERPRISE and person.agent_name:
        name += f"（经办人{shown(person.agent_name)}）"
    phone = person.phone or person.agent_phone
    return f"{name} {(phone or '') if reveal else mask_phone(phone)}".strip()


def _ledger_row(case: Case, evaluation: Evaluation | None, receivers: dict[int, str], units: dict[int, str],
                reveal: bool) -> LedgerRow:
    flows = [UnitFlow(case.unit.name if case.unit else NO_UNIT, local_date(case.accepted_at),
                      local_date(case.closed_at) if case.state == s.DONE else None)]
    remark = [case.number]
    if case.state != s.DONE:
        remark.append(case.state)
    if case.state == s.TERMINATED and case.termination_kind:
        remark.append(f"终止：{case.termination_kind}")
    if case.lead_unit_id is not None and case.lead_unit_id != case.unit_id:
        remark.append(f"牵头部门：{units.get(case.lead_unit_id, '')}")
    if case.involved_units:
        remark.append(f"涉及部门：{case.involved_units}")
    if case.tracking_no:
        remark.append(f"快递单号：{case.tracking_no}")
    if reveal and case.note:
        remark.append(case.note.strip())
    receiver = receivers.get(case.id) or (case.assigned_staff.name if case.assigned_staff else "")
    feedback = case.citizen_told_at or case.closed_at
    return LedgerRow(case_id=case.id, number=case.number, state=case.state, applied_on=local_date(case.created_at),
                     applicant=applicant_text(case, reveal), item=case.item_title, receiver=receiver,
                     flows=tuple(flows), feedback_at=local(feedback),
                     rating=RATINGS[evaluation.rating] if evaluation else "", remark="；".join(remark),
                     masked=not reveal)


# ---- 超期 ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OverdueCase:
    case_id: int
    number: str
    item: str
    state: str
    due_step: str | None
    due_date: date
    workdays_over: int  # working days past the deadline, today included
    days_over: int  # calendar days
    assigned: str


@dataclass(frozen=True)
class OverdueUnit:
    unit_id: int | None
    unit: str
    cases: tuple[OverdueCase, ...] = field(default=())


def overdue_cases(session: Session, today: date, calendar: Calendar, *, unit_id: int | None = None
                  ) -> list[OverdueUnit]:
    """Open cases whose current step's deadline (a working day) is before today, by unit, most overdue first.
    待补正 has no deadline (the clock waits for the citizen), so it is never overdue."""
    query = select(Case).where(Case.state.in_(s.OPEN_STATES), Case.due_date.is_not(None), Case.due_date < today)
    if unit_id is not None:
        query = query.where(Case.unit_id == unit_id)
    by_unit: dict[int | None, list[OverdueCase]] = {}
    names: dict[int | None, str] = {}
    for case in session.scalars(query.order_by(Case.due_date, Case.id)):
        names[case.unit_id] = case.unit.name if case.unit else NO_UNIT
        by_unit.setdefault(case.unit_id, []).append(OverdueCase(
            case.id, case.number, case.item_title, case.state, case.due_step, case.due_date,
            calendar.workdays_between(case.due_date, today), (today - case.due_date).days,
            case.assigned_staff.name if case.assigned_staff else ""))
    return sorted((OverdueUnit(u, names[u], tuple(c)) for u, c in by_unit.items()),
                  key=lambda g: (-len(g.cases), g.unit))


def open_follow_up_count(session: Session, unit_id: int | None = None) -> int:
    query = select(func.count(FollowUp.id)).where(FollowUp.closed_at.is_(None))
    if unit_id is not None:
        query = query.where(FollowUp.unit_id == unit_id)
    return session.scalar(query) or 0


# ---- .xlsx ---------------------------------------------------------------------------------------------------

def _workbook():
    from openpyxl import Workbook

    return Workbook()


def _styles():
    from openpyxl.styles import Alignment, Border, Font, Side

    thin = Side(style="thin", color="808080")
    return {"bold": Font(bold=True), "title": Font(bold=True, size=16),
            "center": Alignment(horizontal="center", vertical="center", wrap_text=True),
            "wrap": Alignment(vertical="top", wrap_text=True),
            "border": Border(left=thin, right=thin, top=thin, bottom=thin)}


def _save(book) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


LEDGER_COLUMNS = (  # (header, sub-header under 相关单位流转情况, width)
    ("序号", None, 6), ("申请日期", None, 12), ("申请人姓名及电话", None, 22), ("帮办代办事项名称", None, 34),
    ("帮办代办窗口收件人姓名", None, 14), ("相关单位流转情况", "单位", 20), ("相关单位流转情况", "受理日期", 12),
    ("相关单位流转情况", "办结日期", 12), ("帮办代办窗口反馈时间", None, 17), ("评价情况", None, 11),
    ("备注", None, 40),
)
DATE_FORMAT, DATETIME_FORMAT = "yyyy-mm-dd", "yyyy-mm-dd hh:mm"


def ledger_workbook(rows: Iterable[LedgerRow], *, description: str = "", made_at: datetime | None = None) -> bytes:
    """附件4 as a spreadsheet: title, two header rows (相关单位流转情况 over 单位 / 受理日期 / 办结日期) in bold and
    frozen, real dates, the 说明 of the seed below. A case handled by several units has one line per unit."""
    from openpyxl.utils import get_column_letter

    st = _styles()
    book = _workbook()
    sheet = book.active
    sheet.title = "台账"
    width = len(LEDGER_COLUMNS)
    sheet.cell(1, 1, LEDGER_TITLE).font = st["title"]
    sheet.cell(1, 1).alignment = st["center"]
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    made = local(made_at) if made_at else None
    sheet.cell(2, 1, f"筛选：{description or '全部'}" + (f"    导出时间：{made:%Y-%m-%d %H:%M}" if made else ""))
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    flow_cols = [i for i, (head, sub, _) in enumerate(LEDGER_COLUMNS, 1) if sub]
    for column, (head, sub, chars) in enumerate(LEDGER_COLUMNS, 1):
        top = sheet.cell(3, column, head if column == flow_cols[0] or not sub else None)
        bottom = sheet.cell(4, column, sub)
        for cell in (top, bottom):
            cell.font, cell.alignment, cell.border = st["bold"], st["center"], st["border"]
        if not sub:
            sheet.merge_cells(start_row=3, start_column=column, end_row=4, end_column=column)
        sheet.column_dimensions[get_column_letter(column)].width = chars
    sheet.merge_cells(start_row=3, start_column=flow_cols[0], end_row=3, end_column=flow_cols[-1])
    line = 5
    for number, row in enumerate(rows, 1):
        for flow in row.flows or (UnitFlow("", None, None),):
            values = (number, row.applied_on, row.applicant, row.item, row.receiver, flow.unit, flow.accepted_on,
                      flow.closed_on, row.feedback_at, row.rating, row.remark)
            for column, value in enumerate(values, 1):
                cell = sheet.cell(line, column, value)
                cell.border, cell.alignment = st["border"], st["wrap"]
                if isinstance(value, datetime):
                    cell.number_format = DATETIME_FORMAT
                elif isinstance(value, date):
                    cell.number_format = DATE_FORMAT
            line += 1
    sheet.freeze_panes = "A5"
    line += 1
    for note in ("说明：1.“相关单位流转情况”涉及多部门（单位）办理时，请分别填写其受理日期和办结日期。",
                 "　　　2.评价情况分为：非常满意、满意、基本满意、不满意、非常不满意。"):
        sheet.cell(line, 1, note)
        line += 1
    sheet.print_title_rows = "3:4"
    sheet.page_setup.orientation = "landscape"
    return _save(book)


STATISTICS_COLUMNS = (("序号", 6), ("单位名称", 30), ("受理数量", 11), ("在办数量", 11), ("办结数量", 11),
                      ("满意度", 11), ("备注", 44))


def statistics_workbook(stats: MonthlyStatistics, *, reporting_unit: str = "", filled_on: date | None = None
                        ) -> bytes:
    """附件8 as a spreadsheet: title, a row with 填报单位 / 统计月份 / 填报日期, the two header rows (帮办代办服务事项情况
    over 受理数量 / 在办数量 / 办结数量 / 满意度) bold and frozen, one row per unit, 合计, then the seed's 说明.
    满意度 is a number (0.667) shown as 66.7%; "—" when nothing was 办结."""
    from openpyxl.utils import get_column_letter

    st = _styles()
    book = _workbook()
    sheet = book.active
    sheet.title = stats.month_text
    width = len(STATISTICS_COLUMNS)
    sheet.cell(1, 1, STATISTICS_TITLE).font = st["title"]
    sheet.cell(1, 1).alignment = st["center"]
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    filled = filled_on or date.today()
    sheet.cell(2, 1, f"填报单位：{reporting_unit}")
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=2)
    sheet.cell(2, 3, f"统计月份：{stats.title_month}")
    sheet.merge_cells(start_row=2, start_column=3, end_row=2, end_column=5)
    sheet.cell(2, 6, f"填报日期：{filled.year}年{filled.month}月{filled.day}日")
    sheet.merge_cells(start_row=2, start_column=6, end_row=2, end_column=7)
    for column, (head, chars) in enumerate(STATISTICS_COLUMNS, 1):
        in_group = 3 <= column <= 6
        top = sheet.cell(3, column, "帮办代办服务事项情况" if column == 3 else (None if in_group else head))
        bottom = sheet.cell(4, column, head if in_group else None)
        for cell in (top, bottom):
            cell.font, cell.alignment, cell.border = st["bold"], st["center"], st["border"]
        if not in_group:
            sheet.merge_cells(start_row=3, start_column=column, end_row=4, end_column=column)
        sheet.column_dimensions[get_column_letter(column)].width = chars
    sheet.merge_cells(start_row=3, start_column=3, end_row=3, end_column=6)
    line = 5
    for number, row in enumerate(list(stats.rows) + [stats.total], 1):
        is_total = row is stats.total
        satisfaction = row.satisfaction
        values = (None if is_total else number, row.unit, row.accepted, row.open, row.done,
                  DASH if satisfaction is None else float(satisfaction / 100), row.remark)
        for column, value in enumerate(values, 1):
            cell = sheet.cell(line, column, value)
            cell.border = st["border"]
            cell.alignment = st["wrap"] if column in (2, 7) else st["center"]
            if is_total:
                cell.font = st["bold"]
        if satisfaction is not None:
            sheet.cell(line, 6).number_format = "0.0%"
        line += 1
    sheet.freeze_panes = "A5"
    line += 1
    for note in ("说明：1.受理数量=在办数量+办结数量。",
                 "　　　2.满意度=“非常满意”“满意”“基本满意”评价件数之和/总办结数*100%。",
                 f"　　　3.请于每月{DUE_DAY}日反馈至市政务服务局帮办代办窗口。",
                 "　　　4.受理数量为本月办结及月末仍在办的件数（含上月结转，不含终止）；办结数量为本月办结件数。"):
        sheet.cell(line, 1, note)
        sheet.merge_cells(start_row=line, start_column=1, end_row=line, end_column=width)
        line += 1
    return _save(book)


# ---- text table for the terminal -----------------------------------------------------------------------------

def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * max(0, width - display_width(text))
    return gap + text if right else text + gap


def statistics_text(stats: MonthlyStatistics) -> str:
    """The table aligned for a terminal (CJK characters count two columns)."""
    head = ("单位名称", "受理数量", "在办数量", "办结数量", "满意度")
    lines = [(r.unit, str(r.accepted), str(r.open), str(r.done), r.satisfaction_text)
             for r in list(stats.rows) + [stats.total]]
    widths = [max(display_width(x[i]) for x in [head, *lines]) for i in range(len(head))]
    out = [f"{STATISTICS_TITLE}  {stats.title_month}"]
    for k, cells in enumerate([head, *lines]):
        if k == len(lines):  # before the total
            out.append("  ".join("-" * w for w in widths))
        out.append("  ".join(_pad(c, widths[i], right=i > 0) for i, c in enumerate(cells)).rstrip())
    out.append(f"受理数量 = 在办数量 + 办结数量；满意度 = (非常满意+满意+基本满意) ÷ 办结数量 × 100%；每月{DUE_DAY}日报送。")
    return "\n".join(out)


__all__ = ["parse_month", "month_bounds", "monthly_statistics", "MonthlyStatistics", "UnitStatistics", "percent",
           "LedgerFilter", "LedgerRow", "LedgerPage", "ledger_rows", "ledger_workbook", "statistics_workbook",
           "statistics_text", "overdue_cases", "OverdueCase", "OverdueUnit", "next_due_date", "LEDGER_STATES",
           "hall_today"]
