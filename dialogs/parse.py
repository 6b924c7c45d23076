"""Recognisers for what citizens type: each takes the text and returns a value, or None when it is not one.

Full-width characters are folded (NFKC), so "２" is 2 and "？" is "?".
"""
from __future__ import annotations

import re
import unicodedata

# How a question is asked: its words, or a question mark.
QUESTION = re.compile(r"[吗么？?]|怎样|如何|怎么|咋|哪|什么|啥|多少|多久|几[点天个时块岁张份次号]|可不可以|有没有"
                       r"|([\u4e00-\u9fff])不\1")  # 能不能, 行不行, 休不休息, 赶不赶得上

_NOT_WORD = re.compile(r"[\s\W_]+", re.UNICODE)  # spaces and punctuation, either width
# WeChat's own emoticons arrive in the text as their names in brackets, "[微笑]", "[强]", "[OK]", or, from older
# clients, as codes like "/::)" and "/:8-)"
_EMOTICON = re.compile(r"\[[\u4e00-\u9fffA-Za-z0-9]{1,4}\]|/:[^\s/\u4e00-\u9fff]{1,6}")


def without_emoticons(text: str) -> str:
    """"身份证丢了[捂脸]" -> "身份证丢了"; "[强][强]" -> ""."""
    return _EMOTICON.sub("", text).strip()


def plain(text: str) -> str:
    """The text folded to half-width, lower case, without spaces and punctuation: "转 人工！" -> "转人工"."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text)).lower()


_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
           "八": 8, "九": 9}


def chinese_number(text: str) -> int | None:
    """Whole numbers as people write them: "2", "二", "两", "十", "十二", "二十一" (up to 99)."""
    if text.isascii() and text.isdigit():
        return int(text)
    if not text or any(c not in _DIGITS and c != "十" for c in text):
        return None
    if "十" not in text:
        return _DIGITS[text] if len(text) == 1 else None
    tens, _, ones = text.partition("十")
    if len(tens) > 1 or len(ones) > 1 or "十" in ones:
        return None
    return (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[ones] if ones else 0)


_NUMBER = r"([0-9]{1,2}|[零〇一二两俩三四五六七八九十]{1,3})"
# "2", "2.", "选2", "我选第二个", "第2项", "2号", "就第二个吧"
_WHOLE = re.compile(rf"^(?:我?(?:选|要)?|就)?(第)?{_NUMBER}(?:个|项|条|种|号)?(?:吧|啦|呀|的)?$")
# "第二个要带什么": an ordinal with 第 and a measure word, followed by a question about that choice
_LEADING = re.compile(rf"^(?:我?(?:选|要)?|就)?第{_NUMBER}(?:个|项|条|种|号)(.+)$")


def choice_number(text: str) -> tuple[int, str] | None:
    """A numbered choice: (number, the rest of the message) or None.

    "1", "２", "二", "第二个", "选2" -> (n, ""); "第二个要带什么" -> (2, "要带什么"). The number is not checked
    against the choices offered; the caller says when it is out of range.
    """
    folded = unicodedata.normalize("NFKC", text).strip()
    compact = plain(folded)
    match = _WHOLE.match(compact)
    if match:
        number = chinese_number(match.group(2))
        return None if number is None else (number, "")
    match = _LEADING.match(re.sub(r"\s+", "", folded))
    if match:
        number = chinese_number(match.group(1))
        rest = match.group(2).lstrip("，,、：: ")
        return None if number is None or not plain(rest) else (number, rest)
    return None
