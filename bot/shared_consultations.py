"""Consultations shared by every worker through Redis.

Matching a question against the catalogue is the dearest part of a turn (about 1.4 ms), and each gunicorn worker
would otherwise match every question itself: with four workers a question asked again is matched up to four
times. Each worker first looks in its own memory (the most recent RECENT_QUESTIONS), then in Redis, and only then
matches; what it matched goes to Redis for the others.

What Redis keeps is the ranked hits of a question, as JSON under a key made of the knowledge's fingerprint
(catalogue version, lexicon, thresholds, matcher code: knowledge.service.Knowledge.fingerprint), `top` and a
digest of the question. The question's analysis (0.1 ms) and the decision are made again from them, so a
Consultation read back equals the one computed. Another catalogue or matcher reads other keys: nothing stale is
ever served; old keys expire after TTL_SECONDS.

Redis is a help here, never a need: when it does not answer, or an entry cannot be read, the question is matched
in the worker as before.
"""
from __future__ import annotations

import hashlib
import json
import logging
from functools import lru_cache
from typing import TYPE_CHECKING, Callable

from redis.exceptions import RedisError

from knowledge.decide import decide
from knowledge.matcher import Hit
from knowledge.service import Consultation

if TYPE_CHECKING:
    from knowledge.service import Knowledge

    from .redis_commands import Commands

log = logging.getLogger(__name__)

RECENT_QUESTIONS = 2048  # kept in each process: citizens ask the same few questions in the same words
TTL_SECONDS = 24 * 3600
PREFIX = "bangban:consult:"


class SharedConsultations:
    def __init__(self, knowledge: "Knowledge", commands: "Commands", ttl_seconds: int = TTL_SECONDS,
                 prefix: str = PREFIX) -> None:
        self.knowledge = knowledge
        self._redis = commands
        self._ttl = ttl_seconds
        self._prefix = f"{prefix}{knowledge.fingerprint}:"

    def __call__(self, question: str, top: int = 5) -> Consultation:
        key = self._prefix + f"{top}:" + hashlib.sha1(question.encode("utf-8")).hexdigest()
        try:
            raw = self._redis("GET", key)
        except RedisError as exc:
            log.warning("consultations: Redis does not answer (%s); matching in this worker", type(exc).__name__)
            return self.knowledge.consult(question, top)
        shared = self._read(raw, question) if raw is not None else None
        if shared is not None:
            return shared
        consultation = self.knowledge.consult(question, top)
        try:
            self._redis("SET", key, _encode(consultation.hits), "EX", self._ttl)
        except RedisError as exc:
            log.warning("consultations: could not share a consultation (%s)", type(exc).__name__)
        return consultation

    def _read(self, raw: bytes | str, question: str) -> Consultation | None:
        """The consultation from its shared hits; None when they cannot be read (matched again, written over)."""
        hits = _decode(raw)
        catalogue = self.knowledge.catalogue
        if hits is None or any(catalogue.get(hit.id) is None for hit in hits):
            log.warning("consultations: a shared entry could not be read; matching again")
            return None
        query = self.knowledge.matcher.analyse(question)
        return Consultation(query, hits, decide(hits, self.knowledge.thresholds))


def _encode(hits: tuple[Hit, ...]) -> str:
    return json.dumps([[h.id, h.name, h.score, h.matched, h.coverage, h.other_case] for h in hits],
                      ensure_ascii=False, separators=(",", ":"))


def _decode(raw: bytes | str) -> tuple[Hit, ...] | None:
    try:
        rows = json.loads(raw)
        return tuple(_hit(*row) for row in rows)
    except (ValueError, TypeError):
        return None


def _hit(id: str, name: str, score: float, matched: str, coverage: float, other_case: bool) -> Hit:
    if not (isinstance(id, str) and isinstance(name, str) and isinstance(matched, str)
            and isinstance(score, (int, float)) and isinstance(coverage, (int, float))
            and isinstance(other_case, bool)):
        raise TypeError("not a hit")
    return Hit(id, name, score, matched, coverage, other_case)


def consultations(knowledge: "Knowledge", commands: "Commands | None") -> Callable[..., Consultation]:
    """`knowledge.consult` remembered in this process, and shared through Redis when there is one."""
    source = knowledge.consult if commands is None else SharedConsultations(knowledge, commands)
    return lru_cache(maxsize=RECENT_QUESTIONS)(source)
