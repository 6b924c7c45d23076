"""评价 (好差评): the citizen rates a closed case, five levels, and may add a comment.

Started from outside when staff close a case: `begin_flow(state, "evaluation", {"number": "BB…"}, now)`, and the
first question (`current_question`) goes out through the outbox:
"请为您的办件…评价，回复数字：1非常满意 2满意 3基本满意 4不满意 5非常不满意". Also started by the citizen ("评价",
"我要评价", "评价 BB20261122-0007"): their closed case not yet rated (which one, when there are several).

The rating: 1–5, or the words (非常满意/很满意 1, 满意/较满意 2, 基本满意/一般 3, 不满意 4, 非常不满意/很不满意 5; Wujin's
four-level 很满意/较满意/一般/不满意 fit in), or stars ("五星" 1). Then an optional comment ("没有" skips it), then
Rate(number, rating, comment). 不满意 or worse: the citizen is told someone will call back (回访); the gateway
opens that task when it records the rating. A case already rated is not rated again.
"""
from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING, Any

from ..effects import Rate
from ..parse import chinese_number, choice_number, plain
from ..recognise import Parsed
from ..text import numbered, shorten
from . import Begin, Ctx, Flow, Reply, Step
from ._cases import case_options, find_case_number, own_case, pick_case

if TYPE_CHECKING:
    from ..views import CaseView

LEVELS = ("非常满意", "满意", "基本满意", "不满意", "非常不满意")
BAD = 4  # 不满意 and worse get a follow-up call (回访)
COMMENT_CHARS = 300

# --- what the citizen reads ---------------------------------------------------------------------------------------
SCALE = "回复数字：1非常满意 2满意 3基本满意 4不满意 5非常不满意"
ASK_RATING = "请为您的办件{number}（{title}）的服务评价，" + SCALE
ASK_RATING_BARE = "请为您的办件{number}的服务评价，" + SCALE
RATING_HELP = "请回复1到5的数字：" + SCALE[5:]
ASK_CASE = "您有几件办结的事还没评价，要评价哪一件？请回复数字："
ASK_COMMENT = "有什么意见建议可以直接说，没有请回复“没有”。"
SORRY = "很抱歉让您不满意。"
NOTHING_TO_RATE = "您现在没有待评价的办件。办件办结后，可以回复“评价”给我们的服务打分。"
ALL_RATED = "您办结的事都已经评价过了，谢谢您！"
ALREADY_RATED = "办件{number}已经评价过了，谢谢您！"
NOT_CLOSED = "办件{number}还没有办结，办结后再评价。查进度请回复“查进度”。"
THANKS = "谢谢您的评价！{number}的评价已记下，我们会继续努力。"
CALL_BACK = ("已记下您的评价和意见。工作人员会尽快打电话回访您，了解情况并给您答复；"
             "着急的话也可以回复“转人工”。")

_WORDS = (  # longest first: "非常不满意" before "不满意" before "满意"
    ("非常不满意", 5), ("很不满意", 5), ("特别不满意", 5), ("极不满意", 5), ("太差", 5), ("很差", 5), ("非常差", 5),
    ("不太满意", 4), ("不满意", 4), ("较差", 4), ("比较差", 4), ("不太好", 4),
    ("基本满意", 3), ("一般", 3), ("还行", 3), ("还可以", 3), ("凑合", 3), ("马马虎虎", 3),
    ("非常满意", 1), ("很满意", 1), ("特别满意", 1), ("十分满意", 1), ("非常好", 1), ("很好", 1), ("太好了", 1),
    ("比较满意", 2), ("较满意", 2), ("满意", 2), ("挺好", 2), ("不错", 2), ("还不错", 2),
)
_STARS = re.compile(r"([1-5一二三四五])\s*(?:颗)?星")
_NO_COMMENT = frozenset({"没有", "没", "无", "没有了", "没了", "不用", "不用了", "没意见", "没有意见", "没有建议",
                         "没什么", "没什么意见", "没啥", "算了", "不说了", "no", "跳过", "不需要"})


