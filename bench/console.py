"""How quickly the staff console answers with a year's cases in the database.

    python bench/console.py [--cases 20000] [--database URL]

Fills a fresh database (default: a temporary SQLite file) with cases through the real transitions (opened,
accepted, submitted, most closed and rated, over twelve months and the hall's units), a queue of waiting
转人工, then logs in as a clerk and times the pages a clerk opens all day. Prints a table; asserts nothing.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

HALL = ZoneInfo("Asia/Shanghai")
RUNS = 15


def fill(app, cases: int) -> str:
    from bot.cases import service
    from bot.cases.units import hall_unit_names
    from bot.escalations import WAITING, Escalation
    from bot.evaluations import record_rating
    from dialogs.workdays import Calendar

    svc = app.extensions["bangban"]
    hall = svc.parts["knowledge_base"].hall
    units = hall_unit_names(hall)
    calendar = Calendar()
    rng = random.Random(7)
    start = datetime(2025, 12, 1, 9, tzinfo=HALL)
    last = None
    batch = 500
    for first in range(0, cases, batch):
        with svc.sessions.begin() as session:
            for _ in range(min(batch, cases - first)):
                opened = start + timedelta(days=rng.randrange(355), minutes=rng.randrange(480))
                case = service.open_case(
                    session, applicant=service.ApplicantDetails(kind="个人", name="张三丰", phone="13812345678"),
                    openid=f"oBench{rng.randrange(10**9):09d}", item_id=None, item_title="居民身份证换领",
                    catalogue_version=None, unit_name=rng.choice(units), form="代办", promised_limit="5个工作日",
                    calendar=calendar, channel="微信", now=opened)
                last = case.number
                if rng.random() < 0.9:
                    moment = opened + timedelta(hours=20)
                    service.move(session, case, "accept", {"routing": "单部门"}, actor="system", calendar=calendar,
                                 now=moment)
                    service.move(session, case, "submit", {}, actor="system", calendar=calendar, now=moment)
                    if rng.random() < 0.85:
                        done = moment + timedelta(days=rng.randrange(1, 9))
                        service.move(session, case, "finish", {"result": "已办结", "delivery": "自取"},
                                     actor="system", calendar=calendar, now=done)
                        if rng.random() < 0.7:
                            record_rating(session, case, rng.choice([1, 1, 1, 2, 2, 3, 4, 5]), None, "微信", done,
                                          calendar=calendar)
    with svc.sessions.begin() as session:
        for index in range(30):
            session.add(Escalation(openid=f"oWait{index:05d}", item_id=None, catalogue_version=None, reason="asked",
                                   last_question="我的事情办好了吗", status=WAITING, priority=index % 7 == 0,
                                   created_at=datetime.now(HALL) - timedelta(minutes=index)))
    return last


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20000)
    parser.add_argument("--database", help="a database URL (default: a temporary SQLite file)")
    args = parser.parse_args()

    from bot.cases.models import ADMIN
    from staff_helpers import add_staff, console_app, login

    with tempfile.TemporaryDirectory() as directory:
        environ = {"DATABASE_URL": args.database} if args.database else {}
        app = console_app(Path(directory), **environ)
        began = time.perf_counter()
        number = fill(app, args.cases)
        filled = time.perf_counter() - began
        add_staff(app, "bench-admin", "区公安分局", ADMIN)
        client = app.test_client()
        login(client, "bench-admin")
        month = datetime.now(HALL).strftime("%Y-%m")
        pages = [("queue", "/staff/queue"), ("queue.json (every 5 s)", "/staff/queue.json"),
                 ("cases, first page", "/staff/cases"), ("cases, overdue only", "/staff/cases?overdue=1"),
                 ("one case", f"/staff/cases/{number}"), ("ledger, first page", "/staff/ledger"),
                 ("statistics of a month", f"/staff/statistics?month={month}"),
                 ("statistics .xlsx", f"/staff/statistics.xlsx?month={month}"), ("overdue", "/staff/overdue"),
                 ("follow-ups", "/staff/follow-ups")]
        print(f"{args.cases:,} cases filled in {filled:.1f} s ({app.extensions['bangban'].engine.dialect.name}); "
              f"{RUNS} requests per page after one warm-up\n")
        print(f"| {'page':<26} | {'status':>6} | {'median ms':>9} | {'p95 ms':>7} | {'KB':>6} |")
        print(f"| {'-' * 26} | {'-' * 6} | {'-' * 9} | {'-' * 7} | {'-' * 6} |")
        for name, path in pages:
            response = client.get(path)
            times = []
            for _ in range(RUNS):
                t0 = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - t0) * 1000)
            times.sort()
            p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
            print(f"| {name:<26} | {response.status_code:>6} | {statistics.median(times):>9.1f} | {p95:>7.1f} | "
                  f"{len(response.data) / 1024:>6.1f} |")
        app.extensions["bangban"].engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
