"""Flows: conversations that collect answers one step at a time (预约帮办代办, 改约, 查进度, 材料清单, 评价 …).

A flow is one module in this package exporting `FLOWS`, a tuple of `Flow` declarations. The registry imports every
module here when `dialogs.flows` is first imported and checks each declaration; a bad one (a duplicate name, a step
jumping to a step that does not exist, two steps claiming the same correction word, a trigger that is not an intent)
fails at import, not in front of a citizen. A short example:

    MOBILE = Step("mobile", ask="请留一个手机号，方便工作人员联系您：",
                  recognise=lambda text, ctx: parse_mobile(text),        # -> Parsed(value) or Parsed(reason=…)
                  label="手机号", fix=("手机号", "手机", "电话"))           # "手机号填错了" comes back here
    KIND = Step("kind", ask="办事的是：", options=lambda ctx: (Option("个人", "个人"), Option("企业", "企业或单位")),
                label="办事人")
    NAME = Step("name", ask="请问您的姓名？", recognise=lambda text, ctx: parse_name(text),
                when=lambda data: data.get("kind") == "个人", label="姓名", fix=("名字", "姓名"))
    FLOWS = (Flow(name="example", title="登记", steps=(KIND, NAME, MOBILE), triggers=(BOOK,),
                  summary=lambda ctx: f"姓名：{ctx.data['name']}", finish=lambda ctx: Reply(("登记好了。",))),)

How a flow runs. Its answers are kept in `state["flow"] = {"name", "step", "data", "fails"}` (plain JSON): `data`
holds each answer under its step's name, whatever `Flow.start` (or `begin_flow`) put there first, and scratch keys
starting with "_" (dropped after every accepted answer). The next question is always the first step that applies
(`when`) and has no answer yet, then the summary (`summary`, answered yes/no), then `finish`, which returns the
closing text and the effects. So a correction simply forgets nothing: after "手机号填错了" and a new number, every
other answer is still there and the summary comes back; a change that makes other steps apply (个人 → 企业) asks
just those.

Every step understands, before its own answer:
- 取消 / 退出 / 不办了: leave the flow (and say so); 返回 / 上一步: the step before; 重新开始: from the start;
- 帮助: what this step wants and how to leave; 继续: the question again (after 转人工 or a digression);
- 转人工 (and 结束人工): left to talk.py, which keeps the flow and its data;
- corrections naming a step ("手机号填错了", "名字写错了", "改到周五", "电话改成139…"): back to that step (or straight
  to its new answer) and from there to the summary, without starting over; at the summary, "不对" lists what can
  be changed, numbered.
Three unusable answers in a row to one step add the offer of a person; the step stays. A flow ends with the
conversation's idle time (dialogs/state.py); a stored flow this code no longer knows, or whose record does not
check out, is dropped with a polite word.

Public functions for talk.py and the gateway: `for_intent`, `start`, `triggered`, `continue_flow`, `begin_flow`
(start a flow from outside a turn, e.g. the staff console asking for an evaluation), `current_question`,
`paused_note`. Texts are Chinese, next to the logic; every reply fits one WeChat message.
"""
from __future__ import annotations

import importlib
import json
import pkgutil
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Callable, Sequence, Union

from ..consult import BRING, named_besides_cues
from ..intents import BOOK, CANCEL, CONSULT, DETAILS, END_HUMAN, HELP, HUMAN, MATERIALS, PROGRESS, command
from ..outcome import Outcome, next_state
from ..parse import QUESTION, choice_number, plain
from ..recognise import Parsed, parse_yes_no
from ..state import STATE_VERSION, State, fresh
from ..text import WECHAT_TEXT_LIMIT, clip, fits, numbered, shorten
from ..workdays import Calendar

if TYPE_CHECKING:
    from knowledge.model import HallData, Item
    from knowledge.service import Consultation

    from ..engine import Env
    from ..views import CaseView

__all__ = ["Step", "Flow", "Option", "Begin", "Reply", "Goto", "Clarify", "Ctx", "FlowError", "Registry",
           "REGISTRY", "CONFIRM", "for_intent", "start", "triggered", "continue_flow", "begin_flow",
           "current_question", "paused_note", "pick", "listed"]

CONFIRM = "confirm"  # the step name of the summary, answered yes or no
MAX_FAILS = 99

# --- what the citizen reads, whichever flow ----------------------------------------------------------------------
HOW_TO_LEAVE = "回复“返回”回到上一步，“重新开始”从头来，“取消”退出，“转人工”找工作人员。"
HUMAN_OFFER = "如果不方便输入，可以回复“转人工”，请工作人员帮您。"
SECOND_TRY = "您正在{title}。回复“帮助”看怎么填，回复“取消”可以退出。"
LEFT = "好的，已退出{title}，刚才填的信息不保存。\n有别的事可以直接问我，回复“帮助”查看我能做什么。"
BACK = "好的，回到上一步。"
BACK_AT_FIRST = "这已经是第一个问题了。"
WAS = "（刚才填的是：{value}）"
RESTARTED = "好的，{title}从头开始。"
HELP_HEAD = "您正在{title}。"
AGAIN = "好的，我们改一下{label}。"
CONFIRM_TAIL = "以上信息对吗？回复“是”提交；要修改请直接说，比如“{example}”。"
CONFIRM_RETRY = "请回复“是”提交，或者说要改哪一项。回复“取消”不办了。"
FIX_MENU = "要改哪一项？请回复数字："
FIX_MENU_TAIL = "都对的话回复“是”提交。"
LOST = "抱歉，刚才没办完的事情接不上了，请重新开始。回复“帮助”查看我能做什么。"
ASK_AGAIN = "抱歉，这一项需要重新填一下。"
GOING_ON = "您正在{title}，我们接着来。"
PAUSED = "（您的{title}还没办完，回复“继续”接着办，回复“取消”不办了。）"

