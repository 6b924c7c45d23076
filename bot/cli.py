"""The `bangban` command line for operators and for measuring.

    bangban serve [--host H] [--port P]       run the assistant on this machine (with the simulator)
    bangban chat [--user ID] [--url URL]      talk to it as a WeChat user would, in the terminal
    bangban ask "问题"                        print exactly what a citizen would read
    bangban match [--top K] [--json]          questions on stdin -> one JSON object per line
    bangban catalogue check PATH ...          check office guides, a 事项清单, contacts, a hall or lexicon folder
    bangban worker [--once]                   deliver the outbox (customer-service messages) through WeChat
    bangban wechat menu push [--file F] [--dry-run]   publish the custom menu (bot/data/menu.json)
    bangban db upgrade|current|revision       the case database's migrations (bot/dbcli.py)
    bangban staff add NAME --unit U --role R  a console account (also: staff list, staff password USER)
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from knowledge.problems import DataError

from sqlalchemy.exc import SQLAlchemyError

from .config import Config, ConfigError
from .db import SchemaError


def _knowledge_base():
    from .knowledge_base import load_knowledge_base

    return load_knowledge_base(Config.from_env())


def cmd_ask(args: argparse.Namespace) -> int:
    from dialogs.consult import reply

    base = _knowledge_base()
    consultation = base.knowledge.consult(" ".join(args.question))
    print(reply(consultation, base.knowledge.catalogue, base.hall))
    return 0


def cmd_match(args: argparse.Namespace) -> int:
    from knowledge.service import load_knowledge

    config = Config.from_env()
    knowledge = load_knowledge(extra_guides=config.catalogue_paths)
    for line in sys.stdin:
        question = line.strip()
        if not question:
            continue
        result = knowledge.consult(question, top=args.top)
        hits = [{"id": h.id, "name": h.name, "score": h.score} for h in result.hits[: max(args.top, 1)]]
        print(json.dumps({"q": question, "decision": result.decision.kind, "hits": hits}, ensure_ascii=False),
              flush=True)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from knowledge.catalogue import load_catalogue
    from knowledge.decide import load_thresholds
    from knowledge.hall import check_path
    from knowledge.lexicon import load_lexicon

    catalogue = load_catalogue()
    count = 0
    for raw in args.paths:
        path = Path(raw)
        if not path.exists():
            print(f"{path}: no such file or folder", file=sys.stderr)
            count += 1
            continue
        try:
            if path.is_dir() and (path / "aliases.txt").exists():
                load_lexicon(path)
                found = []
            elif path.suffix == ".toml" and path.name != "hall.toml":
                load_thresholds(path)
                found = []
            else:
                found = check_path(path, catalogue)
        except DataError as exc:
            found = exc.problems
        for problem in found:
            print(problem)
        count += len(found)
        if not found:
            print(f"{path}: ok")
    if count:
        print(f"{count} problem(s) found.", file=sys.stderr)
        return 1
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from .serve import serve

    return serve(Config.from_env(), args.host, args.port, worker=not args.no_worker)


def cmd_chat(args: argparse.Namespace) -> int:
    from .chat import run_chat

    return run_chat(Config.from_env(), user=args.user, url=args.url)


def cmd_worker(args: argparse.Namespace) -> int:
    from .worker import run_worker

    return run_worker(Config.from_env(), once=args.once)


def cmd_menu_push(args: argparse.Namespace) -> int:
    from .menu import push_menu

    return push_menu(Config.from_env(), args.file, dry_run=args.dry_run)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bangban", description="帮办代办 WeChat assistant")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the assistant on this machine (SQLite, no Redis needed)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5000)
    serve.add_argument("--no-worker", action="store_true",
                       help="do not deliver the outbox in this process (run `bangban worker` instead)")
    serve.set_defaults(func=cmd_serve)

    chat = sub.add_parser("chat", help="talk to the assistant as a WeChat user, in the terminal (the simulator)")
    chat.add_argument("--user", help="the simulated OpenID, sim-… (default: a new one)")
    chat.add_argument("--url", help="a running server, e.g. http://127.0.0.1:5000 (default: in this process)")
    chat.set_defaults(func=cmd_chat)

    ask = sub.add_parser("ask", help="print exactly what a citizen would read for a question")
    ask.add_argument("question", nargs="+")
    ask.set_defaults(func=cmd_ask)

    match = sub.add_parser("match", help="rank items for questions read from stdin, one JSON object per line")
    match.add_argument("--top", type=int, default=5, help="hits per question (default 5)")
    match.add_argument("--json", action="store_true", help="JSON lines output (the default and only format)")
    match.set_defaults(func=cmd_match)

    catalogue = sub.add_parser("catalogue", help="published data")
    catalogue_sub = catalogue.add_subparsers(dest="catalogue_command", required=True)
    check = catalogue_sub.add_parser("check", help="check files and folders; prints every problem, exit 1 if any")
    check.add_argument("paths", nargs="+")
    check.set_defaults(func=cmd_check)

    worker = sub.add_parser("worker", help="deliver the outbox through WeChat's customer-service message API")
    worker.add_argument("--once", action="store_true", help="send what is due now, then exit")
    worker.set_defaults(func=cmd_worker)

    wechat = sub.add_parser("wechat", help="the public account on WeChat's side")
    wechat_sub = wechat.add_subparsers(dest="wechat_command", required=True)
    menu = wechat_sub.add_parser("menu", help="the custom menu")
    menu_sub = menu.add_subparsers(dest="menu_command", required=True)
    push = menu_sub.add_parser("push", help="check the menu file and publish it")
    push.add_argument("--file", help="a menu file instead of the bundled bot/data/menu.json")
    push.add_argument("--dry-run", action="store_true", help="only check the file and show the menu")
    push.set_defaults(func=cmd_menu_push)
    from .staff.commands import add_staff_commands

    add_staff_commands(sub)
    from .reportcli import add_report_commands; add_report_commands(sub)  # noqa: E702 - bangban report monthly
    from .dbcli import add_db_commands; add_db_commands(sub)  # noqa: E702 - bangban db upgrade|current|revision
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except DataError as exc:
        print(f"data error:\n{exc}", file=sys.stderr)
        return 2
    except (SchemaError, SQLAlchemyError) as exc:  # the database: one line, never a traceback or a password
        from .config import redact_url

        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]
        try:
            reason = reason.replace(Config.from_env().database_url, redact_url(Config.from_env().database_url))
        except ConfigError:
            pass
        print(f"database error: {type(exc).__name__}: {reason}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
