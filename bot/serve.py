"""`bangban serve`: the assistant on this machine, with nothing to configure.

With no settings it runs on SQLite and the embedded conversation store under ./instance, with the development
WeChat credentials, the simulator at /simulator, and an outbox worker in a background thread of the same process,
so that late replies really go outbox → worker → WeChat's customer-service API. With the development credentials
that API is the simulator's fake inside this very server (`Config.api_base`), so the page shows them.

The worker thread runs in development or embedded mode (the development credentials, or no REDIS_URL: one process
anyway); a deployment with Redis and real credentials runs `bangban worker` (the Procfile's worker: line) instead.

`LocalServer` runs an app on a loopback port in a thread of this process (for `bangban chat` and the tests).
"""
from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from .config import Config

log = logging.getLogger(__name__)


def url_of(host: str, port: int) -> str:
    """The http:// address a browser on this machine uses for a server bound to host:port."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def runs_worker(config: "Config") -> bool:
    """Whether `bangban serve` delivers the outbox itself: in development or embedded mode."""
    return config.development_credentials or config.redis_url is None


class OutboxThread:
    """An outbox worker (bot/worker.py) in a daemon thread of this process."""

    def __init__(self, app: "Flask", server_url: str | None = None) -> None:
        from .db import session_factory
        from .wechat_api import WeChatAPI
        from .worker import Worker

        from .chores import make_chores

        services = app.extensions["bangban"]
        self.config = services.config
        self.api = WeChatAPI.from_config(self.config, services.redis, server_url=server_url)
        sessions = session_factory(services.engine)
        store = services.parts.get("store")
        chores = make_chores(self.config, sessions, store, services.parts["knowledge_base"].hall, self.api)
        self.worker = Worker(sessions, self.api, chores=chores, window_marks=store)
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.worker.run_forever,
                                       args=(self.config.worker_poll_seconds, self.stop_event),
                                       name="bangban-outbox", daemon=True)

    @property
    def api_base(self) -> str:
        return self.api.base_url

    def start(self) -> "OutboxThread":
        self.thread.start()
        return self

    def stop(self, wait: float = 5.0) -> None:
        self.stop_event.set()
        self.thread.join(wait)


class LocalServer:
    """`app` served by Werkzeug's threaded server on host:port (port 0: a free one) in a daemon thread."""

    def __init__(self, app: "Flask", host: str = "127.0.0.1", port: int = 0) -> None:
        from werkzeug.serving import make_server

        self.server = make_server(host, port, app, threaded=True)
        self.url = url_of(host, self.server.server_port)
        self.thread = threading.Thread(target=self.server.serve_forever, name="bangban-http", daemon=True)

    def start(self) -> "LocalServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


class _QuietPolling(logging.Filter):
    """Drops the access-log lines of the simulator page asking for messages every 2 s."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            line = record.getMessage()
        except Exception:  # noqa: BLE001 - a record that cannot be formatted is not ours to drop
            return True
        return not ("GET /simulator/inbox" in line and '" 200 ' in line)


def serve(config: "Config", host: str, port: int, worker: bool = True) -> int:
    from werkzeug.serving import make_server

    from .app import create_app
    from .config import redact_url
    from .logs import configure_logging

    configure_logging(config.log_level)
    logging.getLogger("werkzeug").addFilter(_QuietPolling())
    app = create_app(config)
    try:
        server = make_server(host, port, app, threaded=True)
    except OSError as exc:
        print(f"bangban serve: cannot listen on {host}:{port}: {exc.strerror or exc}; choose another --port",
              flush=True)
        return 1
    base = url_of(host, server.server_port)
    outbox = OutboxThread(app, base) if worker and runs_worker(config) else None
    storage = (f"database {redact_url(config.database_url)}, "
               + ("Redis " + redact_url(config.redis_url) if config.redis_url else
                  f"embedded conversation store in {config.data_dir}"))
    lines = [f"bangban is running ({storage})",
             f"  WeChat endpoint:  {base}/wechat"
             + ("   (safe mode: encrypted)" if config.safe_mode else "   (plain mode)"),
             f"  simulator:        {base}/simulator" if config.simulator else
             "  simulator:        off (BANGBAN_SIMULATOR=on to turn it on)",
             f"  staff console:    {base}/staff/" + _staff_hint(app),
             f"  health:           {base}/health"]
    if outbox is not None:
        where = ("the simulator's fake WeChat API" if config.simulated_wechat_api else "WeChat")
        lines.append(f"  outbox worker:    in this process, sending customer-service messages to {where} at "
                     f"{outbox.api_base}")
    else:
        lines.append("  outbox worker:    not in this process; run `bangban worker`")
    if config.development_credentials:
        lines.append("  WeChat credentials: development (token bangban-dev); no real account can reach this server")
    lines.append("Stop with Ctrl+C.")
    print("\n".join(lines), flush=True)
    if outbox is not None:
        outbox.start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if outbox is not None:
            outbox.stop()
        server.server_close()
    return 0


def _staff_hint(app) -> str:
    """How to log in to the console: a hint to make the first account when there is none yet."""
    from sqlalchemy import func, select
    from sqlalchemy.exc import SQLAlchemyError

    from .cases.models import Staff

    svc = app.extensions["bangban"]
    try:
        svc.parts["schema"].ensure()
        with svc.sessions() as session:
            accounts = session.scalar(select(func.count()).select_from(Staff))
    except SQLAlchemyError:
        return ""
    if accounts:
        return ""
    return ("   (no accounts yet: bangban staff add 姓名 --unit 区公安分局 --role 管理员 --username admin)")
