"""Rank catalogue items for a citizen's question.

How an item is scored (all in [0, 1]):
- query coverage: how much of what the citizen said (the core words, weighted by how rare each character is in
  item names) the item's name explains, by character pairs, by pinyin pairs (homophones from speech input and
  pinyin keyboards: 残疾人正 ~ 残疾人证) and, at half credit, by its guide text (materials, conditions, unit);
- item coverage: how much of the item's name the question mentions, so the plain item beats its variants when
  the question is plain (结婚登记 before 结婚登记预约);
- action agreement: a question about 补领 is not answered by an item about 首次申领.
The best hit also carries two facts for the decision step (knowledge/decide.py), not part of the score:
- name coverage: how much of the item's name, weighted by how rare each character is, the question mentions
  (装修期间电表暂拆 names all that matters of 用电服务暂拆, however much else it says);
- another sub-case: the item is one sub-case (a qualifier in brackets: 住房公积金提取（离休、退休提取）) the
  question does not mention, while the question names something specific the item does not explain (买房提取
  住房公积金): probably a sub-case the catalogue does not have. Words found in many items' guides (网上, 审核,
  办法) ask about the procedure, and channels (支付宝, 手机, 打印: lexicon channels.txt) about where it is done,
  not a sub-case, and are not counted; a one-character noun before the item's words (有房取公积金, jieba's
  dictionary tags it) is counted.
Candidates come from an inverted index over character and pinyin pairs (numpy), so a 50,000-item catalogue
stays fast; only the best 40 candidates are scored exactly.
"""
from __future__ import annotations

import math
import re
import statistics
import sys
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Iterable

import jieba
import numpy as np
from rapidfuzz import fuzz

from .lexicon import Lexicon
from .model import Catalogue, Item
from .normalize import clean, pinyin_of, segments
from .query import CORE, Query, QueryAnalyser

PINYIN_CREDIT = 0.85
DETAIL_CREDIT = 0.5
SINGLE_CHAR_CREDIT = 0.3
SOFT_FACTOR = 0.3
ITEM_COVERAGE_SHARE = 0.5
ACTION_MISMATCH = 0.7
CONTEXT_WEIGHT = 0.2  # a clause the item explains nothing of is context ("我舅舅在香港住院了")
SIDE_SERVICE = 0.85  # 进度查询 / 预约 items, when the question does not ask for them
VARIANT = 0.93  # 注销, 迁出, 换领 ... variants, when the question names no action (办残疾人证 = apply)
SIDE_ACTIONS = frozenset({"查询", "预约"})
# A generic item (办理往来港澳通行证, no action in its name) covers these steps of a document's life, in part.
LIFECYCLE_ACTIONS = frozenset({"首次申领", "换领", "补领", "延续"})
GENERIC_ITEM_CREDIT = 0.75
DEFAULT_ACTIONS = frozenset({"首次申领", "设立", "许可", "核准", "认定", "报名", "申报", "确认", "备案"})
CANDIDATES = 40
TYPO_SIMILARITY = 80  # rapidfuzz partial_ratio of a core word against the item name
TYPO_CREDIT = 0.6
# A word in at least this share of the items' guides (and at least two) is procedure vocabulary, not a sub-case.
GUIDE_WORD_SHARE = 0.004
GUIDE_SAMPLE = 2500  # guides that share is counted on: all of a hall's catalogue, an even sample of a huge one


@dataclass(frozen=True)
class Hit:
    id: str
    name: str
    score: float
    matched: str = ""  # the part of the question the item explains, for logs and tests
    # Best hit only (see the module docstring): how much of the item's name the question names, and whether it
    # names a sub-case the item is not.
    coverage: float = 0.0
    other_case: bool = False


