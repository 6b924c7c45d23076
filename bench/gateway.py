"""The WeChat gateway under load, next to the least a wechatpy + Flask endpoint can do, in the same run.

    python bench/gateway.py [--workers 4] [--users 32] [--seconds 20] [--worker-class sync] [--threads 4]
                            [--think 0] [--rounds 3] [--clients 4] [--preload] [--profile] [--keep]
                            [--against DIR]

Needs PostgreSQL and Redis: DATABASE_URL=postgresql://... and REDIS_URL=redis://... (`CI=true bash .ci/run` starts
both and prints where). Starts two gunicorns with the same worker count and class: the app exactly as the Procfile
runs it (`bot:create_app()`, development WeChat credentials, a fresh PostgreSQL schema dropped afterwards) and
bench/echo_app.py (checks the signature, parses, echoes the text). Then drives each in turn with signed text
messages from `--users` citizens at once, each waiting for its answer before sending the next (closed loop), and
prints throughput, p50/p99 latency, their ratios, CPU per request, memory per worker and errors. Exit status 0
when the targets below are met, 1 when not.

The figure is the ratio: absolute times on a shared 2-core machine mean little. Targets (issue 3), at 32 users:
bangban's throughput ≥ 50% of the echo app's, its p99 ≤ 2× the echo app's.

The load comes from `--clients` processes (threads inside, one persistent HTTP connection per citizen; gunicorn's
sync workers close it after each answer, and http.client opens the next), so that the client's own GIL is not the
limit; its CPU is printed too, since on a small machine it shares the cores with the servers.

`--against DIR` also runs another checkout of bangban (`git worktree add DIR main`) in the same alternation and
prints this checkout's throughput over that one's, slice by slice: on a shared machine a neighbour moves a run's
figures by 10% and more, so a change is only told from noise when both versions take turns in one run.

Questions are built from the bundled catalogue's item names with colloquial phrasings around them, plus the
follow-ups, numbers and small talk of a real conversation — not the labelled question files.
"""
from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import multiprocessing
import os
import random
import re
import secrets
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the gunicorn launcher the tests use

DEV_TOKEN, ACCOUNT = "bangban-dev", "gh_bangban0000"
TARGET_THROUGHPUT, TARGET_P99 = 0.5, 2.0
STORE_PREFIX = "bangban:"  # bot/store.py RedisStore

# ---- what citizens write ------------------------------------------------------------------------------------------

# Ways people ask about an item, around its name (or a short everyday name for it).
ABOUT_ITEM = ["{}要带什么材料", "{}需要什么材料", "{}在哪里办", "{}去哪办", "怎么办{}", "我想办{}", "{}怎么弄",
              "请问{}要多久", "{}收费吗", "办{}要预约吗", "{}的电话是多少", "{}", "问一下{}", "{}能网上办吗",
              "帮我查下{}", "{}需要本人去吗"]
# How people name the common items themselves.
EVERYDAY = ["身份证丢了怎么补办", "结婚证怎么领", "离婚要带什么", "社保卡坏了去哪换", "小孩出生了怎么上户口",
            "公积金怎么取出来", "居住证怎么办", "低保怎么申请", "新房子装水表找谁", "出生证明丢了能补吗",
            "身份证快过期了怎么换", "户口本丢了", "结婚登记周末能办吗", "外地人能在这里办居住证吗",
            "退休了公积金怎么提", "生孩子要登记吗", "社保卡密码忘了", "营业执照怎么办", "驾驶证到期换证",
            "老人办低保要什么条件", "婚姻登记处在哪", "补办身份证多久能拿", "能不能帮我代办", "办证要排队吗"]
# What comes after an answer: follow-ups about the item, picking from a list, small talk.
FOLLOW_UPS = ["在哪办", "要带什么材料", "电话多少", "多久能办好", "要钱吗", "怎么预约", "几点上班", "可以寄过来吗",
              "材料清单", "详情", "预约"]
