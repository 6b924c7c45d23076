"""查进度: the citizen's own cases, open ones first and newest first: state, next step, who holds it, the deadline
and the appointment. Several cases → a short numbered list, then the one picked; a case number in a message (alone
or in a sentence) → that case; "我的预约是什么时候", "我约的是几点" → as 查进度. Only env.cases() is looked in, so
someone else's number gets the same answer as one that does not exist. No cases → say so and offer 预约 or 咨询.
"""
from __future__ import annotations

from .. import wording
from ..intents import PROGRESS
from ..text import shorten
from . import Begin, Ctx, Flow, Reply, Step
from ._cases import NOT_YOURS, SHOWN, case_options, details, find_case_number, ordered, own_case, pick_case

NO_CASES = ("您在本中心还没有帮办代办的办件，所以查不到进度。\n"
            "要办事请回复“预约”；想先问问，直接说要办的事就行，比如“居住证要带什么材料”。")


def _start(ctx: Ctx) -> Begin | Reply:
    number = find_case_number(ctx.text)
    if number:
        case = own_case(ctx, number)
        return Reply((details(case) if case else NOT_YOURS.format(number=number),))
    cases = ordered(ctx.cases())
    if not cases:
        if ctx.env.open_case:  # the gateway named the newest open case without listing them
            return Reply((wording.progress_text(ctx.hall.hall, ctx.env.open_case),))
        return Reply((NO_CASES,))
    if len(cases) == 1:
        return Reply((details(cases[0]),))
    return Begin()


def _ask(ctx: Ctx) -> str:
    cases = ordered(ctx.cases())
    head = f"您有{len(cases)}件帮办代办（办理中的在前），看哪一件请回复数字："
    if len(cases) > SHOWN:
        head = (f"您有{len(cases)}件帮办代办，下面是最近的{SHOWN}件（办理中的在前），"
                "更早的请直接回复编号。看哪一件请回复数字：")
    return head


def _finish(ctx: Ctx) -> Reply:
    case = own_case(ctx, ctx.data["case"])
    if case is None:  # gone meanwhile (should not happen: the step only takes the citizen's own)
        return Reply((NOT_YOURS.format(number=shorten(ctx.data["case"], 20)),))
    return Reply((details(case),))


PROGRESS_FLOW = Flow(
    name="progress", title="查进度", triggers=(PROGRESS,), priority=0,
    words=(r"(?i)BB\s*[-—_－]?\s*\d{8}", r"我(们)?的(预约|办件|申请)", r"我约的"),  # "我的预约是什么时候"
    steps=(Step("case", ask=_ask, options=lambda ctx: case_options(ordered(ctx.cases())),
                recognise=lambda text, ctx: pick_case(text, ordered(ctx.cases())),
                help="回复数字看那一件的进度，也可以直接输入编号。"),),
    start=_start, finish=_finish)

FLOWS = (PROGRESS_FLOW,)