@dataclass(frozen=True, slots=True)
class _Entry:
    bigrams: frozenset[str]
    pinyin: frozenset[str]
    chars: frozenset[str]
    detail: str  # guide text, segments joined by "|": a pair is looked up as a substring (far less memory than a set)
    title_pairs: tuple[tuple[str, tuple[str, str]], ...]  # pairs of the title with sound keys, for item coverage
    actions: frozenset[str]
    title: str  # cleaned, for typo tolerance
    qualifier_pairs: tuple[tuple[str, tuple[str, str]], ...]  # pairs only the bracketed qualifier has


def _pairs(text: str) -> list[tuple[str, tuple[str, str]]]:
    """Character pairs of each segment, with their two sound-alike keys: a pair typed with one wrong homophone
    (人正 for 人证, 魔托 for 摩托) shares one key with the right one; two wrong characters share none.
    Keys are interned: the same pair in thousands of items is one string in memory."""
    out = []
    for seg in segments(text):
        for a, b in zip(seg, seg[1:]):
            out.append((sys.intern(a + b), _sound_keys(a, b)))
    return out


def _sound_keys(a: str, b: str) -> tuple[str, str]:
    return sys.intern(f"{a}|{pinyin_of(b)}"), sys.intern(f"{pinyin_of(a)}|{b}")


def _split_qualifier(title: str) -> tuple[str, str]:
    """(name outside brackets, text inside brackets): 住房公积金提取(离休、退休提取) -> 住房公积金提取, 离休、退休提取."""
    outside, inside, depth = [], [], 0
    for ch in title:
        if ch == "(":
            depth += 1
            inside.append(" ")
        elif ch == ")":
            depth = max(depth - 1, 0)
            inside.append(" ")
        else:
            (inside if depth else outside).append(ch)
    return "".join(outside), "".join(inside)


def _detail_text(item: Item) -> str:
    parts = [item.unit, *item.categories, *item.materials, (item.conditions or "")[:300], item.faq or "",
             item.promised_limit or ""]
    return " ".join(p for p in parts if p)