CHOICES = ["1", "2", "3", "第一个", "第二个"]
SMALL_TALK = ["你好", "谢谢", "好的谢谢", "帮助", "菜单", "在吗", "嗯", "？"]
HUMAN = "转人工"
# While waiting for a person the citizen adds a line or two (relayed to staff), then goes back to the assistant:
# nobody at a console answers during the run, and a citizen does not keep writing into an empty queue for ever.
WHILE_WAITING = ["我等一下", "麻烦快点", "好的"]
BACK_TO_BOT = "结束人工"


def item_names() -> tuple[list[str], list[str]]:
    """(the high-frequency guides' names, the provincial catalogue's names), without bracketed qualifiers."""
    directory = ROOT / "knowledge" / "data" / "catalogue"

    def names(path: Path) -> list[str]:
        found = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                name = re.sub(r"[（(][^）)]*[）)]", "", json.loads(line)["name"]).strip()
                if 2 <= len(name) <= 30:
                    found.append(name)
        return sorted(set(found))

    return names(directory / "guides-extra.jsonl"), names(directory / "gd-2021.jsonl")


def question_mix(seed: int, count: int = 4000) -> list[str]:
    """A shuffled list of `count` messages in realistic proportions."""
    rng = random.Random(seed)
    common, catalogue = item_names()
    out = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.25:
            out.append(rng.choice(ABOUT_ITEM).format(rng.choice(common)))
        elif roll < 0.40:
            out.append(rng.choice(ABOUT_ITEM).format(rng.choice(catalogue)))
        elif roll < 0.65:
            out.append(rng.choice(EVERYDAY))
        elif roll < 0.85:
            out.append(rng.choice(FOLLOW_UPS))
        elif roll < 0.92:
            out.append(rng.choice(CHOICES))
        elif roll < 0.99:
            out.append(rng.choice(SMALL_TALK))
        else:
            out += [HUMAN, *rng.sample(WHILE_WAITING, 2), BACK_TO_BOT]
    return out


# ---- the load -------------------------------------------------------------------------------------------------


def signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_push(user: str, content: str, msg_id: int) -> bytes:
    return (f"<xml><ToUserName>{cdata(ACCOUNT)}</ToUserName><FromUserName>{cdata(user)}</FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType>{cdata('text')}</MsgType>"
            f"<Content>{cdata(content)}</Content><MsgId>{msg_id}</MsgId></xml>").encode("utf-8")


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)  # answered requests, started inside the window
    late: int = 0  # answered "success": the turn went over the reply budget, its reply goes through the outbox
    errors: dict[str, int] = field(default_factory=dict)
    cpu_seconds: float = 0.0  # the client's own

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def add(self, other: "Tally") -> None:
        self.latencies_ms += other.latencies_ms
        self.late += other.late
        for kind, n in other.errors.items():
            self.errors[kind] = self.errors.get(kind, 0) + n
        self.cpu_seconds += other.cpu_seconds


def one_citizen(port: int, user: str, messages: list[str], msg_id: int, begin: float, end: float, think: float,
                tally: Tally, guard: threading.Lock) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    mine = Tally()
    pause = random.Random(msg_id)
    index = pause.randrange(len(messages))  # each citizen somewhere else in the mix, not all in step
    while time.monotonic() < begin:
        time.sleep(0.001)
    if think > 0:  # citizens who pause do not all start at the same instant either
        time.sleep(pause.uniform(0, think))
    while True:
        started = time.monotonic()
        if started >= end:
            break
        content = messages[index % len(messages)]
        index += 1
        msg_id += 1
        timestamp, nonce = str(int(time.time())), secrets.token_hex(6)
        path = f"/wechat?signature={signature(DEV_TOKEN, timestamp, nonce)}&timestamp={timestamp}&nonce={nonce}" \
               f"&openid={user}"
        try:
            connection.request("POST", path, body=text_push(user, content, msg_id),
                               headers={"Content-Type": "text/xml; charset=utf-8"})
            response = connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            mine.error(type(exc).__name__)
            time.sleep(0.01)
            continue
        elapsed = (time.monotonic() - started) * 1000
        if response.status != 200:
            mine.error(f"HTTP {response.status}")
        elif body == b"success":
            mine.late += 1
            mine.latencies_ms.append(elapsed)
        elif body.startswith(b"<xml>") and b"<MsgType><![CDATA[text]]></MsgType>" in body:
            mine.latencies_ms.append(elapsed)
        else:
            mine.error("not a text reply")
        if think > 0:  # reading the answer and typing the next message
            time.sleep(min(pause.expovariate(1 / think), max(0.0, end - time.monotonic())))
    connection.close()
    with guard:
        tally.add(mine)


