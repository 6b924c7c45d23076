"""The hand-kept word lists the matcher uses, loaded and validated like the rest of the published data.

Files (plain UTF-8 text under knowledge/data/lexicon/, '#' starts a comment):
  aliases.txt   口语 | 别称 => 目录用语      colloquial wording rewritten to catalogue wording
  actions.txt   规范词: 同义词 ...           what is being done (补领, 换领, 注销 ...)
  fields.txt    字段: 说法 ...               which part of a guide is asked about (materials, place ...)
  field_cues.txt 字段: 提示字 ...             cues for a follow-up that uses none of those phrases (要等几天)
  field_hints.txt 字段: 提示字 ...            weaker cues, the people and things a follow-up mentions (老伴, 公交)
  filler.txt    words that carry nothing for matching
  channels.txt  where or on what a citizen does it (支付宝, 网上, 打印): how, not which case
  regions.txt   place names around a question
  english.txt   English words => 目录用语
  expansions.txt 目录用语 => 说法 ...          items named with the left side are also found by the right side
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from .normalize import alias_pattern, apply_aliases
from .problems import DataError, Problem

BUNDLED_DIR = Path(__file__).parent / "data" / "lexicon"
FIELDS = ("materials", "bring", "place", "time", "hours", "result", "phone", "fee", "condition", "service",
          "in_person", "online", "process", "booking")


@dataclass(frozen=True)
class Lexicon:
    aliases: Mapping[str, str]  # colloquial -> catalogue wording
    actions: Mapping[str, str]  # any wording -> canonical action
    fields: Mapping[str, str]  # phrase -> field name
    field_cues: Mapping[str, str]  # cue found anywhere in a follow-up -> field name
    field_hints: Mapping[str, str]  # the same, heeded only when no cue is found
    filler: frozenset[str]
    channels: frozenset[str]
    regions: frozenset[str]
    english: Mapping[str, str]  # lower-case English phrase -> Chinese
    expansions: Mapping[str, tuple[str, ...]]  # catalogue wording -> what citizens also say

    def words(self) -> set[str]:
        """Every word the tokenizer should know as a unit."""
        return (set(self.aliases) | set(self.aliases.values()) | set(self.actions) | set(self.actions.values())
                | set(self.fields) | self.filler | self.channels | self.regions)


def _lines(path: Path, problems: list[Problem]):
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        problems.append(Problem(str(path), None, None, f"cannot read file: {exc.strerror}"))
        return
    except UnicodeDecodeError:
        problems.append(Problem(str(path), None, None, "not UTF-8 text; save the file as UTF-8"))
        return
    for number, line in enumerate(text.splitlines(), start=1):
        line = unicodedata.normalize("NFKC", line.split("#", 1)[0]).strip()
        if line:
            yield number, line


_ENGLISH = re.compile(r"[a-z0-9' .-]+")


def _mapping_file(path: Path, problems: list[Problem], left: re.Pattern[str] | None = None) -> dict[str, str]:
    """'a | b => c' lines. Lower-cased, as questions are (so "E照" and "C1" match what citizens type)."""
    result: dict[str, str] = {}
    where: dict[str, int] = {}
    for number, line in _lines(path, problems):
        if line.count("=>") != 1:
            problems.append(Problem(str(path), number, None, "expected one '=>' (口语 | 别称 => 目录用语)"))
            continue
        sources, right = (part.strip() for part in line.split("=>"))
        target = right.lower()
        if not target:
            problems.append(Problem(str(path), number, "=> right side", "empty; write the catalogue wording"))
            continue
        for alias in (a.strip() for a in sources.split("|")):
            alias = alias.lower()
            if not alias:
                problems.append(Problem(str(path), number, "left side", "empty entry between '|'"))
            elif left is not None and not left.fullmatch(alias):
                problems.append(Problem(str(path), number, alias, "left side must be English words"))
            elif alias == target:
                problems.append(Problem(str(path), number, alias, "is the same as its catalogue wording"))
            elif alias in result and result[alias] != target:
                problems.append(Problem(str(path), number, alias,
                                        f"already maps to {result[alias]!r} on line {where[alias]}"))
            else:
                result[alias] = target
                where[alias] = number
    for alias, target in result.items():
        if target in result:
            problems.append(Problem(str(path), where[alias], alias,
                                    f"maps to {target!r}, which is itself rewritten; point it at the final wording"))
    return result


def _group_file(path: Path, problems: list[Problem], allowed: tuple[str, ...] | None = None) -> dict[str, str]:
    """'head: word word ...' lines -> {word: head} (the head maps to itself)."""
    result: dict[str, str] = {}
    for number, line in _lines(path, problems):
        head, sep, rest = line.partition(":")
        head = head.strip()
        if not sep or not head or not rest.split():
            problems.append(Problem(str(path), number, None, "expected '规范词: 同义词 同义词 ...'"))
            continue
        if allowed is not None and head not in allowed:
            problems.append(Problem(str(path), number, head, f"unknown field; use one of {', '.join(allowed)}"))
            continue
        words = rest.split() if allowed is not None else [head, *rest.split()]
        for word in words:
            if word in result and result[word] != head:
                problems.append(Problem(str(path), number, word, f"already listed under {result[word]!r}"))
            else:
                result[word] = head
    return result


def _expansion_file(path: Path, problems: list[Problem]) -> dict[str, tuple[str, ...]]:
    result: dict[str, tuple[str, ...]] = {}
    for number, line in _lines(path, problems):
        left, sep, right = line.partition("=>")
        left, words = left.strip(), tuple(right.split())
        if not sep or not left or not words:
            problems.append(Problem(str(path), number, None, "expected '目录用语 => 说法 说法 ...'"))
        elif left in result:
            problems.append(Problem(str(path), number, left, "listed twice; put all its words on one line"))
        else:
            result[left] = words
    return result


def _word_file(path: Path, problems: list[Problem]) -> frozenset[str]:
    return frozenset(word for _, line in _lines(path, problems) for word in line.split())


def load_lexicon(directory: Path | None = None) -> Lexicon:
    """Load and validate the word lists; raises DataError naming file, line and entry."""
    directory = Path(directory) if directory else BUNDLED_DIR
    problems: list[Problem] = []
    aliases = _mapping_file(directory / "aliases.txt", problems)
    english = _mapping_file(directory / "english.txt", problems, left=_ENGLISH)
    lexicon = Lexicon(
        aliases=MappingProxyType(aliases),
        actions=MappingProxyType(_group_file(directory / "actions.txt", problems)),
        fields=MappingProxyType(_group_file(directory / "fields.txt", problems, FIELDS)),
        field_cues=MappingProxyType(_group_file(directory / "field_cues.txt", problems, FIELDS)),
        field_hints=MappingProxyType(_group_file(directory / "field_hints.txt", problems, FIELDS)),
        filler=_word_file(directory / "filler.txt", problems),
        channels=_word_file(directory / "channels.txt", problems),
        regions=_word_file(directory / "regions.txt", problems),
        english=MappingProxyType(english),
        expansions=MappingProxyType(_expansion_file(directory / "expansions.txt", problems)),
    )
    if not problems:  # every list read: look for words the aliases would rewrite
        _check_not_rewritten(directory, aliases, problems)
    if problems:
        raise DataError(problems)
    return lexicon


# Words looked up in a question after aliases.txt has rewritten it: a word the aliases rewrite is never found.
# Phrases and words are looked up whole; cues anywhere, so a cue only has to survive inside its rewriting.
# Lists of "head: words" lines, each with whether its words are found inside other words (cues) or whole.
_HEADED = {"fields.txt": False, "field_cues.txt": True, "field_hints.txt": True, "actions.txt": False}
_PLAIN = ("filler.txt", "channels.txt")


def _check_not_rewritten(directory: Path, aliases: Mapping[str, str], problems: list[Problem]) -> None:
    pattern = alias_pattern(aliases)
    for name in (*_HEADED, *_PLAIN):
        path = directory / name
        inside = _HEADED.get(name, False)
        for number, line in _lines(path, problems):
            head, _, rest = line.partition(":") if name in _HEADED else ("", "", line)
            words = rest.split() + ([head.strip()] if name == "actions.txt" else [])
            for word in (w.lower() for w in words):
                rewritten = apply_aliases(word, aliases, pattern)
                if (word not in rewritten) if inside else (rewritten != word):
                    problems.append(Problem(str(path), number, word, f"aliases.txt rewrites it to {rewritten!r} "
                                                                     "before it is looked for; write that instead"))
