"""Load everything the assistant knows for one configuration: catalogue (+ the operator's extra guides),
lexicon, matcher, thresholds and the hall's 事项清单 and contacts. Done once per process."""
from __future__ import annotations

from dataclasses import dataclass

from knowledge.hall import load_hall
from knowledge.model import HallData
from knowledge.service import Knowledge, load_knowledge

from .config import BUNDLED_HALL_DIR, Config


@dataclass(frozen=True)
class KnowledgeBase:
    knowledge: Knowledge
    hall: HallData


def load_knowledge_base(config: Config) -> KnowledgeBase:
    knowledge = load_knowledge(extra_guides=config.catalogue_paths)
    hall_dir = None if config.hall_dir == BUNDLED_HALL_DIR else config.hall_dir
    return KnowledgeBase(knowledge, load_hall(hall_dir, knowledge.catalogue))
