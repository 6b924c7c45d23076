"""`bangban chat [--user ID] [--url URL]`: the simulator in a terminal.

Each line typed becomes the push WeChat would send (bot/simulator.py: signed with the configured token, encrypted
in safe mode) and goes to /wechat; the reply is printed, and so is every customer-service message that reaches the
simulated user later (a late answer through the outbox, a staff reply), marked 客服消息.

- Without --url, in this process: the app is created here and called through WSGI (no socket for the pushes). With
  the development credentials its outbox worker runs in a thread too and sends to the simulator's fake WeChat API,
  served on a loopback port the system picks (the worker is a real HTTP client).
- With --url, over HTTP to a running `bangban serve` (or gunicorn); the local configuration must hold the same
  WeChat token (and EncodingAESKey) as the server's.

Commands: /关注, /取消关注, /菜单 KEY (a menu key or a button's name: /菜单 HUMAN, /菜单 转人工), /位置 [纬度 经度]
(default: near the hall), /图片, /帮助, /退出. At the end of input it waits a little for customer-service messages
still in the outbox.
"""
from __future__ import annotations

import os

import sys
import threading
import time
from typing import TextIO

from .simulator import Action, BadAction, Exchange, Simulator, check_user, hall_position, new_user

COMMANDS = ("/关注  /取消关注  /菜单 KEY（如 /菜单 转人工）  /位置 [纬度 经度]  /图片  /帮助  /退出")
QUIT, HELP = "quit", "help"
PROMPT = "> "
POLL_SECONDS = 2.0
WAIT_AT_END_SECONDS = 15.0


def menu_keys() -> dict[str, Action]:
    """Menu buttons by key (upper case) and by name."""
    from .simulator import menu_buttons

    found: dict[str, Action] = {}
    for button in menu_buttons():
        action = Action(button["type"], key=button["key"], label=button["name"])
        found[button["key"].upper()] = action
        found[button["name"]] = action
    return found


def parse_line(line: str, menu: dict[str, Action]) -> Action | str | None:
    """What a typed line asks for: an Action, QUIT, HELP, or None (nothing). Raises BadAction."""
    line = line.strip()
    if not line:
        return None
    if not line.startswith("/"):
        return Action("text", text=line).checked()
    command, _, rest = line[1:].partition(" ")
    rest = rest.strip()
    if command in ("退出", "quit", "exit"):
        return QUIT
    if command in ("帮助", "help", "?"):
        return HELP
    if command in ("关注", "subscribe"):
        return Action("subscribe")
    if command in ("取消关注", "unsubscribe"):
        return Action("unsubscribe")
    if command in ("图片", "image"):
        return Action("image")
    if command in ("菜单", "menu"):
        action = menu.get(rest) or menu.get(rest.upper())
        if action is None:
            names = "、".join(name for name in menu if not name.isascii())
            raise BadAction(f"没有这个菜单按钮：{rest or '（空）'}；可用：{names}，或它们的 key")
        return action
    if command in ("位置", "location"):
        if not rest:
            return Action("location")
        parts = rest.replace(",", " ").replace("，", " ").split()
        try:
            latitude, longitude = float(parts[0]), float(parts[1])
        except (IndexError, ValueError):
            raise BadAction("用法：/位置 纬度 经度（如 /位置 23.13 113.32），或只写 /位置 表示服务大厅附近") from None
        return Action("location", latitude=latitude, longitude=longitude).checked()
    raise BadAction(f"不认识的命令 /{command}。{COMMANDS}")


