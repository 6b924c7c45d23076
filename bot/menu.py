"""The public account's custom menu, kept as data (bot/data/menu.json) and published by `bangban wechat menu push`.

The file is exactly the body of WeChat's `POST /cgi-bin/menu/create`. It is checked against the API's limits before
anything is sent: 1 to 3 top-level buttons, 1 to 5 sub-buttons each; a top-level name at most 16 UTF-8 bytes (4
Chinese characters), a sub-button name at most 60 bytes and 8 characters as WeChat displays them (two ASCII
characters count as one; longer names are shown cut with "…"); keys 1 to 128 bytes and unique; view URLs http(s),
at most 1024 bytes. The click keys are what the gateway receives as `EventKey`.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MENU_PATH = Path(__file__).resolve().parent / "data" / "menu.json"

MAX_BUTTONS = 3
MAX_SUB_BUTTONS = 5
MAX_TOP_NAME_BYTES = 16
MAX_SUB_NAME_BYTES = 60
MAX_SUB_NAME_WIDTH = 8
MAX_KEY_BYTES = 128
MAX_URL_BYTES = 1024

KEY_TYPES = ("click", "scancode_push", "scancode_waitmsg", "pic_sysphoto", "pic_photo_or_album", "pic_weixin",
             "location_select")
FIELDS = {  # what each button type needs, beyond type and name
    **{kind: ("key",) for kind in KEY_TYPES},
    "view": ("url",),
    "miniprogram": ("url", "appid", "pagepath"),
    "article_id": ("article_id",),
    "article_view_limited": ("article_id",),
}


class MenuError(ValueError):
    """The menu file breaks a rule of the menu API; `problems` lists every one."""

    def __init__(self, path: Path | str, problems: list[str]):
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


def load_menu(path: Path | str = MENU_PATH) -> dict[str, Any]:
    """The menu from `path`, checked; raises MenuError listing every problem."""
    try:
        menu = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise MenuError(path, [f"cannot read the file: {exc.strerror or exc}"]) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise MenuError(path, [f"not UTF-8 JSON: {exc}"]) from None
    problems = check_menu(menu)
    if problems:
        raise MenuError(path, problems)
    return menu


def check_menu(menu: Any) -> list[str]:
    """Every problem with `menu` as the body of `menu/create`; empty when it is fine."""
    if not isinstance(menu, dict) or set(menu) != {"button"}:
        return ['expected an object with exactly one field, "button"']
    buttons = menu["button"]
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_BUTTONS:
        return [f"button: expected a list of 1 to {MAX_BUTTONS} buttons"]
    problems: list[str] = []
    keys: dict[str, str] = {}
    for i, button in enumerate(buttons):
        where = f"button[{i}]"
        if not isinstance(button, dict):
            problems.append(f"{where}: expected an object")
            continue
        problems += _check_name(button.get("name"), where, top=True)
        if "sub_button" in button:
            unknown = set(button) - {"name", "sub_button"}
            if unknown:
                problems.append(f"{where}: a button with sub_button takes only name and sub_button, not "
                                f"{', '.join(sorted(unknown))}")
            subs = button["sub_button"]
            if not isinstance(subs, list) or not 1 <= len(subs) <= MAX_SUB_BUTTONS:
                problems.append(f"{where}.sub_button: expected a list of 1 to {MAX_SUB_BUTTONS} buttons")
                continue
            for j, sub in enumerate(subs):
                sub_where = f"{where}.sub_button[{j}]"
                if not isinstance(sub, dict):
                    problems.append(f"{sub_where}: expected an object")
                    continue
                problems += _check_name(sub.get("name"), sub_where, top=False)
                problems += _check_action(sub, sub_where, keys)
        else:
            problems += _check_action(button, where, keys)
    return problems


def click_keys(menu: dict[str, Any]) -> list[str]:
    """The keys of the menu's buttons, in menu order."""
    found = []
    for button in menu["button"]:
        for entry in button.get("sub_button", [button]):
            if "key" in entry:
                found.append(entry["key"])
    return found


