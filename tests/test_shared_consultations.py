"""Consultations shared between workers through Redis (bot/shared_consultations.py), on a real Redis."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from bot.redis_commands import Commands
from bot.shared_consultations import SharedConsultations
from knowledge.service import Knowledge, load_knowledge

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ["结婚登记要带什么材料", "身份证丢了怎么补办", "公积金怎么取", "我想养一只猫", "？", "社保卡"]


@dataclass(frozen=True)
class CountingKnowledge(Knowledge):
    """The real knowledge, noting each question it had to match itself."""

    matched: list[str] = field(default_factory=list, compare=False)

    def consult(self, question: str, top: int = 5):
        self.matched.append(question)
        return super().consult(question, top)


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return load_knowledge()


def worker_knowledge(knowledge: Knowledge, **thresholds) -> CountingKnowledge:
    return CountingKnowledge(knowledge.catalogue, knowledge.lexicon, knowledge.matcher,
                             replace(knowledge.thresholds, **thresholds))


def test_a_question_matched_by_one_worker_is_answered_by_another_without_matching_it_again(knowledge, redis_client):
    client, prefix = redis_client
    first, second = worker_knowledge(knowledge), worker_knowledge(knowledge)
    one = SharedConsultations(first, Commands(client), prefix=prefix)
    other = SharedConsultations(second, Commands(client), prefix=prefix)

    computed = [one(question) for question in QUESTIONS]
    shared = [other(question) for question in QUESTIONS]

    assert first.matched == QUESTIONS and second.matched == []
    assert shared == computed  # the same hits, decision and analysed question
    assert {c.decision.kind for c in computed} >= {"answer", "decline"}


def test_a_consultation_for_more_choices_is_kept_apart(knowledge, redis_client):
    client, prefix = redis_client
    worker = worker_knowledge(knowledge)
    shared = SharedConsultations(worker, Commands(client), prefix=prefix)

    assert shared("社保卡", top=5) == knowledge.consult("社保卡", top=5)
    assert shared("社保卡", top=40) == knowledge.consult("社保卡", top=40)
    assert worker.matched == ["社保卡", "社保卡"]


def test_other_thresholds_never_read_the_answers_made_with_these(knowledge, redis_client):
    client, prefix = redis_client
    SharedConsultations(worker_knowledge(knowledge), Commands(client), prefix=prefix)("结婚登记要带什么材料")
    stricter = worker_knowledge(knowledge, answer_at=0.99)
    consultation = SharedConsultations(stricter, Commands(client), prefix=prefix)("结婚登记要带什么材料")

    assert stricter.matched == ["结婚登记要带什么材料"]
    assert consultation == stricter.consult("结婚登记要带什么材料")


def test_an_unreadable_shared_entry_is_matched_again_and_written_over(knowledge, redis_client, caplog):
    client, prefix = redis_client
    worker = worker_knowledge(knowledge)
    shared = SharedConsultations(worker, Commands(client), prefix=prefix)
    shared("身份证丢了怎么补办")
    [key] = list(client.scan_iter(match=f"{prefix}*"))
    client.set(key, '[["no such item","x",1.0,"",0.0,false]]')

    with caplog.at_level(logging.WARNING, logger="bot.shared_consultations"):
        again = shared("身份证丢了怎么补办")

    assert again == knowledge.consult("身份证丢了怎么补办")
    assert "could not be read" in caplog.text
    assert SharedConsultations(worker_knowledge(knowledge), Commands(client), prefix=prefix)._read(
        client.get(key), "身份证丢了怎么补办") == again


def test_without_redis_the_worker_matches_the_question_itself(knowledge, caplog):
    import redis

    down = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    shared = SharedConsultations(worker_knowledge(knowledge), Commands(down))

    with caplog.at_level(logging.WARNING, logger="bot.shared_consultations"):
        consultation = shared("结婚登记要带什么材料")

    assert consultation == knowledge.consult("结婚登记要带什么材料")
    assert "Redis does not answer" in caplog.text


def test_the_fingerprint_is_the_same_in_every_process(knowledge):
    """Workers share answers only if they compute the same key: no hash order may leak into it."""
    program = "from knowledge.service import load_knowledge; print(load_knowledge().fingerprint)"
    prints = {subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONHASHSEED": seed}).stdout.strip() for seed in ("1", "2")}

    assert prints == {knowledge.fingerprint}
