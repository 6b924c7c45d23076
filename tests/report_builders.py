"""Cases with chosen dates for the report tests, made through the real transitions (bot/cases/service.py).

`november(session)` builds the hand-computed month of tests/test_reports.py (November 2026, hall time):

    区公安分局   a1 accepted 10-20, 办结 11-05, 满意        -> 办结, satisfied (carried over from October)
                a2 accepted 11-03, 办结 11-10, 非常不满意   -> 办结
                a3 accepted 11-12, 办结 11-30 23:30, 基本满意 -> 办结, satisfied (last half hour of the month)
                a4 accepted 11-20, 办理中                  -> 在办
                a5 accepted 10-10, 办结 12-01 00:10        -> 在办 (open at the month's end; UTC says 11-30)
                a6 accepted 11-05, 终止 11-15              -> not counted (终止 1)
                a7 accepted 09-01, 办结 10-15              -> not counted (finished before)
                a8 opened 11-25, 待甄别                    -> not counted (never accepted)
                a9 accepted 12-01 09:00                    -> not counted (after)
                a10 accepted 11-30 23:50, 已受理            -> 在办 (UTC says 11-30 15:50)
      => 受理 6 = 在办 3 + 办结 3; 满意度 2/3 = 66.7%; 本月新受理 4 (a2 a3 a4 a10), 结转 2 (a1 a5)
    区民政局     b1 accepted 11-02, 办结 11-09, no rating   -> 办结
                b2 accepted 11-02, 办结 11-16, 非常满意     -> 办结, satisfied
      => 受理 2 = 在办 0 + 办结 2; 满意度 1/2 = 50.0%
    合计 受理 8 = 在办 3 + 办结 5; 满意度 3/5 = 60.0%
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.cases import service
from bot.cases import states as s
from bot.cases.models import Case
from bot.evaluations import record_rating
from dialogs.workdays import Calendar

HALL = ZoneInfo("Asia/Shanghai")
CALENDAR = Calendar()
POLICE, CIVIL = "区公安分局", "区民政局"


def at(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=HALL)


def make_case(session: Session, unit: str | None, *, opened: datetime, accepted: datetime | None = None,
              finished: datetime | None = None, terminated: datetime | None = None, title: str = "居民身份证换领",
              name: str = "张三丰", phone: str = "13812345678", note: str | None = None,
              actor: str = "system", rating: int | None = None, told: datetime | None = None) -> Case:
    case = service.open_case(session, applicant=service.ApplicantDetails(kind="个人", name=name, phone=phone),
                             openid=None, item_id=None, item_title=title, catalogue_version=None, unit_name=unit,
                             form="代办", promised_limit="5个工作日", calendar=CALENDAR, channel="窗口", note=note,
                             actor=actor, now=opened)
    if accepted is not None:
        service.move(session, case, "accept", {"routing": "单部门"}, actor=actor, calendar=CALENDAR, now=accepted)
        service.move(session, case, "submit", {}, actor=actor, calendar=CALENDAR, now=accepted)
    if finished is not None:
        service.move(session, case, "finish", {"result": "已办结，结果已领取", "delivery": "自取"}, actor=actor,
                     calendar=CALENDAR, now=finished)
        case.citizen_told_at = told
    if terminated is not None:
        service.move(session, case, "terminate", {"termination_kind": s.TERMINATION_KINDS[0],
                                                  "reason": "申请人要求终止"}, actor=actor, calendar=CALENDAR,
                     now=terminated)
    if rating is not None:
        record_rating(session, case, rating, None, "微信", (finished or opened), calendar=CALENDAR)
    session.flush()
    return case


def november(session: Session, actor: str = "system") -> dict[str, Case]:
    def make(key, unit, opened, **kw):
        cases[key] = make_case(session, unit, opened=opened, actor=actor, title=f"事项{key}", **kw)

    cases: dict[str, Case] = {}
    make("a1", POLICE, at(10, 19), accepted=at(10, 20), finished=at(11, 5), rating=2)
    make("a2", POLICE, at(11, 2), accepted=at(11, 3), finished=at(11, 10), rating=5)
    make("a3", POLICE, at(11, 11), accepted=at(11, 12), finished=at(11, 30, 23, 30), rating=3)
    make("a4", POLICE, at(11, 19), accepted=at(11, 20))
    make("a5", POLICE, at(10, 9), accepted=at(10, 10), finished=at(12, 1, 0, 10))
    make("a6", POLICE, at(11, 4), accepted=at(11, 5), terminated=at(11, 15))
    make("a7", POLICE, at(8, 31), accepted=at(9, 1), finished=at(10, 15), rating=1)
    make("a8", POLICE, at(11, 25))
    make("a9", POLICE, at(11, 30, 16), accepted=at(12, 1, 9))
    make("a10", POLICE, at(11, 30, 23, 40), accepted=at(11, 30, 23, 50))
    make("b1", CIVIL, at(11, 1), accepted=at(11, 2), finished=at(11, 9))
    make("b2", CIVIL, at(11, 1), accepted=at(11, 2), finished=at(11, 16), rating=1)
    return cases
