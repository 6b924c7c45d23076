"""Turn what a citizen typed into comparable text: width, script, case, years, English, aliases."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Mapping

import zhconv
from pypinyin import Style, lazy_pinyin

# 2023年, 2023年度, a bare 2022 before words (2022离婚冷静期), 21年 -- but not 2000元, 缴满15年, 建校120年.
_YEAR = re.compile(r"(?<![0-9])(?:19|20)[0-9]{2}(?:年度|年|(?![0-9元块万千百个人次号米分岁天]))"
                   r"|(?<![0-9满缴交第近])[0-9]{2}年(?![龄度内以])")
_NOT_WORD = re.compile(r"[^0-9a-z\u3400-\u9fff]+")
_QUOTES = re.compile(r"[《》〈〉“”\"'‘’「」『』]")


def clean(text: str) -> str:
    """Full-width to half-width, traditional to simplified, lower case, quotes dropped."""
    text = unicodedata.normalize("NFKC", text or "")
    text = zhconv.convert(text, "zh-cn")
    return _QUOTES.sub("", text.lower())


# "能办不", "要带不啦", "开门不？": a 不 that ends a question asks like 吗 (not after 也, 就, 绝 …: "我就不").
_ENDING_NOT = re.compile(r"(?<=[\u3400-\u9fff])(?<![不也都就还并决绝可])不(?=[啦嘛哦呀呢啊]*(?:[^0-9a-z\u3400-\u9fff]|$))")


def ending_not_as_question(text: str) -> str:
    return _ENDING_NOT.sub("吗", text)


def drop_years(text: str) -> str:
    """"2023年在深圳生的" -> " 在深圳生的": years say when, not what."""
    return _YEAR.sub(" ", text)


def segments(text: str) -> list[str]:
    """Split on everything that is not a letter, digit or CJK character."""
    return [part for part in _NOT_WORD.split(text) if part]


def translate_english(text: str, glossary: Mapping[str, str]) -> str:
    """Replace English words and phrases (longest first, whole words) with catalogue wording."""
    if not re.search(r"[a-z]{2}", text):
        return text
    for phrase in sorted(glossary, key=len, reverse=True):
        text = re.sub(rf"(?<![a-z]){re.escape(_QUOTES.sub('', phrase))}(?![a-z])", f" {glossary[phrase]} ", text)
    return text


def apply_aliases(text: str, aliases: Mapping[str, str], pattern: re.Pattern[str]) -> str:
    """Rewrite colloquial wording; a match inside the catalogue wording itself is left alone
    (so 居民身份证 does not become 居民居民身份证)."""

    def replace(match: re.Match[str]) -> str:
        target = aliases[match.group(0)]
        start, end = match.span()
        left = max(0, start - len(target))
        window = text[left:end + len(target)]
        return match.group(0) if target in window else target

    return pattern.sub(replace, text)


def alias_pattern(aliases: Mapping[str, str]) -> re.Pattern[str]:
    """Longest alias first; letters and digits (c1, a1) only as a whole word, never inside 粤a12345."""
    words = sorted(aliases, key=len, reverse=True)
    if not words:
        return re.compile(r"(?!x)x")
    parts = [rf"(?<![a-z0-9]){re.escape(w)}(?![a-z0-9])" if w.isascii() else re.escape(w) for w in words]
    return re.compile("|".join(parts))


@lru_cache(maxsize=65536)
def pinyin_of(char: str) -> str:
    """Tone-less pinyin of one character, or the character itself when it has none."""
    if not ("\u3400" <= char <= "\u9fff"):
        return char
    reading = lazy_pinyin(char, style=Style.NORMAL, errors="default")
    return reading[0] if reading else char
