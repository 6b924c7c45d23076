"""Limits of a WeChat text reply, and small formatting helpers shared by every reply."""
from __future__ import annotations

import re

WECHAT_TEXT_LIMIT = 2048  # bytes of UTF-8 in one passive text reply


def fits(text: str, limit: int = WECHAT_TEXT_LIMIT) -> bool:
    return len(text.encode("utf-8")) <= limit


def clip(text: str, limit: int = WECHAT_TEXT_LIMIT, tail: str = "……") -> str:
    """Cut at a character boundary so the UTF-8 encoding fits `limit` bytes, ending with `tail` when cut."""
    if fits(text, limit):
        return text
    budget = limit - len(tail.encode("utf-8"))
    out = text.encode("utf-8")[:budget].decode("utf-8", errors="ignore")
    return out + tail


def shorten(text: str, chars: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= chars else text[: chars - 1] + "…"


_DAYS = re.compile(r"^\s*(\d+)\s*[（(]\s*工作日\s*[)）]\s*$")


def time_limit(text: str | None) -> str | None:
    """'5(工作日)' -> '5个工作日'; '0(工作日)' -> '当场办结'; free text kept."""
    if not text:
        return None
    match = _DAYS.match(text)
    if not match:
        return text.strip()
    days = int(match.group(1))
    return "当场办结" if days == 0 else f"{days}个工作日"


def numbered(lines: list[str]) -> str:
    return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, start=1))