def _check_name(name: Any, where: str, top: bool) -> list[str]:
    if not isinstance(name, str) or not name.strip():
        return [f"{where}.name: expected a non-empty name"]
    size = len(name.encode("utf-8"))
    if top and size > MAX_TOP_NAME_BYTES:
        return [f"{where}.name {name!r} is {size} bytes; a top-level name takes at most {MAX_TOP_NAME_BYTES} "
                "(4 Chinese characters)"]
    if not top:
        if size > MAX_SUB_NAME_BYTES:
            return [f"{where}.name {name!r} is {size} bytes; a sub-button name takes at most {MAX_SUB_NAME_BYTES}"]
        width = sum(0.5 if ord(char) < 0x80 else 1 for char in name)
        if width > MAX_SUB_NAME_WIDTH:
            return [f"{where}.name {name!r} is wider than {MAX_SUB_NAME_WIDTH} Chinese characters; WeChat would "
                    "show it cut"]
    return []


def _check_action(button: dict, where: str, keys: dict[str, str]) -> list[str]:
    kind = button.get("type")
    if kind not in FIELDS:
        return [f"{where}.type: expected one of {', '.join(FIELDS)} (or a sub_button list), not {kind!r}"]
    needed = FIELDS[kind]
    problems = [f"{where}: type {kind} needs {field}" for field in needed
                if not isinstance(button.get(field), str) or not button.get(field)]
    unknown = set(button) - {"type", "name", *needed}
    if unknown:
        problems.append(f"{where}: type {kind} does not take {', '.join(sorted(unknown))}")
    key = button.get("key")
    if "key" in needed and isinstance(key, str) and key:
        if len(key.encode("utf-8")) > MAX_KEY_BYTES:
            problems.append(f"{where}.key is longer than {MAX_KEY_BYTES} bytes")
        elif key in keys:
            problems.append(f"{where}.key {key!r} is also the key of {keys[key]}")
        else:
            keys[key] = where
    url = button.get("url")
    if "url" in needed and isinstance(url, str) and url:
        if not url.startswith(("http://", "https://")):
            problems.append(f"{where}.url: expected an http:// or https:// address")
        elif len(url.encode("utf-8")) > MAX_URL_BYTES:
            problems.append(f"{where}.url is longer than {MAX_URL_BYTES} bytes")
    return problems


def describe_menu(menu: dict[str, Any]) -> str:
    """One line: 办事咨询 (CONSULT) | 预约办理 ▸ 我要预约 (BOOK), … | 转人工 (HUMAN)."""
    def one(button: dict) -> str:
        target = button.get("key") or button.get("url") or button.get("article_id") or button.get("type")
        return f"{button['name']} ({target})"

    return " | ".join(
        f"{button['name']} ▸ " + ", ".join(one(sub) for sub in button["sub_button"]) if "sub_button" in button
        else one(button)
        for button in menu["button"])


def push_menu(config, path: Path | str | None = None, dry_run: bool = False) -> int:
    """`bangban wechat menu push`: check the menu file and publish it; prints what it did. Exit status."""
    import sys

    from .config import DEFAULT_WECHAT_API_BASE
    from .wechat_api import WeChatAPI, WeChatAPIError, WeChatUnavailable
    from .logs import configure_logging
    from .worker import connect_redis

    path = Path(path) if path else MENU_PATH
    try:
        menu = load_menu(path)
    except MenuError as exc:
        print(f"{path}: the menu cannot be published:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    summary = describe_menu(menu)
    if dry_run:
        print(f"{path}: ok, not published (--dry-run): {summary}")
        return 0
    if config.development_credentials and config.wechat_api_base == DEFAULT_WECHAT_API_BASE:
        print("menu push: the development AppID is no real account; set WECHAT_APP_ID and WECHAT_APP_SECRET (and "
              "WECHAT_TOKEN) of the public account first", file=sys.stderr)
        return 2
    configure_logging(config.log_level)
    api = WeChatAPI.from_config(config, connect_redis(config))
    try:
        api.create_menu(menu)
    except WeChatAPIError as exc:
        print(f"menu push failed: WeChat answered errcode {exc.errcode}: {exc.errmsg}", file=sys.stderr)
        return 1
    except WeChatUnavailable as exc:
        print(f"menu push failed: {exc}", file=sys.stderr)
        return 1
    print(f"published the menu from {path} to {config.wechat_app_id} at {api.base_url}/cgi-bin/menu/create: "
          f"{summary}")
    print("WeChat clients show it within about 5 minutes (unfollow and follow again to see it at once).")
    return 0