# How a spoken question ends ("非得本人去啊", "有地方停车没有"): a question when it also has a cue word.
_ASKING_END = re.compile(r"(?:[啊呀嘛哦呢吧]|没有)[^\u4e00-\u9fff]*$")
# Asking to be told ("具体地址发我一下", "把要带的资料给我列一下"): a question when it has a cue word.
_REQUEST = re.compile(r"(?:发|给|告诉|说|讲|列)(?:我|个|下|一下)|呗[^\u4e00-\u9fff]*$")
# Where to get a thing: "房产证明去哪开", "表格在哪拿", "找谁开".
WHERE_TO_GET = re.compile(r"(?:去哪|在哪|哪里|哪儿|怎么|咋|如何|到哪)(?:里|儿)?(?:开|办|弄|拿|领|取|打印|下载|准备|搞|填|拍|照|买)"
                          r"|找谁|谁开|谁给")
_BACK_WORDS = frozenset({"返回", "上一步", "上一个", "回上一步", "回到上一步", "后退", "退回"})
_RESTART_WORDS = frozenset({"重新开始", "重来", "从头开始", "从头来", "重新来", "重新填", "全部重填", "重新预约"})
_LEAVE_WORDS = frozenset({"取消", "退出", "不办了", "不约了", "不填了", "不弄了", "结束", "算了", "不要了", "停止"})
_CONTINUE_WORDS = frozenset({"继续", "接着", "接着办", "继续办", "继续填", "接着填", "继续预约"})
_FIX_MARKER = re.compile(r"(?:改成|改为|改到|换成|换到|改一下|错了|写错|填错|输错|打错|弄错|选错|不对|修改|更改|更正|"
                         r"重新填|重填|要改)")
_NEW_VALUE = re.compile(r"(?:改成|改为|改到|换成|换到|应该是|应是|是|为)[:：\s]*(.+)$")
_TRIGGER_INTENTS = frozenset({CONSULT, BOOK, MATERIALS, PROGRESS, DETAILS})
_STEP_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class FlowError(ValueError):
    """A flow declared wrongly (raised at import), or used wrongly from outside (begin_flow with a bad name)."""


# --- declarations ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Option:
    """One numbered choice of a step: the value kept, the line the citizen reads, other words that pick it."""

    value: str
    label: str
    words: tuple[str, ...] = ()


@dataclass(frozen=True)
class Goto:
    """From a step's recogniser or validator, or from `finish`: go (back) to another step, forgetting its answer
    (and the current step's), and ask it after `note`. The target must be in the step's (or flow's) `jumps`."""

    step: str
    note: str | None = None


@dataclass(frozen=True)
class Clarify:
    """From a recogniser: not an error, a question back (a date without a time → "which of these?"). The step
    stays, and the count of failed answers does not grow. Scratch kept in ctx.data (offers) is saved."""

    text: str


@dataclass(frozen=True)
class Begin:
    """From `Flow.start`: begin with this data (answers already known count as answered), saying `note` first;
    `changes` to the conversation state (e.g. {"item": id} for an item named in the message)."""

    data: dict[str, Any] = field(default_factory=dict)
    note: str | None = None
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    """From `Flow.start` (nothing to ask) or `finish` (done): the texts, effects and conversation-state changes
    (e.g. {"item": id}); the flow is over."""

    texts: tuple[str, ...]
    effects: tuple = ()
    changes: dict[str, Any] = field(default_factory=dict)


Answer = Union[Parsed, Goto, Clarify]


@dataclass(frozen=True)
class Step:
    """One question of a flow.

    name: where the answer is kept in data (lower case, also the state's "step");
    ask: the question (a text, or a function of the context: it may keep scratch such as offers in ctx.data);
    recognise(text, ctx) -> Parsed | Clarify | Goto, or `options`(ctx) -> Options answered by number or name
    (both: the options are listed under the question and kept answers must be one of them; recognise picks);
    validate(value, ctx) -> Parsed (possibly another value) | Clarify | Goto: checks beyond the recogniser;
    retry: said after the recogniser's reason when an answer is not usable;
    when(data) -> bool: whether the step applies (default: always);
    label: the answer's name in the summary and in "要改哪一项"; show(value) -> how the answer reads there;
    fix: words naming this step in a correction ("手机号" in "手机号填错了"); needs a label;
    after(value, ctx) -> a note said once the answer is taken (经办人 is not the legal representative …);
    help: what the step wants, for 帮助; jumps: the steps its Goto may go to;
    valid(value) -> bool: a stored answer still usable when the flow resumes (default: a string; options: one of them).
    """

    name: str
    ask: str | Callable[["Ctx"], str]
    recognise: Callable[[str, "Ctx"], Answer] | None = None
    options: Callable[["Ctx"], Sequence[Option]] | None = None
    validate: Callable[[Any, "Ctx"], Answer] | None = None
    retry: str | None = None
    when: Callable[[dict], bool] | None = None
    label: str | None = None
    show: Callable[[Any], str] | None = None
    fix: tuple[str, ...] = ()
    after: Callable[[Any, "Ctx"], str | None] | None = None
    help: str | None = None
    jumps: tuple[str, ...] = ()
    valid: Callable[[Any], bool] | None = None

    def applies(self, data: dict) -> bool:
        return self.when is None or bool(self.when(data))


