"""Everything the assistant knows, loaded once: catalogue, lexicon, matcher, thresholds, the hall's data."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from .catalogue import bundled_paths, load_catalogue
from .decide import Decision, Thresholds, decide, load_thresholds
from .lexicon import Lexicon, load_lexicon
from .matcher import Hit, Matcher
from .model import Catalogue
from .query import Query


@dataclass(frozen=True)
class Consultation:
    query: Query
    hits: tuple[Hit, ...]
    decision: Decision


@dataclass(frozen=True)
class Knowledge:
    catalogue: Catalogue
    lexicon: Lexicon
    matcher: Matcher
    thresholds: Thresholds

    def consult(self, question: str, top: int = 5) -> Consultation:
        query = self.matcher.analyse(question)
        hits = tuple(self.matcher.search(query, top=max(top, self.thresholds.max_choices * 3)))
        return Consultation(query, hits, decide(hits, self.thresholds))


def load_knowledge(extra_guides: Sequence[Path] = (), lexicon_dir: Path | None = None,
                   thresholds: Path | None = None) -> Knowledge:
    catalogue = load_catalogue([*bundled_paths(), *extra_guides])
    lexicon = load_lexicon(lexicon_dir)
    return Knowledge(catalogue, lexicon, Matcher(catalogue, lexicon), load_thresholds(thresholds))
