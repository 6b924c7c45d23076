"""Load everything the assistant knows for one configuration: catalogue (+ the operator's extra guides),
lexicon, matcher, thresholds and the hall's 事项清单 and contacts. Done once per process."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

from knowledge.hall import load_hall
from knowledge.model import HallData
from knowledge.service import Consultation, Knowledge, load_knowledge

from .config import BUNDLED_HALL_DIR, Config


RECENT_QUESTIONS = 2048  # consultations kept per process: citizens ask the same few questions in the same words


@dataclass(frozen=True)
class KnowledgeBase:
    knowledge: Knowledge
    hall: HallData
    # knowledge.consult, remembering the answers to the most recent questions (a Consultation is immutable and
    # depends on the question's text only)
    consult: Callable[..., Consultation] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "consult", lru_cache(maxsize=RECENT_QUESTIONS)(self.knowledge.consult))


def load_knowledge_base(config: Config) -> KnowledgeBase:
    knowledge = load_knowledge(extra_guides=config.catalogue_paths)
    hall_dir = None if config.hall_dir == BUNDLED_HALL_DIR else config.hall_dir
    return KnowledgeBase(knowledge, load_hall(hall_dir, knowledge.catalogue))
