"""Turn ranked hits into one decision: answer (one item), clarify (2-5 numbered choices) or decline.

Kept apart from the matcher so the thresholds (data: knowledge/data/decision.toml) are tested on plain numbers.
Items with the same name (the same service published by two units) count as one choice.
Besides the score, two facts the matcher gives about the best hit count:
- a low score is forgiven when the question names most of the item's name (a long question with chatter);
- a lone item is not answered when the question names another sub-case of it (Hit.other_case), unless the
  score is confident anyway.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Sequence

from .matcher import Hit
from .problems import DataError, Problem

BUNDLED = Path(__file__).parent / "data" / "decision.toml"
ANSWER, CLARIFY, DECLINE = "answer", "clarify", "decline"


@dataclass(frozen=True)
class Thresholds:
    decline_below: float = 0.6
    named_from: float = 0.6  # from here up to decline_below, answered tentatively when the item is named
    named_share: float = 1.0  # "named": at least this share of the item's name is in the question
    answer_at: float = 0.75
    answer_margin: float = 0.06
    clarify_window: float = 0.08
    max_choices: int = 5


@dataclass(frozen=True)
class Decision:
    kind: str  # ANSWER, CLARIFY or DECLINE
    choices: tuple[Hit, ...]  # ANSWER: the one item; CLARIFY: 2..max_choices; DECLINE: nearest items, if any
    tentative: bool = False  # ANSWER below answer_at: the only plausible item, but say "您问的可能是"


def load_thresholds(path: Path | None = None) -> Thresholds:
    path = Path(path) if path else BUNDLED
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DataError([Problem(str(path), None, None, f"cannot read file: {exc.strerror}")]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise DataError([Problem(str(path), None, None, f"not valid TOML: {exc}")]) from exc
    known = {f.name: f.type for f in fields(Thresholds)}
    problems = [Problem(str(path), None, key, "unknown setting") for key in data if key not in known]
    values = {}
    for key, value in data.items():
        if key not in known:
            continue
        if key == "max_choices":
            ok = isinstance(value, int) and not isinstance(value, bool) and 2 <= value <= 9
            expected = "a whole number from 2 to 9"
        else:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1
            expected = "a number from 0 to 1"
        if ok:
            values[key] = value
        else:
            problems.append(Problem(str(path), None, key, f"should be {expected}, got {value!r}"))
    if not problems:
        t = Thresholds(**values)
        if t.decline_below > t.answer_at:
            problems.append(Problem(str(path), None, "decline_below", "must not be above answer_at"))
        if t.named_from > t.decline_below:
            problems.append(Problem(str(path), None, "named_from", "must not be above decline_below"))
    if problems:
        raise DataError(problems)
    return Thresholds(**values)


def _distinct(hits: Sequence[Hit]) -> list[Hit]:
    seen: set[str] = set()
    out = []
    for hit in hits:
        if hit.name not in seen:
            seen.add(hit.name)
            out.append(hit)
    return out


def decide(hits: Sequence[Hit], t: Thresholds = Thresholds()) -> Decision:
    """Hits must be sorted best first."""
    distinct = _distinct(hits)
    if not distinct:
        return Decision(DECLINE, ())
    best = distinct[0]
    if best.score < t.decline_below:
        if best.score >= t.named_from and best.coverage >= t.named_share and not best.other_case:
            return Decision(ANSWER, (best,), tentative=True)
        return Decision(DECLINE, tuple(distinct[:3]))
    runner_up = distinct[1].score if len(distinct) > 1 else 0.0
    if best.score >= t.answer_at and best.score - runner_up >= t.answer_margin:
        return Decision(ANSWER, (best,))
    close = [h for h in distinct if h.score >= max(best.score - t.clarify_window, t.decline_below)]
    if len(close) < 2:
        close = [h for h in distinct[:2] if h.score >= t.decline_below]
    if len(close) < 2:
        if best.other_case:
            return Decision(DECLINE, tuple(distinct[:3]))
        return Decision(ANSWER, (best,), tentative=best.score < t.answer_at)
    return Decision(CLARIFY, tuple(close[: t.max_choices]))
