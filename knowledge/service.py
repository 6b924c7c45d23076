"""Everything the assistant knows, loaded once: catalogue, lexicon, matcher, thresholds, the hall's data."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Sequence

import jieba

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

    @cached_property
    def fingerprint(self) -> str:
        """What a consultation depends on besides the question: the catalogue's version, the lexicon, the
        thresholds, this package's code and jieba's. Equal in every process that loaded the same knowledge (no
        hash-order), different as soon as any of them changes; a key for answers shared between processes."""
        digest = hashlib.sha1()
        canonical = {"catalogue": self.catalogue.version, "lexicon": _canonical(vars(self.lexicon)),
                     "thresholds": asdict(self.thresholds), "jieba": jieba.__version__}
        digest.update(json.dumps(canonical, ensure_ascii=False, sort_keys=True).encode("utf-8"))
        for source in sorted(Path(__file__).parent.glob("*.py")):
            digest.update(source.name.encode("utf-8") + b"\0" + source.read_bytes())
        return digest.hexdigest()[:16]


def _canonical(value: Any) -> Any:
    """A JSON-able, order-free form of the lexicon's mappings and sets."""
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(key): _canonical(item) for key, item in sorted(value.items())}
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, (list, tuple)):
        return [_canonical(item) for item in value]
    return value


def load_knowledge(extra_guides: Sequence[Path] = (), lexicon_dir: Path | None = None,
                   thresholds: Path | None = None) -> Knowledge:
    catalogue = load_catalogue([*bundled_paths(), *extra_guides])
    lexicon = load_lexicon(lexicon_dir)
    return Knowledge(catalogue, lexicon, Matcher(catalogue, lexicon), load_thresholds(thresholds))