class Matcher:
    """Built once per catalogue and lexicon; `search` is safe to call from many threads."""

    def __init__(self, catalogue: Catalogue, lexicon: Lexicon):
        self.catalogue = catalogue
        self.lexicon = lexicon
        items = catalogue.items
        names = {w for item in items for w in (item.name, item.sub_item or "") if w}
        self.analyser = QueryAnalyser(lexicon, extra_words=tuple(sorted(names)))
        action_words = sorted((w for w in lexicon.actions if len(w) > 1), key=len, reverse=True)
        self._entries: list[_Entry] = []
        char_df: dict[str, int] = {}
        postings: dict[str, list[int]] = {}
        for index, item in enumerate(items):
            title = clean(item.title)
            extra = clean(item.catalogue_name or "") if item.catalogue_name not in (None, item.name) else ""
            actions = frozenset(lexicon.actions[w] for w in action_words if w in title)
            widened = [w for key, words in lexicon.expansions.items() if key in title for w in words]
            name_text = " ".join([title, extra, *sorted(actions), *widened])
            pairs = _pairs(name_text)
            name, qualifier = _split_qualifier(title)
            name_bigrams = {b for b, _ in _pairs(name)}
            entry = _Entry(
                bigrams=frozenset(b for b, _ in pairs),
                pinyin=frozenset(k for _, keys in pairs for k in keys),
                chars=frozenset(title),
                detail="|".join(segments(clean(_detail_text(item)))),
                title_pairs=tuple(_pairs(title)),
                actions=actions,
                title=title,
                qualifier_pairs=tuple(p for p in _pairs(qualifier) if p[0] not in name_bigrams),
            )
            self._entries.append(entry)
            for ch in entry.chars:
                char_df[ch] = char_df.get(ch, 0) + 1
            for key in entry.bigrams | entry.pinyin:
                postings.setdefault(key, []).append(index)
        n = max(len(items), 1)
        self._n = n
        self._char_idf = {ch: math.log((n + 1) / (df + 0.5)) for ch, df in char_df.items()}
        # A character no item name uses says nothing about the catalogue (chatter, a typo): an ordinary weight.
        self._unseen_idf = statistics.median(self._char_idf.values()) if self._char_idf else 1.0
        self._postings = {k: np.fromiter(v, dtype=np.int32, count=len(v)) for k, v in postings.items()}
        self._ids = [item.id for item in items]
        self._titles = [item.title for item in items]
        self._guide_sample = [entry.detail for entry in self._entries[::max(1, math.ceil(n / GUIDE_SAMPLE))]]
        self._procedure_min = max(2, GUIDE_WORD_SHARE * len(self._guide_sample))
        self._procedure_word = lru_cache(maxsize=8192)(self._in_many_guides)
        self._nouns = _one_character_nouns()

    # -- public -------------------------------------------------------------------------------------------

    def analyse(self, question: str) -> Query:
        return self.analyser.analyse(question)

    def search(self, question: str | Query, top: int = 10) -> list[Hit]:
        query = question if isinstance(question, Query) else self.analyse(question)
        if query.empty:
            return []
        prepared = _Prepared.build(query, self._char_idf, self._unseen_idf)
        candidates = self._candidates(prepared, max(CANDIDATES, 2 * top))
        scored = []
        for index in candidates:
            score, matched = self._score(self._entries[index], prepared)
            if score > 0:
                scored.append((score, -len(self._titles[index]), index, matched))
        scored.sort(key=lambda s: (s[0], s[1], -s[2]), reverse=True)
        hits = [Hit(self._ids[i], self._titles[i], round(s, 4), m) for s, _, i, m in scored[:max(top, 1)]]
        if hits:
            best = self._entries[scored[0][2]]
            hits[0] = replace(hits[0], coverage=round(self._name_coverage(best, prepared), 4),
                              other_case=self._other_case(best, prepared))
        return hits

    # -- internals ------------------------------------------------------------------------------------------

    def _candidates(self, prepared: "_Prepared", limit: int) -> Iterable[int]:
        scores = np.zeros(self._n, dtype=np.float32)
        for key in prepared.lookup_keys:
            ids = self._postings.get(key)
            if ids is not None:
                scores[ids] += math.log(self._n / len(ids)) + 0.1
        hit = np.flatnonzero(scores)
        if len(hit) > limit:
            hit = hit[np.argpartition(scores[hit], -limit)[-limit:]]
        return hit.tolist()

    @staticmethod
    def _forgive_typos(entry: _Entry, q: "_Prepared", char_credits: list[float]) -> None:
        """A word typed with one wrong character inside it (最低生后保障 for 最低生活保障), otherwise explained by the
        item's name: that character gets partial credit when rapidfuzz finds the whole run in the name."""
        for start, end in q.word_spans:
            missing = [i for i in range(start, end) if char_credits[i] == 0.0]
            if len(missing) != 1 or end - start < 4 or missing[0] in (start, end - 1):
                continue  # one wrong character inside a word of four or more
            word = "".join(q.chars[i][0] for i in range(start, end))
            if fuzz.partial_ratio(word, entry.title) >= TYPO_SIMILARITY:
                for i in missing:
                    char_credits[i] = TYPO_CREDIT

    def _char_credits(self, entry: _Entry, q: "_Prepared") -> list[float]:
        """How well the item explains each character of the question, from 0 to 1."""
        credits = []
        for bigram, pinyin in q.pairs:
            if bigram is None:
                credits.append(0.0)
            elif bigram in entry.bigrams:
                credits.append(1.0)
            elif pinyin[0] in entry.pinyin or pinyin[1] in entry.pinyin:
                credits.append(PINYIN_CREDIT)
            elif bigram in entry.detail:
                credits.append(DETAIL_CREDIT)
            else:
                credits.append(0.0)
        char_credits = []
        generic = not entry.actions
        for pos, (ch, weight, core, single, clause, action) in enumerate(q.chars):
            credit = max(credits[pos - 1] if pos > 0 else 0.0, credits[pos] if pos < len(credits) else 0.0)
            if credit == 0.0 and single and ch in entry.chars:
                credit = SINGLE_CHAR_CREDIT
            if credit < GENERIC_ITEM_CREDIT and generic and action in LIFECYCLE_ACTIONS:
                credit = GENERIC_ITEM_CREDIT
            char_credits.append(credit)
        self._forgive_typos(entry, q, char_credits)
        return char_credits

    def _score(self, entry: _Entry, q: "_Prepared") -> tuple[float, str]:
        char_credits = self._char_credits(entry, q)
        clause_hit = _explained_clauses(q, char_credits)
        num = den = 0.0
        matched = []
        for (ch, weight, core, _, clause, _), credit in zip(q.chars, char_credits):
            if core:
                if credit == 0.0 and clause not in clause_hit:
                    weight *= CONTEXT_WEIGHT
                num += weight * credit
                den += weight
            elif credit > 0:
                num += weight * SOFT_FACTOR * credit
                den += weight * SOFT_FACTOR * credit  # a soft word the item explains helps, never hurts
            matched.append(ch if credit > 0 else " ")
        if den == 0 or num == 0:
            return 0.0, ""
        query_coverage = num / den
        title = entry.title_pairs
        if title:
            seen = sum(1 for pair in title if q.names(pair))
            item_coverage = seen / len(title)
        else:
            item_coverage = 0.0
        score = query_coverage * (1 - ITEM_COVERAGE_SHARE + ITEM_COVERAGE_SHARE * item_coverage)
        score *= _action_factor(q.actions, entry.actions)
        return score, " ".join("".join(matched).split())

    def _name_coverage(self, entry: _Entry, q: "_Prepared") -> float:
        weights = {}
        covered = set()
        for pair in entry.title_pairs:
            for ch in pair[0]:
                weights[ch] = self._char_idf.get(ch, self._unseen_idf)
            if q.names(pair):
                covered.update(pair[0])
        total = sum(weights.values())
        return sum(weights[ch] for ch in covered) / total if total else 0.0

    def _other_case(self, entry: _Entry, q: "_Prepared") -> bool:
        qualifier = entry.qualifier_pairs
        if not qualifier or any(q.names(pair) for pair in qualifier):
            return False
        credits = self._char_credits(entry, q)
        clause_hit = _explained_clauses(q, credits)
        for start, end in q.core_words:
            if q.chars[start][4] in clause_hit and not any(credits[start:end]):
                word = "".join(q.chars[i][0] for i in range(start, end))
                if word not in self.lexicon.channels and not self._procedure_word(word):
                    return True
        # A one-character noun before the item's words (有房取公积金, 买了房怎么提取) names a case as well as a word
        # does: the condition comes first. After them it is what the question asks about the item (提取公积金要带
        # 什么卡). Unless the name explains it: a pair of the name, or a character of the name the rest of the
        # question does not already name (住房 is named by 住房公积金 itself, so the 房 of 有房 is something else).
        named = {ch for pair in entry.title_pairs if q.names(pair) for ch in pair[0]}
        for (ch, _, _, single, clause, _), credit, later in zip(q.chars, credits, _credit_after(credits)):
            if single and ch in self._nouns and clause in clause_hit and later and (
                    credit == 0.0 or credit == SINGLE_CHAR_CREDIT and ch in named):
                return True
        return False

    def _in_many_guides(self, word: str) -> bool:
        """Procedure vocabulary (网上, 审核, 办法): about how things are done, not which case. Cached per word."""
        count = 0
        for detail in self._guide_sample:
            count += word in detail
            if count >= self._procedure_min:
                return True
        return False


