"""台账, 办件统计表 and 超期 pages of the staff console (queries and spreadsheets in bot/reports.py).

    GET /staff/ledger            ledger              台账 (seed 003 附件4): filters 申请日期 from/to, unit, state, item
    GET /staff/ledger.xlsx       ledger_xlsx         the same rows (same filters, all pages) as a spreadsheet
    GET /staff/statistics        statistics          办件统计表 (附件8) of ?month=YYYY-MM (default: last month)
    GET /staff/statistics.xlsx   statistics_xlsx     the same, laid out like 附件8
    GET /staff/overdue           overdue             open cases past their step's deadline, by unit

Every logged-in staff member may open them. The 台账 shows a case's names and phones only to those who may see
its personal data (auth.may_see_personal: the handling or leading unit, the assigned clerk, 管理员); everyone else
sees them masked, on the page and in the spreadsheet alike. The statistics and overdue pages hold no personal data.
"""
from __future__ import annotations

from datetime import date

from flask import Response, flash, render_template, request, url_for
from sqlalchemy import select

from .. import reports
from ..cases.models import Case, Staff, Unit
from ..cases.service import calendar_for, hall_today
from ..db import utcnow
from . import NAV, staff
from .auth import current_staff, db_session, login_required, may_see_personal

PER_PAGE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHART_WIDTH = 420  # px of the longest bar

if ("staff.overdue", "超期") not in NAV:
    NAV.append(("staff.overdue", "超期"))


def hall():
    from ..app import services

    return services().parts["knowledge_base"].hall


def case_url(number: str) -> str | None:
    """The case page's address, when the console has case pages (bot/staff/cases.py)."""
    from flask import current_app

    return url_for("staff.case", number=number) if "staff.case" in current_app.view_functions else None


def viewer_may_see(person: Staff):
    def may_see(case: Case) -> bool:
        return may_see_personal(person, (case.unit_id, case.lead_unit_id), case.assigned_staff_id)

    return may_see


def units_of(session) -> list[tuple[int, str]]:
    return [(ident, name) for ident, name in session.execute(select(Unit.id, Unit.name).order_by(Unit.id))]


def _day(name: str, problems: list[str]) -> date | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        problems.append(f"日期“{raw}”看不懂，应为 2026-11-01 这样的格式；已忽略。")
        return None


def ledger_filter() -> tuple[reports.LedgerFilter, list[str]]:
    problems: list[str] = []
    start, end = _day("start", problems), _day("end", problems)
    unit = request.args.get("unit", "").strip()
    state = request.args.get("state", "").strip()
    if state and state not in reports.LEDGER_STATES:
        problems.append(f"状态“{state}”不在台账里；已忽略。")
        state = ""
    return reports.LedgerFilter(start=start, end=end, unit_id=int(unit) if unit.isdigit() else None,
                                state=state or None, item=(request.args.get("item") or "").strip() or None), problems


def _page() -> int:
    raw = request.args.get("page", "1")
    return max(1, int(raw)) if raw.isdigit() else 1


@staff.route("/ledger")
@login_required()
def ledger():
    me = current_staff()
    flt, problems = ledger_filter()
    for problem in problems:
        flash(problem, "error")
    with db_session() as session:
        page = reports.ledger_rows(session, flt, viewer_may_see(me), page=_page(), per_page=PER_PAGE)
        units = units_of(session)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("staff/ledger.html", page=page, flt=flt, units=units, states=reports.LEDGER_STATES,
                           args=args, export_url=url_for("staff.ledger_xlsx", **args), case_url=case_url)


@staff.route("/ledger.xlsx")
@login_required()
def ledger_xlsx():
    me = current_staff()
    flt, _ = ledger_filter()
    with db_session() as session:
        page = reports.ledger_rows(session, flt, viewer_may_see(me), per_page=None, newest_first=False)
        names = dict(units_of(session))
    data = reports.ledger_workbook(page.rows, description=flt.describe(names), made_at=utcnow())
    today = hall_today(utcnow())
    return _xlsx(data, f"帮办代办工作登记台账_{today:%Y%m%d}.xlsx")


def _month() -> tuple[int, int]:
    raw = request.args.get("month")
    if raw:
        try:
            return reports.parse_month(raw)
        except ValueError as exc:
            flash(f"{exc}；显示上个月。", "error")
    return reports.previous_month(hall_today(utcnow()))


def _statistics(unit_id: int | None):
    year, month = _month()
    with db_session() as session:
        stats = reports.monthly_statistics(session, year, month, unit_id=unit_id)
        units = units_of(session)
    return stats, units


def _unit_arg() -> int | None:
    raw = (request.args.get("unit") or "").strip()
    return int(raw) if raw.isdigit() else None


@staff.route("/statistics")
@login_required()
def statistics():
    unit_id = _unit_arg()
    stats, units = _statistics(unit_id)
    today = hall_today(utcnow())
    top = max([r.accepted for r in stats.rows] + [1])
    bars = [(r, round(r.open * CHART_WIDTH / top), round(r.done * CHART_WIDTH / top))
            for r in stats.rows if r.accepted]
    args = {"month": stats.month_text, **({"unit": unit_id} if unit_id else {})}
    return render_template("staff/statistics.html", stats=stats, units=units, unit_id=unit_id, bars=bars,
                           chart_width=CHART_WIDTH, due=reports.next_due_date(today), today=today,
                           due_day=reports.DUE_DAY, export_url=url_for("staff.statistics_xlsx", **args))


@staff.route("/statistics.xlsx")
@login_required()
def statistics_xlsx():
    unit_id = _unit_arg()
    stats, units = _statistics(unit_id)
    names = dict(units)
    reporting = names.get(unit_id) if unit_id else hall().hall.name
    data = reports.statistics_workbook(stats, reporting_unit=reporting or "", filled_on=hall_today(utcnow()))
    return _xlsx(data, f"帮办代办服务事项办件统计表_{stats.month_text}.xlsx")


OVERDUE_SHOWN = 50  # rows per unit on the page, the longest overdue first; the case list pages through all


@staff.route("/overdue")
@login_required()
def overdue():
    unit_id = _unit_arg()
    today = hall_today(utcnow())
    with db_session() as session:
        groups = reports.overdue_cases(session, today, calendar_for(hall()), unit_id=unit_id)
        units = units_of(session)
    return render_template("staff/overdue.html", groups=groups, units=units, unit_id=unit_id, today=today,
                           count=sum(len(g.cases) for g in groups), case_url=case_url, shown=OVERDUE_SHOWN)


def _xlsx(data: bytes, filename: str) -> Response:
    from urllib.parse import quote

    response = Response(data, mimetype=XLSX)
    ascii_name = filename.encode("ascii", "ignore").decode() or "report.xlsx"
    response.headers["Content-Disposition"] = (f"attachment; filename=\"{ascii_name.lstrip('_')}\"; "
                                               f"filename*=UTF-8''{quote(filename)}")
    response.headers["Cache-Control"] = "no-store"
    return response
