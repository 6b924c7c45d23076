"""Analyse a citizen's question: clean it, rewrite colloquial wording, tokenize with the matcher's own jieba
dictionary, and mark each character as core (must be explained by the item) or soft (chatter, place, field)."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import jieba

from .lexicon import Lexicon
from .normalize import (
    alias_pattern, apply_aliases, clean, drop_years, ending_not_as_question, segments, translate_english,
)

jieba.setLogLevel(logging.WARNING)

CORE, SOFT = "core", "soft"

_OFFICE_ENDINGS = ("局", "厅", "所", "中心", "大厅", "窗口", "办公室", "委员会", "派出所", "街道办")
_PLACE_ENDINGS = ("区", "县", "镇", "乡")
# "What is needed" on its own asks for the materials; followed by another field's word it asks for that one:
# 要什么条件 is the conditions, 要啥手续 the materials, 要什么时间 the time.
_WHAT_IS_NEEDED = frozenset({"要什么", "需要什么", "要哪些"})


@dataclass(frozen=True)
class Token:
    text: str
    kind: str  # CORE or SOFT
    action: str | None = None  # canonical action the token names
    field: str | None = None  # guide field it asks about
    region: bool = False
    channel: bool = False  # where or on what it is done (网上, 手机, 支付宝): how, not which matter
    named: str = ""  # what a core token names besides its action: 住房公积金 in 住房公积金提取, none in 补办


@dataclass(frozen=True)
class Query:
    original: str
    text: str  # after cleaning and rewriting
    runs: tuple[tuple[Token, ...], ...]  # tokens of each contiguous segment
    actions: frozenset[str] = frozenset()
    fields: tuple[str, ...] = ()  # in order of appearance
    core_text: str = ""
    cues: tuple[tuple[str, str], ...] = ()  # (field, word) of the cue words found, the last first, then hints
    matter_names: str = field(default="", repr=False, compare=False)  # the analyser's, for catalogue_words

    @property
    def empty(self) -> bool:
        return not self.core_text

    @property
    def cued_fields(self) -> tuple[str, ...]:
        """The fields of the cue words found, the last cue's first, then those of the hints."""
        return tuple(dict.fromkeys(field for field, _ in self.cues))

    @property
    def subject_words(self) -> tuple[str, ...]:
        """What the question names besides actions, fields and chatter, two characters or more: 上学 in
        "孩子上学要什么证明"."""
        return tuple(t.text for run in self.runs for t in run if _subject(t))

    @property
    def catalogue_words(self) -> tuple[str, ...]:
        """The subject words an item's name uses (住房公积金 and 贷款 in "公积金贷款在哪办"): what a matter is called,
        not the citizen's circumstances (明天, 老伴)."""
        return tuple(t.text for run in self.runs for t in run
                     if _subject(t) and not t.named.isdigit() and t.named in self.matter_names)

    @property
    def topic_words(self) -> tuple[str, ...]:
        """The subject words said before the first field phrase, where Chinese puts the topic: 上学 in
        "孩子上学要什么证明", none in "多久能批下来" (what comes after the field asks about the same matter)."""
        words: list[str] = []
        for token in (t for run in self.runs for t in run):
            if token.field:
                break
            if _subject(token):
                words.append(token.text)
        return tuple(words)


def _alternation(words) -> re.Pattern:
    """One pattern for all `words`, the longest tried first."""
    return re.compile("|".join(re.escape(word) for word in sorted(words, key=len, reverse=True)))


def _subject(token: Token) -> bool:
    return token.kind == CORE and not token.channel and len(token.named) > 1