@lru_cache(maxsize=1)
def _one_character_nouns() -> frozenset[str]:
    """Characters jieba's own dictionary tags as a noun (房, 卡, 药; not 带, 岁, 考): things a question is about."""
    with jieba.get_dict_file() as f:
        return frozenset(re.findall(r"^(\w) \d+ ng?$", f.read().decode("utf-8"), re.M))


def _credit_after(char_credits: list[float]) -> list[bool]:
    """For each character: does a character after it match the item?"""
    after, found = [], False
    for credit in reversed(char_credits):
        after.append(found)
        found = found or credit > SINGLE_CHAR_CREDIT
    return after[::-1]


def _explained_clauses(q: "_Prepared", char_credits: list[float]) -> set[int]:
    """Clauses with a core character the item explains; the rest of the question is context."""
    return {clause for (_, _, core, _, clause, _), credit in zip(q.chars, char_credits)
            if core and credit >= DETAIL_CREDIT}


def _action_factor(asked: frozenset[str], offered: frozenset[str]) -> float:
    """补领 is not 首次申领; a progress query is not the service itself; a plain "办X" means applying for X."""
    factor = 1.0
    if asked and offered and not (asked & offered):
        factor *= ACTION_MISMATCH
    if offered & SIDE_ACTIONS and not asked & SIDE_ACTIONS:
        factor *= SIDE_SERVICE
    if not asked and offered - SIDE_ACTIONS - DEFAULT_ACTIONS:
        factor *= VARIANT
    return factor


