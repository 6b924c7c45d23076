"""An app under a real gunicorn, for tests: a subprocess on a loopback port the kernel chooses, always stopped.

    server = Gunicorn("bot:create_app()", env, tmp_path / "gunicorn", workers=3)
    try:
        server.start()
        server.wait_until_ready()          # every worker has loaded the app, and GET /health answers 200
        ...
    finally:
        server.stop()                      # SIGTERM, wait, SIGKILL

gunicorn binds port 0 and logs the port it got ("Listening at: http://127.0.0.1:PORT"): no other process can take
a port picked in advance. A small config file adds one hook that logs when each worker has loaded the app, so that
a burst really spreads over all the workers (without --preload each worker loads the knowledge base itself, which
takes seconds). The log goes to a file and is quoted when the server does not come up.
"""
from __future__ import annotations

import http.client
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")
READY = "bangban-test: worker ready"
_HOOKS = f'''
def post_worker_init(worker):
    worker.log.info("{READY} %s", worker.pid)
'''


class GunicornFailed(RuntimeError):
    pass


def control_socket_flags() -> list[str]:
    """gunicorn 25+ opens a control socket at one fixed path per user unless told not to; several servers at once
    (tests, a benchmark, a developer's own) must not share it."""
    from gunicorn.config import KNOWN_SETTINGS

    return ["--no-control-socket"] if any(s.name == "control_socket_disable" for s in KNOWN_SETTINGS) else []


class Gunicorn:
    def __init__(self, app: str, env: dict[str, str], directory: Path, workers: int = 3, worker_class: str = "sync",
                 threads: int = 1, cwd: Path = ROOT, extra: tuple[str, ...] = (), access_log: bool = True) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        hooks = self.directory / "gunicorn_hooks.py"
        hooks.write_text(_HOOKS, encoding="utf-8")
        self.log_path = self.directory / "gunicorn.log"
        self.access_log_path = self.directory / "access.log"  # one line per request: worker pid, method, status, path
        access = ["--access-logfile", str(self.access_log_path), "--access-logformat", "%(p)s %(m)s %(s)s %(U)s"]
        self.workers, self.env, self.cwd = workers, env, cwd
        self.args = [sys.executable, "-m", "gunicorn", app, "--config", str(hooks), "--bind", "127.0.0.1:0",
                     "--workers", str(workers), "--worker-class", worker_class, "--threads", str(threads),
                     "--log-level", "info", "--graceful-timeout", "10", *(access if access_log else []),
                     *control_socket_flags(), *extra]
        self.process: subprocess.Popen | None = None
        self.port: int | None = None
        self._log = None

    # ---- life ----------------------------------------------------------------------------------------------

    def start(self, timeout: float = 30.0) -> "Gunicorn":
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(self.args, cwd=self.cwd, env=self.env, stdout=self._log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self._until(lambda: self._port() is not None, timeout, "bind its port")
        return self

    def wait_until_ready(self, timeout: float = 60.0) -> None:
        """Until every worker has loaded the app and GET /health answers 200."""
        self._until(lambda: self.log().count(READY) >= self.workers, timeout, f"boot {self.workers} workers")
        self._until(self._healthy, 15.0, "answer 200 on /health")

    def stop(self) -> None:
        """SIGTERM (graceful: workers finish their requests), then SIGKILL if it lingers."""
        process = self.process
        if process is None:
            return
        try:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)
        finally:
            if self._log is not None:
                self._log.close()

    def _port(self) -> int | None:
        if self.port is None:
            found = _LISTENING.search(self.log())
            self.port = int(found.group(1)) if found else None
        return self.port

    def _healthy(self) -> bool:
        try:
            status, _ = self.request("GET", "/health", timeout=5)
        except OSError:
            return False
        return status == 200

    def _until(self, condition, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.process.poll() is not None:
                raise GunicornFailed(f"gunicorn exited with {self.process.returncode}:\n{self.log()[-4000:]}")
            if time.monotonic() > deadline:
                raise GunicornFailed(f"gunicorn did not {what} within {timeout:g} s:\n{self.log()[-4000:]}")
            time.sleep(0.05)

    # ---- looking at it -------------------------------------------------------------------------------------

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def access_log(self) -> list[tuple[int, str, int, str]]:
        """(worker pid, method, status, path) of every request answered so far."""
        try:
            lines = self.access_log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            return []
        entries = []
        for line in lines:
            parts = line.split()
            if len(parts) == 4 and parts[2].isdigit():
                entries.append((int(parts[0].strip("<>")), parts[1], int(parts[2]), parts[3]))
        return entries

    def worker_pids(self) -> list[int]:
        import psutil

        return [child.pid for child in psutil.Process(self.process.pid).children()]

    def connection(self, timeout: float = 30.0) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method: str, path: str, body: bytes | None = None, timeout: float = 30.0) -> tuple[int, bytes]:
        """One request on a connection of its own: (status, body)."""
        connection = self.connection(timeout)
        try:
            headers = {"Content-Type": "text/xml; charset=utf-8"} if body is not None else {}
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()