def client_process(port: int, users: list[tuple[str, int, list[str]]], begin: float, end: float, think: float,
                   queue) -> None:
    """One load process: a thread per citizen; puts its Tally on the queue."""
    tally, guard = Tally(), threading.Lock()
    threads = [threading.Thread(target=one_citizen,
                                args=(port, user, messages, msg_id, begin, end, think, tally, guard))
               for user, msg_id, messages in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    times = os.times()
    tally.cpu_seconds = times.user + times.system
    queue.put(tally)


def drive(port: int, citizens: list[tuple[str, list[str]]], seconds: float, processes: int,
          think: float = 0.0) -> tuple[Tally, float]:
    """All citizens at once for `seconds`, each pausing `think` s on average between an answer and its next
    message; (tally, the window's length). Every call uses MsgIds never used before (a MsgId seen within five
    minutes is a retry: answered from the first answer, not worth measuring)."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    run = secrets.randbits(24) << 38  # then 14 bits of citizen, 24 of message: < 2**62, like WeChat's 64-bit ids
    rng = random.Random(secrets.randbits(32))
    plans = []
    for index, (user, messages) in enumerate(citizens):
        start = rng.randrange(len(messages))  # each citizen somewhere else in the mix
        plans.append((user, run | (index << 24), messages[start:] + messages[:start]))
    begin = time.monotonic() + 0.5  # every process started and connected
    end = begin + seconds
    shares = [plans[i::processes] for i in range(processes)]
    workers = [context.Process(target=client_process, args=(port, share, begin, end, think, queue))
               for share in shares if share]
    for worker in workers:
        worker.start()
    total = Tally()
    for _ in workers:
        total.add(queue.get(timeout=seconds + 120))
    for worker in workers:
        worker.join(timeout=30)
    return total, seconds


# ---- the servers ------------------------------------------------------------------------------------------------


def fail(message: str) -> None:
    print(f"bench/gateway.py: {message}", file=sys.stderr)
    raise SystemExit(2)


def services() -> tuple[str, str]:
    """(DATABASE_URL as SQLAlchemy wants it, REDIS_URL), both answering; or a clear message and exit 2."""
    how = ("it runs the app as in production: export DATABASE_URL=postgresql://user:password@127.0.0.1:5432/db and "
           "REDIS_URL=redis://127.0.0.1:6379/0 (`CI=true bash .ci/run` starts both and prints where)")
    raw_db, raw_redis = os.environ.get("DATABASE_URL", "").strip(), os.environ.get("REDIS_URL", "").strip()
    if not raw_db.startswith(("postgresql", "postgres")) or not raw_redis:
        fail(f"needs PostgreSQL and Redis; {how}")
    from bot.config import Config, ConfigError, redact_url

    try:
        config = Config.from_env({"DATABASE_URL": raw_db, "REDIS_URL": raw_redis})
    except ConfigError as exc:
        fail(str(exc))
    import redis
    from sqlalchemy import create_engine, text

    try:
        redis.Redis.from_url(config.redis_url, socket_connect_timeout=3).ping()
    except (redis.RedisError, OSError) as exc:
        fail(f"Redis at {redact_url(config.redis_url)} does not answer ({exc}); {how}")
    engine = create_engine(config.database_url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        fail(f"PostgreSQL at {redact_url(config.database_url)} does not answer ({type(exc).__name__}); {how}")
    finally:
        engine.dispose()
    return config.database_url, config.redis_url


class Schema:
    """A fresh PostgreSQL schema for the run (the app creates its tables there), dropped afterwards."""

    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        self.name = f"bench_{secrets.token_hex(5)}"
        self._text = text
        self.admin = create_engine(url)
        with self.admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{self.name}"'))
        self.url = make_url(url).update_query_dict({"options": f"-csearch_path={self.name}"}).render_as_string(
            hide_password=False)

    def counts(self) -> dict[str, int]:
        with self.admin.connect() as connection:
            return {table: connection.execute(self._text(f'SELECT count(*) FROM "{self.name}".{table}')).scalar_one()
                    for table in ("outbox_messages", "escalations", "outbox_user_windows")}

    def drop(self) -> None:
        with self.admin.begin() as connection:
            connection.execute(self._text(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE'))
        self.admin.dispose()


def server_env(**more: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("WECHAT_", "BANGBAN_", "DATABASE_", "REDIS_", "GUNICORN_", "WEB_CONCURRENCY"))}
    env.update(more)
    return env


def cpu_seconds(pids: list[int]) -> float:
    import psutil

    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def service_pids() -> list[int]:
    """Redis and PostgreSQL processes on this machine (their CPU is part of what a bangban request costs)."""
    import psutil

    return [p.info["pid"] for p in psutil.process_iter(["name", "pid"])
            if p.info["name"] in ("redis-server", "postgres")]


def rss_mb(pids: list[int]) -> list[float]:
    import psutil

    return [psutil.Process(pid).memory_info().rss / 2**20 for pid in pids]


def uss_mb(pids: list[int]) -> list[float]:
    import psutil

    return [psutil.Process(pid).memory_full_info().uss / 2**20 for pid in pids]


# ---- one run ----------------------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    tally: Tally
    seconds: float
    server_cpu: float
    service_cpu: float
    rss: list[float]
    uss: list[float]
    slices: list["Result"] = field(default_factory=list)  # each alternating slice on its own

    @property
    def answered(self) -> int:
        return len(self.tally.latencies_ms)

    @property
    def throughput(self) -> float:
        return self.answered / self.seconds

    def percentile(self, p: float) -> float:
        values = sorted(self.tally.latencies_ms)
        if not values:
            return float("nan")
        return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]

    @property
    def errors(self) -> int:
        return sum(self.tally.errors.values())


def measure(name: str, server, citizens, seconds: float, args, result: Result | None = None,
            profile: Path | None = None) -> Result:
    """One slice of `seconds` under load, added to `result`."""
    pids = server.worker_pids()
    others = service_pids() if name != "echo" else []
    before, before_services = cpu_seconds(pids), cpu_seconds(others)
    spy = start_profiler(pids[0], seconds, profile) if profile is not None else None
    tally, seconds = drive(server.port, citizens, seconds, args.clients, args.think)
    server_cpu, service_cpu = cpu_seconds(pids) - before, cpu_seconds(others) - before_services
    if spy is not None:
        spy.wait(timeout=60)
    if result is None:
        result = Result(name, Tally(), 0.0, 0.0, 0.0, [], [])
    result.slices.append(Result(name, tally, seconds, server_cpu, service_cpu, [], []))
    result.tally.add(tally)
    result.seconds += seconds
    result.server_cpu += server_cpu
    result.service_cpu += service_cpu
    result.rss, result.uss = rss_mb(pids), uss_mb(pids)
    return result


# ---- where the time goes ----------------------------------------------------------------------------------------


def start_profiler(pid: int, seconds: float, output: Path):
    """py-spy on one worker for one slice, sampling whichever thread holds the GIL (the worker's CPU in Python);
    collapsed stacks go to a file next to `output`."""
    import subprocess

    part = output.with_name(f"{output.name}.{time.monotonic_ns()}.txt")
    return subprocess.Popen(["py-spy", "record", "--pid", str(pid), "--duration", str(max(1, int(seconds))),
                             "--rate", "200", "--gil", "--format", "raw", "--output", str(part)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# What a sample is doing, by the first of these found anywhere in its stack.
STAGES = [
    ("consultation: matcher and decision (knowledge/)", ("knowledge/",)),
    ("database: the turn's transaction (sending window, effects, outbox)", ("TurnRunner._record", "Schema.ensure")),
    ("Redis: claim, lock, state, remembered reply (bot/store.py)", ("bot/store.py",)),
    ("dialogue engine (dialogs/)", ("dialogs/",)),
    ("push: signature, XML parsing, reply rendering (protocol.py)", ("bot/wechat/protocol.py",)),
    ("turn thread start and hand-over (turn.py, threading)", ("TurnJob", "threading.py", "concurrent/futures")),
    ("Flask and werkzeug", ("flask/", "werkzeug/")),
    ("gunicorn: sockets, HTTP parsing", ("gunicorn/",)),
]


def profile_summary(directory: Path, name: str, top: int = 15) -> None:
    """Where the profiled worker's CPU went: by stage of a request, and the functions that use it themselves."""
    stages: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for part in sorted(directory.glob(f"{name}.*.txt")):
        for line in part.read_text(encoding="utf-8", errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            frames = [frame for frame in stack.split(";") if not frame.startswith(("process ", "thread "))]
            if not frames:
                continue
            n = int(count)
            total += n
            stage = next((label for label, marks in STAGES if any(m in frame for frame in frames for m in marks)),
                         "other")
            stages[stage] = stages.get(stage, 0) + n
            own[frames[-1]] = own.get(frames[-1], 0) + n
    if not total:
        print("\nprofile: no samples (py-spy needs root or ptrace permission to attach)")
        return

    def short(frame: str) -> str:
        return re.sub(r"\(/\S*?/(site-packages|lib/python3\.\d+)/", "(", frame)

    print(f"\n# where one bangban worker's CPU goes ({total} samples of the thread holding the GIL, py-spy at "
          "200 Hz)\n")
    order = [label for label, _ in STAGES] + ["other"]
    table([[f"{stages.get(label, 0) / total:.1%}", label] for label in order], ["share", "stage"])
    print()
    table([[f"{n / total:.1%}", short(f)[:120]] for f, n in sorted(own.items(), key=lambda kv: -kv[1])[:top]],
          ["self", "function"])


# ---- the report ----------------------------------------------------------------------------------------------


def table(rows: list[list[str]], headers: list[str]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    line = "  ".join(f"{{:<{width}}}" for width in widths)
    print(line.format(*headers))
    print(line.format(*("-" * width for width in widths)))
    for row in rows:
        print(line.format(*row))


def report(echo: Result, app: Result, args, counts: dict[str, int] | None, messages: list[str]) -> bool:
    throughput_ratio = app.throughput / echo.throughput if echo.throughput else float("nan")
    p99_ratio = app.percentile(99) / echo.percentile(99) if echo.answered else float("nan")
    workers = f"{args.workers} × {args.worker_class}" + (f" ({args.threads} threads)" if args.worker_class ==
                                                         "gthread" else "")
    pace = f"pausing {args.think:g} s on average between messages" if args.think > 0 else "no pause between messages"
    print(f"\n# bench/gateway.py: {args.users} citizens at once ({pace}), {args.seconds:g} s each ({args.rounds} "
          f"alternating slices) after {args.warmup:g} s warm-up; gunicorn {workers} workers each; {os.cpu_count()} "
          f"CPUs; load from {args.clients} processes")
    distinct = len(set(messages))
    print(f"message mix: {len(messages)} messages, {distinct} different texts ({1 - distinct / len(messages):.0%} "
          "repeat an earlier one; each citizen starts at its own place in the mix)\n")

    def per_request_ms(seconds: float, result: Result) -> str:
        return f"{seconds * 1000 / result.answered:.2f}" if result.answered else "-"

    def mb(values: list[float]) -> str:
        return " ".join(f"{value:.0f}" for value in values)

    rows = [
        ["throughput (req/s)", f"{echo.throughput:.1f}", f"{app.throughput:.1f}", f"{throughput_ratio:.2f}",
         f"≥ {TARGET_THROUGHPUT:.2f}"],
        ["p50 latency (ms)", f"{echo.percentile(50):.1f}", f"{app.percentile(50):.1f}",
         f"{app.percentile(50) / echo.percentile(50):.2f}" if echo.answered else "-", ""],
        ["p99 latency (ms)", f"{echo.percentile(99):.1f}", f"{app.percentile(99):.1f}", f"{p99_ratio:.2f}",
         f"≤ {TARGET_P99:.2f}"],
        ["answered", str(echo.answered), str(app.answered), "", ""],
        ["  of which \"success\" (over the reply budget)", str(echo.tally.late), str(app.tally.late), "", ""],
        ["errors", str(echo.errors), str(app.errors), "", "0"],
        ["server CPU per answer (ms)", per_request_ms(echo.server_cpu, echo), per_request_ms(app.server_cpu, app),
         "", ""],
        ["Redis + PostgreSQL CPU per answer (ms, all of this machine's)", "-", per_request_ms(app.service_cpu, app), "", ""],
        ["load client CPU per answer (ms)", per_request_ms(echo.tally.cpu_seconds, echo),
         per_request_ms(app.tally.cpu_seconds, app), "", ""],
        ["RSS per worker (MB)", mb(echo.rss), mb(app.rss), "", ""],
        ["USS per worker (MB, not shared)", mb(echo.uss), mb(app.uss), "", ""],
    ]
    table(rows, ["", "echo", "bangban", "bangban/echo", "target"])
    if len(app.slices) > 1:  # how much a neighbour on a shared machine moved the figures from slice to slice
        print()
        table([[str(n), f"{e.throughput:.0f}", f"{a.throughput:.0f}", f"{a.throughput / e.throughput:.2f}",
                f"{e.percentile(99):.1f}", f"{a.percentile(99):.1f}", f"{a.percentile(99) / e.percentile(99):.2f}"]
               for n, (e, a) in enumerate(zip(echo.slices, app.slices), start=1) if e.answered and a.answered],
              ["slice", "echo req/s", "bangban req/s", "ratio", "echo p99 (ms)", "bangban p99 (ms)", "ratio"])
    for result in (echo, app):
        if result.tally.errors:
            print(f"\n{result.name} errors: " + ", ".join(f"{kind} × {n}" for kind, n in
                                                       sorted(result.tally.errors.items())))
    if counts is not None:
        print(f"\nbangban's database after the run: {counts['outbox_user_windows']} citizens' sending windows, "
              f"{counts['escalations']} escalations, {counts['outbox_messages']} outbox messages (replies after the "
              "first, or over the budget)")
    met = throughput_ratio >= TARGET_THROUGHPUT and p99_ratio <= TARGET_P99 and not app.errors
    print(f"\ntargets at {args.users} citizens (throughput ≥ {TARGET_THROUGHPUT:.0%} of echo, p99 ≤ "
          f"{TARGET_P99:g}× echo, no errors): {'MET' if met else 'MISSED'}")
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers for each app (default 4)")
    parser.add_argument("--worker-class", default="sync", choices=("sync", "gthread"),
                        help="gunicorn worker class for both apps (default sync, as the Procfile)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker (default 4)")
    parser.add_argument("--users", type=int, default=32, help="citizens writing at once (default 32)")
    parser.add_argument("--seconds", type=float, default=20, help="measured seconds for each app (default 20)")
    parser.add_argument("--warmup", type=float, default=3, help="unmeasured seconds before each (default 3)")
    parser.add_argument("--think", type=float, default=0.0,
                        help="mean pause (s) between an answer and the citizen's next message; default 0: as fast as "
                             "answered, which saturates both apps (the issue's measure)")
    parser.add_argument("--clients", type=int, default=4, help="load-generating processes (default 4)")
    parser.add_argument("--preload", action="store_true", help="gunicorn --preload for both (default: as Procfile)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternate echo and bangban this many times, splitting --seconds (default 3)")
    parser.add_argument("--profile", action="store_true",
                        help="sample one bangban worker with py-spy while it is measured and print where time goes")
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL schema and the server logs")
    parser.add_argument("--against", type=Path, metavar="DIR",
                        help="another checkout of bangban, measured in turn with this one: the change's effect")
    args = parser.parse_args(argv)
    if min(args.workers, args.users, args.clients, args.rounds, args.threads) < 1 or args.seconds <= 0 or \
            args.think < 0:
        parser.error("--workers, --users, --clients, --rounds, --threads must be at least 1 and --seconds positive")
    if args.users >= 2**14:
        parser.error("--users: at most 16383")
    if args.profile and shutil.which("py-spy") is None:
        parser.error("--profile needs py-spy: pip install py-spy")
    if args.against is not None and not (args.against / "bot" / "__init__.py").is_file():
        parser.error(f"--against {args.against}: not a checkout of bangban (no bot/__init__.py)")

    database_url, redis_url = services()
    from gunicorn_server import Gunicorn

    _forget_shared_consultations(redis_url)  # every run starts cold: no question matched by an earlier run

    run = secrets.token_hex(4)
    messages = question_mix(args.seed)
    citizens = [(f"oBench{run}{index:05d}{secrets.token_hex(7)}"[:28], messages) for index in range(args.users)]
    # --against: the other checkout talks with citizens of its own (the two share Redis)
    base_citizens = [(f"oBase{user[5:]}"[:28], texts) for user, texts in citizens]
    directory = Path(tempfile.mkdtemp(prefix="bangban-bench-"))
    schema = Schema(database_url)
    base_schema = Schema(database_url) if args.against is not None else None

    extra = ("--preload",) if args.preload else ()
    common = dict(workers=args.workers, worker_class=args.worker_class,
                  threads=args.threads if args.worker_class == "gthread" else 1, access_log=False, extra=extra)
    echo = Gunicorn("echo_app:create_app()", server_env(), directory / "echo", cwd=ROOT / "bench", **common)
    # As in production, but with the development credentials (they sign the pushes) and so without the simulator.
    app = Gunicorn("bot:create_app()", server_env(DATABASE_URL=schema.url, REDIS_URL=redis_url,
                                                  BANGBAN_DATA_DIR=str(directory / "data"), BANGBAN_SIMULATOR="off"),
                   directory / "bangban", cwd=ROOT, **common)
    base = None if base_schema is None else Gunicorn(
        "bot:create_app()", server_env(DATABASE_URL=base_schema.url, REDIS_URL=redis_url,
                                       BANGBAN_DATA_DIR=str(directory / "base-data"), BANGBAN_SIMULATOR="off"),
        directory / "against", cwd=args.against.resolve(), **common)
    servers = (echo, app) if base is None else (echo, app, base)
    counts = None
    profile = directory / "profile" if args.profile else None
    try:
        try:
            print(f"starting gunicorn × {len(servers)} ({args.workers} {args.worker_class} workers each) ...",
                  file=sys.stderr)
            for server in servers:
                server.start()
            for server in servers:
                server.wait_until_ready(timeout=120)
            print(f"running {args.users} citizens for {args.warmup:g} + {args.seconds:g} s against each ...",
                  file=sys.stderr)
            if args.warmup > 0:
                for server in servers:
                    drive(server.port, base_citizens if server is base else citizens, args.warmup, args.clients,
                          args.think)
            echo_result = app_result = base_result = None
            slice_seconds = args.seconds / args.rounds
            for index in range(args.rounds):  # alternating: a neighbour's load on a shared machine hits all alike
                echo_result = measure("echo", echo, citizens, slice_seconds, args, echo_result)
                if base is not None and index % 2:  # the two versions take turns going first
                    base_result = measure("against", base, base_citizens, slice_seconds, args, base_result)
                app_result = measure("bangban", app, citizens, slice_seconds, args, app_result, profile)
                if base is not None and not index % 2:
                    base_result = measure("against", base, base_citizens, slice_seconds, args, base_result)
            counts = schema.counts()
        finally:
            for server in servers:
                server.stop()
            _forget(redis_url, citizens + base_citizens)
            if not args.keep:
                for dropped in (schema, base_schema):
                    if dropped is not None:
                        dropped.drop()
        for server in servers:
            if "Traceback" in server.log():
                print(f"\n{server.log_path} has a traceback:\n{server.log()[-3000:]}", file=sys.stderr)
        met = report(echo_result, app_result, args, counts, messages)
        if base_result is not None:
            compare(echo_result, app_result, base_result, args.against)
        if profile is not None:
            profile_summary(directory, profile.name)
    finally:
        if args.keep:
            print(f"kept: PostgreSQL schema {schema.name}, logs and profiles under {directory}", file=sys.stderr)
        else:
            shutil.rmtree(directory, ignore_errors=True)
    return 0 if met else 1


def compare(echo: Result, app: Result, base: Result, against: Path) -> None:
    """This checkout against the other one, slice by slice (each slice: the two ran one after the other)."""
    def cpu(result: Result) -> str:
        return f"{result.server_cpu * 1000 / result.answered:.2f}" if result.answered else "-"

    print(f"\n# this checkout against {against}: throughput over its throughput, and server CPU per answer (ms)\n")
    rows = [[str(number), f"{e.throughput:.0f}", f"{a.throughput:.0f}", f"{b.throughput:.0f}",
             f"{a.throughput / b.throughput:.2f}" if b.throughput else "-", cpu(e), cpu(a), cpu(b)]
            for number, (e, a, b) in enumerate(zip(echo.slices, app.slices, base.slices), start=1)]
    rows.append(["all", f"{echo.throughput:.0f}", f"{app.throughput:.0f}", f"{base.throughput:.0f}",
                 f"{app.throughput / base.throughput:.2f}" if base.throughput else "-", cpu(echo), cpu(app), cpu(base)])
    table(rows, ["slice", "echo req/s", "this req/s", "against req/s", "this/against", "echo CPU", "this CPU",
                 "against CPU"])
    ratio = base.throughput / echo.throughput if echo.throughput else float("nan")
    p99 = base.percentile(99) / echo.percentile(99) if echo.answered else float("nan")
    print(f"\nagainst/echo: throughput {ratio:.2f}, p99 {p99:.2f}; errors against: {base.errors}")


def _forget(redis_url: str, citizens) -> None:
    """Delete what the run left in Redis: the citizens' state and locks (claims expire within minutes)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        keys = [f"{STORE_PREFIX}{kind}:{user}" for user, _ in citizens for kind in ("state", "lock")]
        client.delete(*keys)
    finally:
        client.close()


def _forget_shared_consultations(redis_url: str) -> None:
    """Delete the consultations the workers share (bot/shared_consultations.py): a cache, rebuilt as it is used."""
    import redis

    from bot.shared_consultations import PREFIX

    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{PREFIX}*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start:start + 1000])
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(main())