def _core_spans(chars) -> tuple[tuple[int, int], ...]:
    """[start, end) of each run of consecutive core characters in one clause, three characters or longer."""
    spans = []
    start = None
    for i, (_, _, core, _, clause, _) in enumerate(chars):
        if start is not None and (not core or chars[start][4] != clause):
            if i - start >= 3:
                spans.append((start, i))
            start = None
        if core and start is None:
            start = i
    if start is not None and len(chars) - start >= 3:
        spans.append((start, len(chars)))
    return tuple(spans)


@dataclass(frozen=True)
class _Prepared:
    """The question laid out for fast scoring: characters with weights, and the pairs between neighbours."""

    # (char, weight, core?, one-character core token?, clause number, action the token names)
    chars: tuple[tuple[str, float, bool, bool, int, str | None], ...]
    pairs: tuple[tuple[str | None, tuple[str, str] | None], ...]  # pair i joins chars i, i+1; None across segments
    bigrams: frozenset[str]
    pinyin: frozenset[str]
    lookup_keys: tuple[str, ...]
    actions: frozenset[str]
    word_spans: tuple[tuple[int, int], ...]  # [start, end) of runs of three or more core characters
    core_words: tuple[tuple[int, int], ...]  # [start, end) of each core token of two or more characters

    def names(self, pair: tuple[str, tuple[str, str]]) -> bool:
        """Does the question name this pair of an item's name, by its characters or by their sound?"""
        bigram, (k1, k2) = pair
        return bigram in self.bigrams or k1 in self.pinyin or k2 in self.pinyin

    @classmethod
    def build(cls, query: Query, char_idf: dict[str, float], unseen_idf: float) -> "_Prepared":
        chars: list[tuple[str, float, bool, bool, int, str | None]] = []
        pairs: list[tuple[str | None, tuple[str, str] | None]] = []
        core_words = []
        for clause, run in enumerate(query.runs):
            if chars:
                pairs.append((None, None))
            start = len(chars)
            for token in run:
                single = token.kind == CORE and len(token.text) == 1
                if token.kind == CORE and len(token.text) > 1:
                    core_words.append((len(chars), len(chars) + len(token.text)))
                for ch in token.text:
                    chars.append((ch, char_idf.get(ch, unseen_idf), token.kind == CORE, single, clause, token.action))
            for i in range(start, len(chars) - 1):
                a, b = chars[i][0], chars[i + 1][0]
                pairs.append((a + b, _sound_keys(a, b)))
        bigrams = frozenset(b for b, _ in pairs if b)
        pinyin = frozenset(k for _, keys in pairs if keys for k in keys)
        core_keys = set()
        for i, (b, keys) in enumerate(pairs):
            if b and (chars[i][2] or chars[i + 1][2]):
                core_keys.add(b)
                core_keys.update(keys)
        return cls(tuple(chars), tuple(pairs), bigrams, pinyin, tuple(sorted(core_keys)), query.actions,
                   _core_spans(chars), tuple(core_words))
