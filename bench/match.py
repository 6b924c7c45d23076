"""Matcher accuracy and speed on labelled citizen questions, and a scale run on a generated catalogue.

    python bench/match.py [QUESTIONS.jsonl ...] [--scale 50000] [--no-scale]

Labels: `ids` (acceptable item ids), `kind` (in/out), `style` (tags). Prints tables; asserts nothing.
"""
from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from knowledge.catalogue import load_catalogue  # noqa: E402
from knowledge.decide import DECLINE, decide  # noqa: E402
from knowledge.lexicon import load_lexicon  # noqa: E402
from knowledge.matcher import Matcher  # noqa: E402
from knowledge.model import Catalogue  # noqa: E402
from knowledge.service import load_knowledge  # noqa: E402

DEFAULT_QUESTIONS = sorted((ROOT.parent / "shared" / "data" / "questions").glob("*.jsonl"))


def rss_mb():
    import psutil  # in the [test] extra

    return psutil.Process().memory_info().rss / 2**20


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else float("nan")


def table(rows, headers):
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(line.format(*headers))
    print(line.format(*["-" * w for w in widths]))
    for row in rows:
        print(line.format(*row))
    print()


def run_questions(paths, verbose=False):
    started = time.perf_counter()
    knowledge = load_knowledge()
    startup = time.perf_counter() - started
    rows = [json.loads(line) for path in paths for line in Path(path).read_text(encoding="utf-8").splitlines()
            if line.strip()]
    for row in rows[:20]:  # warm caches the way a running service is warm
        knowledge.consult(row["q"])
    latencies = []
    per_style = defaultdict(lambda: [0, 0])
    counts = defaultdict(int)
    misses = []
    for row in rows:
        t0 = time.perf_counter()
        result = knowledge.consult(row["q"])
        latencies.append((time.perf_counter() - t0) * 1000)
        ids = set(row["ids"])
        top = [h.id for h in result.hits]
        declined = result.decision.kind == DECLINE
        if row["kind"] == "in":
            counts["in"] += 1
            ok1 = bool(top) and top[0] in ids
            counts["top1"] += ok1
            counts["top3"] += bool(ids & set(top[:3]))
            counts["wrongly_declined"] += declined
            counts["answered_right"] += ok1 and not declined
            for style in row.get("style", []):
                per_style[style][0] += ok1 and not declined
                per_style[style][1] += 1
            if not ok1 or declined:
                misses.append((row["q"], result.decision.kind, [(h.name[:28], h.score) for h in result.hits[:2]],
                               [knowledge.catalogue.get(i).title[:28] for i in row["ids"][:1]]))
        else:
            counts["out"] += 1
            counts["declined"] += declined
            for style in row.get("style", []):
                per_style[style][0] += declined
                per_style[style][1] += 1
            if not declined:
                misses.append((row["q"], result.decision.kind, [(h.name[:28], h.score) for h in result.hits[:2]], "OUT"))
    n_in, n_out = max(counts["in"], 1), max(counts["out"], 1)
    print(f"# Matcher on {', '.join(Path(p).name for p in paths)}: {counts['in']} in-scope, {counts['out']} out-of-scope"
          f" questions, catalogue {knowledge.catalogue.version}\n")
    table([
        ["top-1 accuracy (in-scope)", f"{counts['top1'] / n_in:.3f}", "≥ 0.92"],
        ["top-3 accuracy (in-scope)", f"{counts['top3'] / n_in:.3f}", "≥ 0.97"],
        ["answered or clarified with the right item first", f"{counts['answered_right'] / n_in:.3f}", ""],
        ["out-of-scope declined", f"{counts['declined'] / n_out:.3f}", "≥ 0.90"],
        ["in-scope wrongly declined", f"{counts['wrongly_declined'] / n_in:.3f}", "≤ 0.05"],
        ["mean latency per query (ms)", f"{statistics.mean(latencies):.2f}", ""],
        ["p95 latency per query (ms)", f"{percentile(latencies, 95):.2f}", "≤ 5"],
        ["start-up: load + jieba + index (s)", f"{startup:.2f}", "≤ 2"],
    ], ["measure", "value", "target"])
    table([[s, f"{ok}/{n}", f"{ok / n:.2f}"] for s, (ok, n) in sorted(per_style.items(), key=lambda kv: -kv[1][1])],
          ["style", "right", "share"])
    if verbose:
        for miss in misses:
            print("MISS", *miss)


def generated_catalogue(base: Catalogue, size: int) -> Catalogue:
    """Scale the real catalogue: the same items as published by many counties (names, units and regions vary)."""
    from dataclasses import replace
    regions = ["越秀区", "海珠区", "荔湾区", "天河区", "白云区", "黄埔区", "番禺区", "花都区", "南沙区", "从化区", "增城区",
               "禅城区", "南海区", "顺德区", "三水区", "高明区", "香洲区", "斗门区", "金湾区", "龙湖区", "金平区", "濠江区"]
    items = []
    copy = 0
    while len(items) < size:
        for item in base.items:
            if len(items) >= size:
                break
            region = regions[copy % len(regions)]
            suffix = f"（{region}第{copy // len(regions) + 1}批）" if copy else ""
            items.append(replace(item, id=f"{item.id}-{copy}" if copy else item.id,
                                 name=item.name + suffix if copy % 3 else item.name,
                                 unit=f"{region}{item.unit}" if copy else item.unit))
        copy += 1
    return Catalogue(version=f"generated-{size}", items=tuple(items))


def run_scale(size, paths):
    base = load_catalogue()
    catalogue = generated_catalogue(base, size)
    lexicon = load_lexicon()
    questions = [json.loads(line)["q"] for path in paths for line in Path(path).read_text("utf-8").splitlines()
                 if line.strip()]
    gc.collect()
    before = rss_mb()
    t0 = time.perf_counter()
    matcher = Matcher(catalogue, lexicon)
    build = time.perf_counter() - t0
    gc.collect()
    held = rss_mb() - before
    for q in questions[:20]:
        matcher.search(q, 15)
    latencies = []
    for q in questions:
        t1 = time.perf_counter()
        decide(matcher.search(q, 15))
        latencies.append((time.perf_counter() - t1) * 1000)
    print(f"# Scale run: {len(catalogue):,} items generated from the {len(base):,} real ones\n")
    table([
        ["index build time incl. jieba (s)", f"{build:.2f}", ""],
        ["memory held by the matcher incl. jieba (MB, RSS growth)", f"{held:.0f}", ""],
        ["mean latency per query (ms)", f"{statistics.mean(latencies):.2f}", ""],
        ["p95 latency per query (ms)", f"{percentile(latencies, 95):.2f}", "≤ 25"],
    ], ["measure", "value", "target"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("questions", nargs="*", type=Path, default=DEFAULT_QUESTIONS)
    parser.add_argument("--scale", type=int, default=50_000)
    parser.add_argument("--no-scale", action="store_true")
    parser.add_argument("--verbose", "-v", action="store_true", help="list every miss")
    args = parser.parse_args()
    if not args.questions:
        parser.error("no question files given and ../shared/data/questions/ not found")
    run_questions(args.questions, args.verbose)
    if not args.no_scale:
        run_scale(args.scale, args.questions)


if __name__ == "__main__":
    main()