@dataclass(frozen=True)
class Flow:
    """A flow: see the module docstring.

    name: the state's flow name (lower case); title: how the citizen hears it ("预约帮办代办": "已退出预约帮办代办");
    steps: in the order asked; finish(ctx) -> Reply | Goto: the closing text and effects (Goto: back to a step,
    e.g. the slot was taken meanwhile; must be in `jumps`);
    triggers: intents (dialogs/intents.py) that start it; needs_item: started for the item being discussed (talk.py
    asks which item first); words: regular expressions on the message (NFKC-folded, stripped) that start it, tried
    in order of `priority` (higher first); start(ctx) -> Begin | Reply | None (None: not for this flow after all);
    summary(ctx) -> the text to confirm (None: finish right after the last step), followed by `confirm_tail`
    (default: "以上信息对吗？回复“是”提交；要修改请直接说，比如“<fix_example>”。"); on_no(ctx) -> Reply when the
    summary is answered "no" (default: ask what to change); resume(ctx) -> False when stored data no longer holds.
    """

    name: str
    title: str
    steps: tuple[Step, ...]
    finish: Callable[["Ctx"], Reply | Goto]
    triggers: tuple[str, ...] = ()
    needs_item: bool = False
    words: tuple[str | re.Pattern, ...] = ()
    priority: int = 0
    start: Callable[["Ctx"], Begin | Reply | None] | None = None
    summary: Callable[["Ctx"], str] | None = None
    fix_example: str = "手机号填错了"
    confirm_tail: str | None = None
    on_no: Callable[["Ctx"], Reply] | None = None
    resume: Callable[["Ctx"], bool] | None = None
    jumps: tuple[str, ...] = ()

    def step(self, name: str) -> Step | None:
        return next((s for s in self.steps if s.name == name), None)

    @cached_property
    def patterns(self) -> tuple[re.Pattern, ...]:  # looked at for every message: compiled once
        return tuple(w if isinstance(w, re.Pattern) else re.compile(w) for w in self.words)


@dataclass
class Ctx:
    """What a flow's functions see: the environment, the conversation state, the flow's data (theirs to write)."""

    env: "Env"
    state: State
    data: dict[str, Any]
    text: str | None = None  # the message that started the flow (word triggers)
    match: re.Match | None = None  # … and what the trigger matched in it
    cache: dict[str, Any] = field(default_factory=dict)  # per turn: database reads made once

    @property
    def now(self) -> datetime:
        return self.env.now

    @property
    def today(self) -> date:
        return self.env.now.date()

    @property
    def hall(self) -> "HallData":
        return self.env.hall

    @property
    def calendar(self) -> Calendar:
        """The hall's working days: the gateway's calendar, or the national one with the hall's own changes."""
        if self.env.calendar is not None:
            return self.env.calendar
        schedule = self.env.hall.hall.schedule
        return Calendar(schedule.extra_holidays, schedule.extra_workdays)

    @property
    def item(self) -> "Item | None":
        item_id = self.data.get("item")
        return self.env.catalogue.get(item_id) if isinstance(item_id, str) else None

    def cases(self) -> "tuple[CaseView, ...]":
        """The citizen's own cases (env.cases(), read once per turn)."""
        if "cases" not in self.cache:
            self.cache["cases"] = tuple(self.env.cases())
        return self.cache["cases"]


# --- the registry ----------------------------------------------------------------------------------------------