class Chat:
    def __init__(self, simulator: Simulator, user: str, out: TextIO, inbox: bool = True,
                 prompt: str = "") -> None:
        self.simulator = simulator
        self.user = user
        self.out = out
        self.inbox = inbox  # False: the server has no simulator, so no customer-service messages to show
        self.after = 0
        self.pending: int | None = None
        self.awaiting = False  # a push was answered "success": its reply, if any, comes through the outbox
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._inbox_failed = False
        self.prompt = prompt  # shown again after a message printed while the person is typing

    def say(self, text: str) -> None:
        with self._lock:
            print(text, file=self.out, flush=True)

    def send(self, action: Action) -> Exchange:
        exchange = self.simulator.send(self.user, action)
        if exchange.reply is not None:
            self.say(f"公众号：{exchange.reply}")
        elif exchange.error:
            self.say(f"（{exchange.error}）")
        elif action.kind == "unsubscribe":
            self.say("（已取消关注，公众号不再回复）")
        else:
            self.awaiting = True
            self.say("（公众号没有立即回复；如有答复，会以客服消息送达）")
        return exchange

    def drain(self, background: bool = False) -> int:
        """Prints customer-service messages that arrived; returns how many. `background`: printed while the
        person may be typing at the prompt (which is then shown again)."""
        if not self.inbox:
            return 0
        with self._lock:
            try:
                messages, pending = self.simulator.inbox(self.user, self.after)
            except Exception as exc:  # noqa: BLE001 - the server went away: say so once, go on
                if not self._inbox_failed:
                    print(f"（读取客服消息失败：{type(exc).__name__}）", file=self.out, flush=True)
                self._inbox_failed = True
                return 0
            self._inbox_failed = False
            self.pending = pending
            for message in messages:
                lead = "\r" if background and self.prompt else ""
                print(f"{lead}公众号（客服消息）：{message['text']}", file=self.out, flush=True)
                self.after = max(self.after, int(message["id"]))
                self.awaiting = False
            if messages and background and self.prompt:
                print(self.prompt, end="", file=self.out, flush=True)
            return len(messages)

    def poll_in_background(self) -> threading.Thread:
        def loop() -> None:
            while not self._stop.wait(POLL_SECONDS):
                self.drain(background=True)

        thread = threading.Thread(target=loop, name="bangban-chat-inbox", daemon=True)
        thread.start()
        return thread

    def wait_for_outbox(self, seconds: float) -> None:
        """Until the outbox holds nothing more for this user and the reply of a push answered "success" has come
        (or `seconds` pass), printing what arrives."""
        if not self.inbox:
            return
        deadline = time.monotonic() + seconds
        while True:
            self.drain()
            if not (self.pending or self.awaiting) or time.monotonic() >= deadline:
                return
            time.sleep(0.2)

    def stop(self) -> None:
        self._stop.set()


def run_chat(config, user: str | None = None, url: str | None = None, stdin: TextIO | None = None,
             out: TextIO | None = None, wait_seconds: float = WAIT_AT_END_SECONDS) -> int:
    import logging

    from .wechat.pushes import Pusher

    stdin = stdin or sys.stdin
    out = out or sys.stdout
    try:
        user = check_user(user) if user else new_user()
    except BadAction as exc:
        print(f"bangban chat: --user: {exc}", file=sys.stderr)
        return 2
    interactive = stdin.isatty()
    pusher = Pusher.for_config(config)
    server = outbox = None
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log lines between the messages
    if url:
        from .simulator import HTTPTransport

        transport = HTTPTransport(url)
        where = f"{url.rstrip('/')}/wechat（HTTP）"
        has_inbox = True
    else:
        from .app import create_app
        from .serve import LocalServer, OutboxThread
        from .simulator import WSGITransport

        print("正在加载知识库……", file=out, flush=True)
        app = create_app(config)
        if not os.environ.get("LOG_LEVEL"):
            logging.getLogger("bot").setLevel(logging.WARNING)  # no log lines between the messages
        transport = WSGITransport(app)
        where = "/wechat（本进程内）"
        has_inbox = config.simulator
        if config.simulated_wechat_api:
            server = LocalServer(app).start()
            outbox = OutboxThread(app, server.url).start()
    simulator = Simulator(pusher, transport, hall_position(config.hall_dir))
    chat = Chat(simulator, user, out, inbox=has_inbox, prompt=PROMPT if interactive else "")
    menu = menu_keys()
    print(f"bangban chat：模拟微信用户 {user}，消息{'加密（安全模式）' if pusher.aes_key else '明文'}发往 {where}",
          file=out, flush=True)
    print(f"直接输入文字发送；命令：{COMMANDS}", file=out, flush=True)
    if not has_inbox:
        print("（模拟器未开启：看不到之后送达的客服消息）", file=out, flush=True)
    poller = chat.poll_in_background()
    status = 0
    try:
        while True:
            line = _read(stdin, out, interactive)
            if line is None:
                if not interactive:  # a script: what it asked for may still be on its way
                    chat.wait_for_outbox(wait_seconds)
                break
            if not interactive and line.strip():
                chat.say(f"> {line}")  # so that a transcript read from a file shows what was sent
            try:
                request = parse_line(line, menu)
                if request is None:
                    continue
                if request == QUIT:
                    break
                if request == HELP:
                    chat.say(f"命令：{COMMANDS}")
                    continue
                chat.send(request)
            except BadAction as exc:
                chat.say(f"（{exc}）")
                continue
            except OSError as exc:  # requests' errors are OSErrors: the server is not there
                chat.say(f"（连接不上 {url}：{type(exc).__name__}）")
                status = 1
                break
            chat.drain()
    except KeyboardInterrupt:
        print(file=out)
    finally:
        chat.stop()
        poller.join(POLL_SECONDS + 1)
        if outbox is not None:
            outbox.stop()
        if server is not None:
            server.stop()
    return status


def _read(stdin: TextIO, out: TextIO, interactive: bool) -> str | None:
    """The next line without its line end; None at the end of input."""
    if interactive:
        try:
            return input(PROMPT)
        except EOFError:
            print(file=out)
            return None
    line = stdin.readline()
    return None if line == "" else line.rstrip("\r\n")