@dataclass
class QueryAnalyser:
    """Built once per lexicon and catalogue; `extra_words` are item names and sub-items for the tokenizer."""

    lexicon: Lexicon
    extra_words: tuple[str, ...] = ()
    tokenizer: jieba.Tokenizer = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.tokenizer = jieba.Tokenizer()
        self.tokenizer.initialize()
        for word in sorted(set(self.extra_words) | self.lexicon.words()):
            if 1 < len(word) <= 12:
                self.tokenizer.add_word(word, freq=max(self.tokenizer.suggest_freq(word), 50))
        self._names = "\n".join(self.extra_words)  # to tell a place name (二七区) from catalogue wording (开发区)
        # what matters are called: item names, and the everyday words that also find them (营业执照)
        self._matter_names = "\n".join([self._names, *(w for ws in self.lexicon.expansions.values() for w in ws)])
        self._aliases = alias_pattern(self.lexicon.aliases)
        self._action_words = tuple(sorted((w for w in self.lexicon.actions if len(w) > 1), key=len, reverse=True))
        self._cue_patterns = tuple((_alternation(words), words)
                                   for words in (self.lexicon.field_cues, self.lexicon.field_hints) if words)

    def rewrite(self, question: str) -> str:
        text = ending_not_as_question(drop_years(clean(question)))
        text = translate_english(text, self.lexicon.english)
        return apply_aliases(text, self.lexicon.aliases, self._aliases)

    def analyse(self, question: str) -> Query:
        text = self.rewrite(question)
        lex = self.lexicon
        runs: list[tuple[Token, ...]] = []
        actions: set[str] = set()
        fields: list[str] = []
        for segment in segments(text):
            run = [self._classify(word, lex) for word in self.tokenizer.cut(segment, HMM=False)]
            for index, token in enumerate(run):
                if token.action:
                    actions.add(token.action)
                asks_the_next = token.text in _WHAT_IS_NEEDED and index + 1 < len(run) and run[index + 1].field
                if token.field and token.field not in fields and not asks_the_next:
                    fields.append(token.field)
            runs.append(tuple(run))
        core = "".join(t.text for run in runs for t in run if t.kind == CORE)
        return Query(question, text, tuple(runs), frozenset(actions), tuple(fields), core, self._cued(text),
                     self._matter_names)

    def _cued(self, text: str) -> tuple[tuple[str, str], ...]:
        """Fields by their cue words, then by their hints: the last found first, since a Chinese question ends with
        what it asks ("我上班没空叫我爸去行吗", "老伴的身份证要带上不"). Words are found left to right, the longest at
        each place, so a cue inside a longer one found first is part of it (电话 in 打电话能办, 填表 in 帮着填表).
        Returns (field, cue word) pairs."""
        cues: list[tuple[str, str]] = []
        for pattern, words in self._cue_patterns:
            found = [(m.start(), words[m.group()], m.group()) for m in pattern.finditer(text)]
            cues += ((field, word) for _, field, word in sorted(found, key=lambda hit: -hit[0]))
        return tuple(cues)

    def _classify(self, word: str, lex: Lexicon) -> Token:
        if word in lex.actions:
            return Token(lex.actions[word], CORE, action=lex.actions[word])
        if word in lex.fields:
            return Token(word, SOFT, field=lex.fields[word])
        if word in lex.regions or (len(word) > 1 and word[:-1] in lex.regions and word[-1] in "省市区县镇"):
            return Token(word, SOFT, region=True)
        if len(word) in (3, 4) and word.endswith(_PLACE_ENDINGS) and word not in self._names:
            return Token(word, SOFT, region=True)  # a district or town the regions list does not know: 二七区
        if len(word) > 2 and word.endswith(_OFFICE_ENDINGS):
            return Token(word, SOFT)  # the office named around the question: 民政局, 车管所, 社保局
        if word in lex.filler or word.isascii() and word.isalpha():
            return Token(word, SOFT)  # chatter, and English words the glossary does not know
        # An item name typed in full (机动车驾驶证补领) is one token: the action inside still counts.
        inside = next((a for a in self._action_words if a in word), None)
        return Token(word, CORE, action=lex.actions[inside] if inside else None, channel=word in lex.channels,
                     named=word.replace(inside, "", 1) if inside else word)