def _texts_fit(*texts: str | None) -> bool:
    return all(t is None or fits(t, WECHAT_TEXT_LIMIT // 2) for t in texts)


def check(flow: Flow) -> None:
    """Raise FlowError when the declaration cannot work; called for every flow at import."""
    where = f"flow {flow.name!r}"
    if not isinstance(flow.name, str) or not _STEP_NAME.match(flow.name):
        raise FlowError(f"{where}: the name must be lower-case letters, digits and _")
    if not flow.title:
        raise FlowError(f"{where}: needs a title (how the citizen hears it)")
    if not flow.steps or not all(isinstance(s, Step) for s in flow.steps):
        raise FlowError(f"{where}: steps must be a non-empty tuple of Step")
    if not callable(flow.finish):
        raise FlowError(f"{where}: finish must be a function of the context")
    names = [s.name for s in flow.steps]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise FlowError(f"{where}: step names used twice: {duplicates}")
    claimed: dict[str, str] = {}
    for s in flow.steps:
        at = f"{where}, step {s.name!r}"
        if not isinstance(s.name, str) or not _STEP_NAME.match(s.name) or s.name == CONFIRM:
            raise FlowError(f"{at}: a step name is lower case, not {CONFIRM!r}, and does not start with _")
        if not (callable(s.ask) or (isinstance(s.ask, str) and s.ask.strip())):
            raise FlowError(f"{at}: needs a question (ask)")
        if s.recognise is None and s.options is None:
            raise FlowError(f"{at}: give recognise, options, or both (options shown, recognise picks)")
        if not _texts_fit(s.ask if isinstance(s.ask, str) else None, s.retry, s.help):
            raise FlowError(f"{at}: a text is too long for one WeChat message")
        for target in s.jumps:
            if target not in names:
                raise FlowError(f"{at}: jumps to a step that does not exist: {target!r}")
        if s.fix and not s.label:
            raise FlowError(f"{at}: correction words need a label to show in the summary")
        for word in s.fix:
            if word in claimed:
                raise FlowError(f"{at}: correction word {word!r} also names step {claimed[word]!r}")
            claimed[word] = s.name
    for target in flow.jumps:
        if target not in names:
            raise FlowError(f"{where}: finish jumps to a step that does not exist: {target!r}")
    for intent in flow.triggers:
        if intent not in _TRIGGER_INTENTS:
            raise FlowError(f"{where}: trigger {intent!r} is not one of the intents {sorted(_TRIGGER_INTENTS)}")
    for word in flow.words:
        try:
            re.compile(word) if isinstance(word, str) else word
        except re.error as error:
            raise FlowError(f"{where}: trigger pattern {word!r} is not a regular expression: {error}") from None
    if flow.on_no is not None and flow.summary is None:
        raise FlowError(f"{where}: on_no answers the summary, which this flow does not have")


class Registry:
    """The flows by name, by trigger intent, and those started by words."""

    def __init__(self) -> None:
        self.flows: dict[str, Flow] = {}
        self.by_intent: dict[str, Flow] = {}
        self._worded: list[Flow] | None = None  # looked at for every message: sorted once, again after an add

    def add(self, flow: Flow, origin: str = "") -> None:
        check(flow)
        if flow.name in self.flows:
            raise FlowError(f"flow {flow.name!r} declared twice{' (again in ' + origin + ')' if origin else ''}")
        for intent in flow.triggers:
            if intent in self.by_intent:
                raise FlowError(f"flow {flow.name!r}: intent {intent!r} already starts {self.by_intent[intent].name!r}")
        self.flows[flow.name] = flow
        for intent in flow.triggers:
            self.by_intent[intent] = flow
        self._worded = None

    def get(self, name: object) -> Flow | None:
        return self.flows.get(name) if isinstance(name, str) else None

    def worded(self) -> list[Flow]:
        if self._worded is None:
            self._worded = sorted((f for f in self.flows.values() if f.words), key=lambda f: -f.priority)
        return self._worded

    def discover(self, package: str, path: Sequence[str]) -> None:
        """Import every module of the package (not starting with _) and add its FLOWS."""
        for info in sorted(pkgutil.iter_modules(path), key=lambda i: i.name):
            if info.name.startswith("_"):
                continue
            module = importlib.import_module(f"{package}.{info.name}")
            flows = getattr(module, "FLOWS", None)
            if not isinstance(flows, tuple):
                raise FlowError(f"{module.__name__} must export FLOWS, a tuple of Flow (FLOWS = () for a helper)")
            for flow in flows:
                self.add(flow, module.__name__)


# --- the flow's record in the state ------------------------------------------------------------------------------

def _record(flow: Flow, step: str, data: dict, fails: int = 0) -> dict:
    return {"name": flow.name, "step": step, "data": data, "fails": fails}


def _active(flow: Flow, data: dict) -> list[Step]:
    return [s for s in flow.steps if s.applies(data)]


def _next_step(flow: Flow, data: dict) -> str | None:
    """The first step that applies and has no answer, else the summary, else None (finish)."""
    for s in _active(flow, data):
        if s.name not in data:
            return s.name
    return CONFIRM if flow.summary is not None else None


def _options(step: Step, ctx: Ctx) -> list[Option]:
    return list(step.options(ctx)) if step.options else []


def _valid(step: Step, value: Any, ctx: Ctx) -> bool:
    if step.options is not None:
        return isinstance(value, str) and value in {o.value for o in _options(step, ctx)}
    return step.valid(value) if step.valid is not None else isinstance(value, str)


def _scratch_cleared(data: dict) -> dict:
    return {k: v for k, v in data.items() if not k.startswith("_") or k == "_begin"}


def _shown(step: Step, value: Any) -> str:
    return step.show(value) if step.show else str(value)


def listed(flow: Flow, ctx: Ctx) -> str:
    """The answers so far, one "label：value" line per labelled step that applies: the body of most summaries."""
    return "\n".join(f"{s.label}：{_shown(s, ctx.data[s.name])}" for s in _active(flow, ctx.data)
                     if s.label and s.name in ctx.data)


# --- asking -----------------------------------------------------------------------------------------------------

def _question(flow: Flow, ctx: Ctx, name: str) -> str:
    if name == CONFIRM:
        return flow.summary(ctx) + "\n" + (flow.confirm_tail or CONFIRM_TAIL.format(example=flow.fix_example))
    step = flow.step(name)
    text = step.ask(ctx) if callable(step.ask) else step.ask
    options = _options(step, ctx)
    if options:
        text += "\n" + numbered([o.label for o in options])
    return text


def _ask(flow: Flow, ctx: Ctx, name: str, notes: Sequence[str | None] = (), fails: int = 0,
         budget: int = WECHAT_TEXT_LIMIT, miss: bool | None = False, effects: Sequence = ()) -> Outcome:
    question = _question(flow, ctx, name)
    text = "\n".join([*(n for n in notes if n), question])
    state = next_state(ctx.state, flow=_record(flow, name, ctx.data, fails))
    return Outcome(state, [clip(text, budget)], list(effects), miss=miss)


def _advance(flow: Flow, ctx: Ctx, notes: Sequence[str | None], budget: int) -> Outcome:
    name = _next_step(flow, ctx.data)
    if name is None:
        return _finish(flow, ctx, notes, budget)
    return _ask(flow, ctx, name, notes, budget=budget)


def _finish(flow: Flow, ctx: Ctx, notes: Sequence[str | None], budget: int) -> Outcome:
    result = flow.finish(ctx)
    if isinstance(result, Goto):
        if result.step not in flow.jumps:
            raise FlowError(f"flow {flow.name!r}: finish went to {result.step!r}, not in its jumps")
        return _goto(flow, ctx, result, notes, budget)
    return _reply(ctx.state, result, notes, budget, flow=None)


def _reply(state: State, result: Reply, notes: Sequence[str | None], budget: int, **changes) -> Outcome:
    texts = list(result.texts) or [""]
    texts[0] = "\n".join([*(n for n in notes if n), texts[0]])
    texts = [clip(texts[0], budget), *(clip(t) for t in texts[1:])]
    return Outcome(next_state(state, **{**changes, **result.changes}), texts, list(result.effects))


def _goto(flow: Flow, ctx: Ctx, goto: Goto, notes: Sequence[str | None], budget: int,
          leaving: str | None = None) -> Outcome:
    for name in (goto.step, leaving):
        if name:
            ctx.data.pop(name, None)
    return _ask(flow, ctx, goto.step, [*notes, goto.note], budget=budget)


# --- answering --------------------------------------------------------------------------------------------------

def pick(text: str, options: Sequence[Option]) -> Parsed:
    """An option by number ("2", "第二个") or by its value or one of its words, said alone or inside the text."""
    if not options:
        return Parsed(reason="现在没有可选的项目。")
    pick = choice_number(text)
    if pick and not pick[1]:
        number = pick[0]
        if 1 <= number <= len(options):
            return Parsed(options[number - 1].value)
        return Parsed(reason=f"请回复数字1到{len(options)}。")
    said = plain(text)
    if said:
        names = [(o, [n for n in (plain(o.value), *(plain(w) for w in o.words)) if n]) for o in options]
        exact = [o for o, ns in names if said in ns]
        if len(exact) == 1:
            return Parsed(exact[0].value)
        # named inside the text: the option with the longest name there ("我要上门帮办": 上门帮办, not 帮办), unless
        # the text asks about it ("电话多少", "网上能办吗" are questions, not the options by phone or online)
        inside = [(max(len(n) for n in ns if n in said), o) for o, ns in names if any(n in said for n in ns)]
        longest = [o for length, o in inside if length == max((x for x, _ in inside), default=0)]
        if len(longest) == 1 and not (QUESTION.search(said) or said.startswith("请问") or said.endswith("不")):
            return Parsed(longest[0].value)
    return Parsed(reason=f"请回复数字1到{len(options)}。" if len(options) > 1 else "请回复数字1。")


def _answer(step: Step, text: str, ctx: Ctx) -> Answer:
    result = step.recognise(text, ctx) if step.recognise else pick(text, _options(step, ctx))
    if isinstance(result, Parsed) and result.ok and step.validate is not None:
        result = step.validate(result.value, ctx)
    return result


def _take(flow: Flow, ctx: Ctx, name: str, text: str, fails: int, budget: int,
          notes: Sequence[str | None] = ()) -> Outcome:
    """The citizen's answer to step `name`: taken (then the next question), a question back, or asked again."""
    step = flow.step(name)
    result = _answer(step, text, ctx)
    if isinstance(result, Goto):
        if result.step not in step.jumps:
            raise FlowError(f"flow {flow.name!r}, step {name!r}: went to {result.step!r}, not in its jumps")
        return _goto(flow, ctx, result, notes, budget, leaving=name)
    if isinstance(result, Clarify):
        state = next_state(ctx.state, flow=_record(flow, name, ctx.data, fails))
        return Outcome(state, [clip("\n".join([*(n for n in notes if n), result.text]), budget)])
    if not result.ok:
        aside = _aside(flow, ctx, name, text, fails, budget)
        if aside is not None:
            return aside
        fails = min(fails + 1, MAX_FAILS)
        lines = [*(n for n in notes if n), result.reason]
        if step.retry:
            lines.append(step.retry)
        if step.options is not None:
            lines.append(_question(flow, ctx, name))
        if fails >= 3:
            lines.append(HUMAN_OFFER)
        elif fails >= 2:
            lines.append(SECOND_TRY.format(title=flow.title))
        state = next_state(ctx.state, flow=_record(flow, name, ctx.data, fails))
        return Outcome(state, [clip("\n".join(lines), budget)], miss=None)
    ctx.data = _scratch_cleared(ctx.data)
    ctx.data[name] = result.value
    note = step.after(result.value, ctx) if step.after else None
    return _advance(flow, ctx, [*notes, note], budget)


def _aside(flow: Flow, ctx: Ctx, name: str, text: str, fails: int, budget: int) -> Outcome | None:
    """Not an answer to the step but a question of its own ("社保卡补办收费吗", "退休了公积金怎么提", or "电话多少"
    about the item asked of before): answered as it would be outside the flow, the flow kept at its step (not
    counted as a failed answer) and the citizen told how to go on; numbered choices offered there are picked from
    by the next message (talk.py). Only a question, or an item's name alone, counts ("身份证丢了" may well answer a
    checklist), not one about a thing no item is found for ("房产证明去哪开" in a checklist); what is not understood
    outside the flow either, or would start another flow, is the step asked again."""
    consultation = ctx.env.consult(text)
    query = consultation.query
    cued = [f for f in query.cued_fields if f not in ("materials", BRING)]  # "照片明天拍" answers a checklist
    asks = QUESTION.search(query.text) or any(f not in ("materials", BRING) for f in query.fields) \
        or (_ASKING_END.search(query.text) or _REQUEST.search(query.text)) and cued
    if not asks and not _an_item_named(consultation):
        return None
    if named_besides_cues(query) and consultation.decision.kind == "decline" and WHERE_TO_GET.search(query.text):
        return None  # "房产证明去哪开": where to get a thing of this flow's, which the guide's place does not answer
    from ..talk import handle_text  # talk.py imports this package, so not at the top

    note = PAUSED.format(title=flow.title)
    record = _record(flow, name, ctx.data, fails)
    outcome = handle_text(next_state(ctx.state, flow=None), text, ctx.env, budget - len(note.encode("utf-8")) - 1)
    if outcome.miss or outcome.effects or outcome.state is None or outcome.state.get("flow") or not outcome.replies:
        return None
    outcome.state["flow"] = record
    outcome.replies[0] = f"{outcome.replies[0]}\n{note}"
    return outcome


def _an_item_named(consultation: "Consultation") -> bool:
    """The message is an item's name ("水资源公报查阅"), nothing else."""
    decision = consultation.decision
    return decision.kind == "answer" and not decision.tentative and decision.choices[0].coverage >= 1.0 \
        and not consultation.query.fields


def _confirm(flow: Flow, ctx: Ctx, text: str, fails: int, budget: int) -> Outcome:
    fixable = _fixable(flow, ctx)
    if ctx.data.get("_fixing"):
        pick = choice_number(text)
        if pick and not pick[1] and 1 <= pick[0] <= len(fixable):
            step = fixable[pick[0] - 1]
            ctx.data.pop("_fixing", None)
            return _ask(flow, ctx, step.name, [AGAIN.format(label=step.label)], budget=budget)
    said = parse_yes_no(text)
    if said.ok and said.value:
        ctx.data.pop("_fixing", None)
        return _finish(flow, ctx, [], budget)
    if said.ok and not said.value:
        if flow.on_no is not None:
            return _reply(ctx.state, flow.on_no(ctx), [], budget, flow=None)
        return _fix_menu(flow, ctx, fixable, budget)
    fails = min(fails + 1, MAX_FAILS)
    lines = [CONFIRM_RETRY] + ([HUMAN_OFFER] if fails >= 3 else [])
    state = next_state(ctx.state, flow=_record(flow, CONFIRM, ctx.data, fails))
    return Outcome(state, [clip("\n".join(lines), budget)], miss=None)


def _fixable(flow: Flow, ctx: Ctx) -> list[Step]:
    return [s for s in _active(flow, ctx.data) if s.label and s.name in ctx.data]


def _fix_menu(flow: Flow, ctx: Ctx, fixable: list[Step], budget: int) -> Outcome:
    if not fixable:
        return _ask(flow, ctx, CONFIRM, [CONFIRM_RETRY], budget=budget)
    ctx.data["_fixing"] = True
    lines = [f"{s.label}：{shorten(_shown(s, ctx.data[s.name]), 30)}" for s in fixable]
    text = "\n".join([FIX_MENU, numbered(lines), FIX_MENU_TAIL])
    state = next_state(ctx.state, flow=_record(flow, CONFIRM, ctx.data))
    return Outcome(state, [clip(text, budget)])


def _correction(flow: Flow, ctx: Ctx, current: str, text: str, fails: int, budget: int) -> Outcome | None:
    """"手机号填错了", "改到周五", "名字写错了，是李四", or at the summary "不对": None when the text is not one."""
    folded = unicodedata.normalize("NFKC", text).strip()
    marker = _FIX_MARKER.search(folded)
    if not marker:
        return None
    active = _active(flow, ctx.data)
    words = [(w, s) for s in active for w in s.fix if w in folded]
    named = max(words, key=lambda ws: len(ws[0]))[1] if words else None
    tail = _NEW_VALUE.search(folded[marker.start():])
    rest = tail.group(1).strip(" ，,。.！!") if tail else ""
    if named is None:
        if current != CONFIRM:
            return None
        filled = [s for s in _fixable(flow, ctx) if s.options is None]
        if rest:
            taken = [s for s in filled if isinstance(r := _answer(s, rest, Ctx(ctx.env, ctx.state, dict(ctx.data))),
                                                     Parsed) and r.ok]
            if len(taken) == 1:
                return _take(flow, ctx, taken[0].name, rest, 0, budget)
        return _fix_menu(flow, ctx, _fixable(flow, ctx), budget)
    if named.name == current:
        return _take(flow, ctx, current, rest, fails, budget) if rest else \
            _ask(flow, ctx, current, [AGAIN.format(label=named.label)], fails, budget)
    if named.name not in ctx.data:
        return None  # not answered yet: nothing to correct, the text may well be an answer to this step
    ctx.data.pop("_fixing", None)
    if rest:
        return _take(flow, ctx, named.name, rest, 0, budget)
    return _ask(flow, ctx, named.name, [AGAIN.format(label=named.label)], budget=budget)


# --- interrupts ---------------------------------------------------------------------------------------------------

def _back(flow: Flow, ctx: Ctx, current: str, fails: int, budget: int) -> Outcome:
    active = _active(flow, ctx.data)
    names = [s.name for s in active]
    before = active if current == CONFIRM else active[:names.index(current)] if current in names else []
    if not before:
        return _ask(flow, ctx, current, [BACK_AT_FIRST + HOW_TO_LEAVE], fails, budget)
    previous = before[-1]
    ctx.data.pop("_fixing", None)
    was = WAS.format(value=shorten(_shown(previous, ctx.data[previous.name]), 30)) \
        if previous.name in ctx.data else None
    return _ask(flow, ctx, previous.name, [BACK, was], budget=budget)


def _restart(flow: Flow, ctx: Ctx, budget: int) -> Outcome:
    kept = ctx.data.get("_begin") if isinstance(ctx.data.get("_begin"), list) else []
    ctx.data = {k: ctx.data[k] for k in kept if k in ctx.data}
    ctx.data["_begin"] = kept
    return _advance(flow, ctx, [RESTARTED.format(title=flow.title)], budget)


def _help(flow: Flow, ctx: Ctx, current: str, fails: int, budget: int) -> Outcome:
    step = flow.step(current)
    lines = [HELP_HEAD.format(title=flow.title) + (step.help if step and step.help else ""), HOW_TO_LEAVE]
    return _ask(flow, ctx, current, lines, fails, budget, miss=None)


# --- resuming a stored flow ---------------------------------------------------------------------------------------

def _resume(record: object, state: State, env: "Env") -> tuple[Flow, Ctx, str, int] | None:
    """The stored flow checked against this code: None when it cannot go on (unknown flow or step, bad data).

    An answer that no longer checks out is dropped; if the summary was showing, the step is then that answer's
    (and the state's step differs from the record's: the caller asks it again rather than take the text for it).
    """
    if not isinstance(record, dict):
        return None
    flow = REGISTRY.get(record.get("name"))
    data = record.get("data")
    if flow is None or not isinstance(data, dict):
        return None
    ctx = Ctx(env, state, {k: v for k, v in data.items() if isinstance(k, str)})
    if isinstance(ctx.data.get("_begin"), list):
        ctx.data["_begin"] = [k for k in ctx.data["_begin"] if isinstance(k, str)]
    else:
        ctx.data["_begin"] = []
    fails = record.get("fails")
    fails = fails if isinstance(fails, int) and not isinstance(fails, bool) and 0 <= fails <= MAX_FAILS else 0
    if flow.resume is not None and not flow.resume(ctx):
        return None
    for s in flow.steps:
        if s.name in ctx.data and not _valid(s, ctx.data[s.name], ctx):
            del ctx.data[s.name]
    current = record.get("step")
    if current == CONFIRM:
        if flow.summary is None:
            return None
        if _next_step(flow, ctx.data) != CONFIRM:  # an answer was dropped: ask it again
            current = _next_step(flow, ctx.data)
    elif not isinstance(current, str) or flow.step(current) is None or not flow.step(current).applies(ctx.data):
        return None
    return flow, ctx, current, fails


# --- the public functions -----------------------------------------------------------------------------------------

def for_intent(intent: str | None) -> Flow | None:
    """The flow an intent starts (BOOK → booking, PROGRESS → progress), if any."""
    return REGISTRY.by_intent.get(intent) if intent else None


def start(name: str, state: State, env: "Env", budget: int = WECHAT_TEXT_LIMIT, text: str | None = None,
          match: re.Match | None = None) -> Outcome | None:
    """Start flow `name` in a turn (its `start` decides: begin, answer at once, or None: not for it after all).

    A flow begun replaces one in progress; an answer given at once leaves one in progress alone and says so.
    """
    flow = REGISTRY.get(name)
    if flow is None:
        raise FlowError(f"no flow named {name!r}")
    same = _same_in_progress(flow, state, env) if text is None else None
    if same is not None:  # the menu button of the flow already in progress: go on with it, do not start over
        flow, ctx, current, fails = same
        return _ask(flow, ctx, current, [GOING_ON.format(title=flow.title)], fails, budget)
    ctx = Ctx(env, state, {}, text, match)
    result = flow.start(ctx) if flow.start else Begin()
    if result is None:
        return None
    if isinstance(result, Reply):
        return with_paused_note(_reply(state, result, [], budget), budget)
    ctx.data = {**result.data, "_begin": sorted(result.data)}
    ctx.state = {**state, **result.changes}
    return _advance(flow, ctx, [result.note], budget)


def _same_in_progress(flow: Flow, state: State, env: "Env") -> tuple[Flow, Ctx, str, int] | None:
    record = state.get("flow")
    if not isinstance(record, dict) or record.get("name") != flow.name:
        return None
    resumed = _resume(record, state, env)
    if resumed is None or (flow.needs_item and resumed[1].data.get("item") != state.get("item")):
        return None
    return resumed


def triggered(state: State, text: str, env: "Env", budget: int = WECHAT_TEXT_LIMIT) -> Outcome | None:
    """A flow started by the words of a message ("改约 BB20261122-0007", a bare case number), or None."""
    folded = unicodedata.normalize("NFKC", text).strip()
    for flow in REGISTRY.worded():
        for pattern in flow.patterns:
            match = pattern.search(folded)
            if match:
                outcome = start(flow.name, state, env, budget, text=folded, match=match)
                if outcome is not None:
                    return outcome
    return None


def continue_flow(state: State, text: str, env: "Env", budget: int = WECHAT_TEXT_LIMIT) -> Outcome | None:
    """The message in the flow in progress; None when there is none, or for 转人工 / 结束人工 (talk.py's)."""
    record = state.get("flow")
    if not record:
        return None
    intent = command(text)
    if intent in (HUMAN, END_HUMAN):
        return None
    resumed = _resume(record, state, env)
    if resumed is None:
        return Outcome(next_state(state, flow=None), [clip(LOST, budget)], miss=None)
    flow, ctx, current, fails = resumed
    words = plain(text)
    if words in _BACK_WORDS:
        return _back(flow, ctx, current, fails, budget)
    if words in _RESTART_WORDS:
        return _restart(flow, ctx, budget)
    if (words in _LEAVE_WORDS or intent == CANCEL) and not _answers_no(flow, ctx, current, text):
        return Outcome(next_state(state, flow=None), [clip(LEFT.format(title=flow.title), budget)])
    if intent == HELP:
        return _help(flow, ctx, current, fails, budget)
    if words in _CONTINUE_WORDS:  # back to the flow, and to its item after questions about others
        if flow.needs_item and ctx.data.get("item"):
            ctx.state = {**ctx.state, "item": ctx.data["item"]}
        return _ask(flow, ctx, current, [], fails, budget)
    if current != record.get("step"):  # an answer kept at the summary no longer holds: ask it again
        return _ask(flow, ctx, current, [ASK_AGAIN], budget=budget, miss=None)
    corrected = _correction(flow, ctx, current, text, fails, budget)
    if corrected is not None:
        return corrected
    worded = _worded(text)
    if (intent is not None or worded) and not _usable(flow, current, text, ctx):
        if intent is not None:
            return _digression(flow, ctx, current, intent, text, fails, budget)
        other = triggered(state, text, env, budget)  # "取消预约 BB…" in the middle of 改约: that one now
        if other is not None:
            return other
    if current == CONFIRM:
        return _confirm(flow, ctx, text, fails, budget)
    return _take(flow, ctx, current, text, fails, budget)


def _answers_no(flow: Flow, ctx: Ctx, current: str, text: str) -> bool:
    """"不用了", "算了" where a step asks yes or no ("要预约吗？"): the answer no, not leaving the flow."""
    if current == CONFIRM or parse_yes_no(text) != Parsed(False):
        return False
    result = _trial_answer(flow, ctx, current, text)
    return isinstance(result, Parsed) and result.ok and result.value is False


def _worded(text: str) -> bool:
    folded = unicodedata.normalize("NFKC", text).strip()
    return any(p.search(folded) for f in REGISTRY.worded() for p in f.patterns)


def _usable(flow: Flow, current: str, text: str, ctx: Ctx) -> bool:
    """Whether the current step (or the summary) can take the text as an answer; nothing is kept."""
    if current == CONFIRM:
        pick = choice_number(text)
        return parse_yes_no(text).ok or bool(ctx.data.get("_fixing") and pick and not pick[1])
    result = _trial_answer(flow, ctx, current, text)
    return not isinstance(result, Parsed) or result.ok


def _trial_answer(flow: Flow, ctx: Ctx, current: str, text: str) -> Answer:
    """What step `current` makes of the text, on a copy of the flow's data: nothing is kept."""
    return _answer(flow.step(current), text, Ctx(ctx.env, ctx.state, dict(ctx.data), cache=ctx.cache))


def _digression(flow: Flow, ctx: Ctx, current: str, intent: str, text: str, fails: int, budget: int) -> Outcome:
    """A command in the middle of a flow that the step cannot use ("查进度", "材料清单", "谢谢"): answered as
    usual, the flow kept, and the citizen told how to go on. The flow's own command asks its question again."""
    if for_intent(intent) is flow:
        return _ask(flow, ctx, current, [], fails, budget)
    from ..talk import run_command  # talk.py imports this package, so not at the top

    outcome = run_command(intent, ctx.state, ctx.env, budget, question=text)
    note = paused_note(outcome.state)
    if note and outcome.replies and note not in outcome.replies[0] and fits(outcome.replies[0] + "\n" + note, budget):
        outcome.replies[0] += "\n" + note
    return outcome


def begin_flow(state: object, name: str, data: dict, now: datetime) -> State:
    """The conversation state with flow `name` begun on `data`, for the gateway or the staff console (e.g. the
    evaluation of a case just closed: begin_flow(state, "evaluation", {"number": n}, now)).

    `state` may be None or unreadable (a fresh conversation then carries the flow); a flow in progress is replaced.
    `data` must be plain JSON. Send the first question with `current_question(new_state, env)`.
    """
    flow = REGISTRY.get(name)
    if flow is None:
        raise FlowError(f"no flow named {name!r}; known: {sorted(REGISTRY.flows)}")
    if not isinstance(data, dict) or not all(isinstance(k, str) and not k.startswith("_") for k in data):
        raise FlowError("data must be a dict with string keys not starting with _")
    try:
        json.dumps(data)
    except (TypeError, ValueError) as error:
        raise FlowError(f"data must be plain JSON: {error}") from None
    first = _next_step(flow, data)
    if first is None:
        raise FlowError(f"flow {name!r} has nothing to ask with this data")
    base = dict(state) if isinstance(state, dict) and state.get("v") == STATE_VERSION else fresh(now)
    record = _record(flow, first, {**data, "_begin": sorted(data)})
    return {**next_state(base, flow=record), "updated": now.isoformat()}


def current_question(state: State, env: "Env", budget: int = WECHAT_TEXT_LIMIT) -> tuple[State, str] | None:
    """The flow's current question (after `begin_flow`, to send through the outbox) and the state to keep (a
    question may note what it offered); None when there is no flow, or it cannot go on."""
    resumed = _resume(state.get("flow"), state, env) if isinstance(state, dict) else None
    if resumed is None:
        return None
    flow, ctx, current, fails = resumed
    outcome = _ask(flow, ctx, current, [], fails, budget)
    return outcome.state, outcome.replies[0]


def with_paused_note(outcome: Outcome, budget: int) -> Outcome:
    """`outcome` saying, when its state has a flow waiting and there is room, that the flow is not finished."""
    note = paused_note(outcome.state)
    if note and fits(outcome.replies[0] + "\n" + note, budget):
        outcome.replies[0] += "\n" + note
    return outcome


def paused_note(state: State) -> str | None:
    """"Your booking is not finished yet, reply 继续": said when something else is answered in the middle of a flow."""
    record = state.get("flow")
    flow = REGISTRY.get(record.get("name")) if isinstance(record, dict) else None
    return PAUSED.format(title=flow.title) if flow else None


# Discovered last: the flow modules import the declarations above.
REGISTRY = Registry()
REGISTRY.discover(__name__, __path__)