def parse_rating(text: str) -> Parsed:
    """1 (非常满意) to 5 (非常不满意) from a digit, a word or stars."""
    folded = unicodedata.normalize("NFKC", text).strip()
    pick = choice_number(folded)
    if pick and not pick[1]:
        return Parsed(pick[0]) if 1 <= pick[0] <= 5 else Parsed(reason=RATING_HELP)
    stars = _STARS.search(folded)
    if stars:
        n = int(stars.group(1)) if stars.group(1).isdigit() else chinese_number(stars.group(1))
        return Parsed(6 - n)
    said = plain(folded)
    for word, rating in _WORDS:
        if word in said:
            return Parsed(rating)
    return Parsed(reason=RATING_HELP)


def _comment(text: str, ctx: Ctx) -> Parsed:
    said = plain(text)
    if said in _NO_COMMENT or said.rstrip("了啊呀吧") in _NO_COMMENT:
        return Parsed("")
    return Parsed(" ".join(text.split())[:COMMENT_CHARS])


# --- which case ---------------------------------------------------------------------------------------------------

def _to_rate(ctx: Ctx) -> "list[CaseView]":
    return [c for c in ctx.cases() if c.closed and not c.rated]


def _case(ctx: Ctx) -> "CaseView | None":
    number = ctx.data.get("number")
    return own_case(ctx, number) if isinstance(number, str) else None


def _ask_case(ctx: Ctx) -> str:
    return ASK_CASE + "\n" + numbered([o.label for o in case_options(_to_rate(ctx))])


def _pick_case(text: str, ctx: Ctx) -> Parsed:
    return pick_case(text, _to_rate(ctx))


def _ask_rating(ctx: Ctx) -> str:
    case = _case(ctx)
    number = ctx.data["number"]
    return ASK_RATING.format(number=number, title=shorten(case.item_title, 20)) if case else \
        ASK_RATING_BARE.format(number=number)


def _rating(text: str, ctx: Ctx) -> Parsed:
    return parse_rating(text)


def _after_rating(rating: int, ctx: Ctx) -> str | None:
    return SORRY if rating >= BAD else None


def _start(ctx: Ctx) -> Begin | Reply:
    number = find_case_number(ctx.text)
    if number:
        case = own_case(ctx, number)
        if case is None:
            return Reply((f"没有找到您名下的这个编号：{number}。请核对编号。",))
        if case.rated:
            return Reply((ALREADY_RATED.format(number=case.number),))
        if not case.closed:
            return Reply((NOT_CLOSED.format(number=case.number),))
        return Begin({"number": case.number})
    waiting = _to_rate(ctx)
    if not waiting:
        closed = [c for c in ctx.cases() if c.closed]
        return Reply((ALL_RATED if closed else NOTHING_TO_RATE,))
    if len(waiting) == 1:
        return Begin({"number": waiting[0].number})
    return Begin({})


def _finish(ctx: Ctx) -> Reply:
    number, rating = ctx.data["number"], ctx.data["rating"]
    case = _case(ctx)
    if case is not None and case.rated:  # rated meanwhile (on the phone, at the window, twice in the chat)
        return Reply((ALREADY_RATED.format(number=number),))
    comment = ctx.data.get("comment") or None
    text = CALL_BACK if rating >= BAD else THANKS.format(number=number)
    return Reply((text,), (Rate(number, rating, comment),))


def _valid_rating(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5


STEPS = (
    Step("number", ask=_ask_case, recognise=_pick_case, valid=lambda v: isinstance(v, str), label="办件"),
    Step("rating", ask=_ask_rating, recognise=_rating, valid=_valid_rating, label="评价",
         show=lambda v: LEVELS[v - 1], after=_after_rating, help="给这次服务打分。" + SCALE),
    Step("comment", ask=ASK_COMMENT, recognise=_comment, label="意见建议", help="有意见建议直接说，没有回复“没有”。"),
)

EVALUATION = Flow(name="evaluation", title="服务评价", steps=STEPS, start=_start, finish=_finish, priority=20,
                  words=(r"^(?:我要|我想|我来|给你们|帮我)?(?:评价|服务评价|评价一下|评个价|打分|打个分|好差评|评分)"
                         r"(?:\s*(?i:BB)\s*[-—_－]?\s*\d{8}\s*[-—_－]?\s*\d{1,6})?[。.!！]?$",))

FLOWS = (EVALUATION,)
