"""材料清单: go through an item's materials with the citizen, three at a time, then tell everything missing at once.

For the item being discussed (talk.py asks which first), the guide's materials are shown three to a message,
numbered 1..N across the whole list, and the citizen answers each batch:
"都有" / "有" / "是"; "都没有"; "都不确定"; "2没有"; "第2、5个没有"; "2没有 3不确定"; "1有" (then: and 2, 3?);
"除了2都有"; "2没有，其他都有"; a material by its name instead of its number ("照片没有", "身份证有，房主身份证没有")
when one matches clearly. A number outside the batch is taken too: an earlier one corrects that answer, a later
one is remembered and shown when its batch comes ("（您说过：没有）"). Where only some are said to be there and
nothing is missing, the rest are asked about rather than guessed. A photo sent meanwhile is kept for the material
it most likely shows (the next one of the batch without a photo) and counts as "有".

Then ONE list of everything missing or unsure (一次性告知), each with where or how to get it when the guide's text
says ("由…出具", "到…办理", "可在…下载"; a form is had at the window), else whom to ask (the unit's phone), within
one message. Then:
- an open case of the citizen for this item: the answers are kept against it (SaveChecklist(number, …));
- otherwise, if the hall offers 帮办代办 for the item, "要预约吗？": yes starts the booking flow for the item,
  no keeps the answers with the conversation (SaveChecklist(None, …)); nothing to book: the list and the phone.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rapidfuzz import fuzz

from ..consult import facts
from ..effects import KeepMedia, MaterialMark, SaveChecklist
from ..intents import BOOK, MATERIALS, command
from ..outcome import Outcome, next_state
from ..parse import chinese_number, plain
from ..recognise import Parsed, parse_yes_no
from ..text import WECHAT_TEXT_LIMIT, clip, fits, shorten
from . import QUESTION, WHERE_TO_GET, Begin, Clarify, Ctx, Flow, Reply, Step, start

if TYPE_CHECKING:
    from knowledge.model import Item

    from ..consult import ItemFacts
    from ..engine import Env
    from ..state import State

PER_MESSAGE = 3
MAX_BATCHES = 40  # 120 materials; the longest guide in the bundled catalogue has 19
HAVE, MISSING, UNSURE = "有", "没有", "不确定"
NOT_NEEDED = "不涉及"  # a material for other cases ("现役军人须持…", "离婚当事人应当提供…"): not missing
STATUSES = (HAVE, MISSING, UNSURE, NOT_NEEDED)
TITLE = "材料核对"

# --- what the citizen reads ---------------------------------------------------------------------------------------
INTRO = "好的，我们来逐项核对【{title}】的材料，共{total}项，每次看{per}项（随时回复“取消”可以退出）。"
HOW = "都有请回复“都有”；缺哪项就说哪项，比如“{a}没有”“{b}不确定”。"
HOW_ONE = "请回复“有”“没有”或“不确定”。"
PHOTO_TIP = "有的材料也可以拍照发给我。"
NOT_NEEDED_TIP = "只有某些情况才要的，和您无关请说“{a}不涉及”。"
NOT_READ = "没看懂您的回答。"
WHICH_MISSING = "哪几项没有？请回复序号，比如“{a}没有”；都没有请回复“都没有”。"
AND_THE_REST = "第{numbers}项呢？有的话回复“有”，没有回复“没有”，不确定回复“不确定”。"
OUT_OF_RANGE = "序号只有1到{total}，请再看一下。"
SAID_BEFORE = "（您说过：{status}）"
NO_MATERIALS = "【{title}】\n办事指南没有列出材料，请先问清楚再去办：{phone}。\n回复“转人工”可以问工作人员。"
ALL_THERE = "【{title}】要准备的材料您都有了，齐了！"
TO_PREPARE = "【{title}】还需要准备这{count}项（一次性告知）："
ASK_PHONE = "不清楚的可以打{unit}电话{phone}问。"
ASK_BOOK = "要预约帮办代办吗？工作人员可以帮您备齐材料、陪您办。回复“是”预约，“不用”就先到这里。"
ASK_BOOK_HELP = "回复“是”预约帮办代办，回复“不用”结束核对。"
KEPT_WITH_CASE = "核对结果已记到您的办件{number}里，工作人员会看到。"
NOT_BOOKED = "好的。材料备齐后可以随时回复“预约”申请帮办代办，有问题回复“转人工”。"
NOT_OFFERED = "本中心暂未提供这项的帮办代办，备齐后可按办事指南去办理。"
PHOTO_KEPT = "已收到《{material}》的照片（第{position}项），记为“有”。"
PHOTO_KEPT_LATE = "已收到照片，工作人员会看到。"
PHOTO_GO_ON = "这几项的情况也请告诉我。"

# --- how to get a material, from the guide's own words -------------------------------------------------------------
_ISSUER = re.compile(r"([^，,；;。：:（）()]{2,40}?)(出具|开具|核发|签发)")
_ISSUER_CUT = re.compile(r".*(?:由|持|提交|提供|交验|须|需|的|、)")
_GO_TO = re.compile(r"(?:到|去|前往)([^，,；;。：:（）()]{2,30}?)(办理|领取|开具|申请|打印|复印)")
_DOWNLOAD = re.compile(r"(?:可在|可从|可到|在|从)([^，,；;。：:（）()]{2,40}?)(下载|打印)")
_FORM = re.compile(r"(申请表|申领表|登记表|审批表|申报表|采集表|表》|表$)")
# "现役军人须持…", "离婚、丧偶当事人应当提供…", "未满十六周岁的由监护人…": only some applicants need it
_CONDITIONAL = re.compile(r"的[，,]|须持|应当提供|还应|才需|需另|另需|如[^，,]{1,12}的|若|涉及|[（(][^）)]*的[)）]|^[^，,]{2,16}的[，,]?(?:提供|交验|还需|需)")
_YOURSELF = ("申请单位", "申请人", "本人", "设台单位", "申请单位或个人", "单位", "申请者")


def how_to_get(material: str, f: "ItemFacts", hall_phone: str) -> str:
    """Where or how to get one material, as far as the guide's text says; else whom to ask."""
    text = unicodedata.normalize("NFKC", material)
    issuer = _ISSUER.search(text)
    if issuer:
        who = _ISSUER_CUT.sub("", issuer.group(1)).strip(" 《》") or issuer.group(1)
        if who in _YOURSELF:
            return f"需要您自己准备（{who}{issuer.group(2)}）"
        return f"由{shorten(who, 24)}{issuer.group(2)}"
    download = _DOWNLOAD.search(text)
    if download:
        return f"可在{shorten(download.group(1), 30)}{download.group(2)}"
    go_to = _GO_TO.search(text)
    if go_to:
        return f"到{shorten(go_to.group(1), 24)}{go_to.group(2)}"
    if _FORM.search(text):
        return "表格一般在办理窗口领取，可以现场填写"
    return _ask_unit(f, hall_phone)


def _ask_unit(f: "ItemFacts", hall_phone: str) -> str:
    """What the guide does not say: whom to ask (the last line of the list says it once for all of them)."""
    return f"请咨询{shorten(f.unit, 20)}：{f.phone or hall_phone}"


# --- reading a batch answer --------------------------------------------------------------------------------------
_N = r"[0-9一二三四五六七八九十两]{1,3}"
_ONE = rf"(?:第\s*)?{_N}(?:\s*(?:个|项|条|份|号))?"
_NUMS = rf"{_ONE}(?:\s*(?:[、,，/]|和|及|与|跟|以及|到|至|-|~)\s*{_ONE})*"
_STATUS = (r"(?:(?P<na>不涉及|不需要|不适用|用不上|不用|不是)|(?P<unsure>不确定|不清楚|不知道|不太确定|不太清楚|说不准|不一定|忘了|不记得)"
           r"|(?P<missing>没有|没带|没办|还没|没|缺少|缺|丢了|不全|要去|得去|要借|去借|去开|去拍|去照|去补)"
           r"|(?P<have>有|齐了|带了|准备好了|好了|已有|在))")
_FILLER = r"(?:\s*(?:的话|的|也|都|还|暂时|目前|现在|已经|其实|是|我|材料))*\s*"
_PAIR = re.compile(rf"(?P<nums>{_NUMS}){_FILLER}{_STATUS}")
_LEAD = re.compile(rf"(?P<lead>缺少|缺|没有|不确定|不清楚)(?:的是|的有|是|的)?\s*(?P<nums>{_NUMS})")
_EXCEPT = re.compile(rf"除了?\s*(?P<nums>{_NUMS})(?:以外|之外)?\s*(?:其他|其余|别的|其它)?的?(?:都|全)?{_FILLER}{_STATUS}")
_REST = re.compile(rf"(?:其他|其余|剩下|别的|其它|另外)的?(?:几项|几个)?(?:都|也|全)?{_FILLER}{_STATUS}")
_ALL = re.compile(rf"^(?:这几项|这几个|这些|材料)?(?:都|全|全都|全部|都是)(?:是)?{_FILLER}{_STATUS}(?:了|的|啊|呀)?$")
_NUMBER_TOKEN = re.compile(_N)
_WHOLE = {**dict.fromkeys(("有", "有的", "有了", "齐了", "齐全", "全齐", "都齐", "都齐了", "带了", "都带了", "准备好了",
                           "都准备好了", "全有", "都在"), HAVE),
          **dict.fromkeys(("一个都没有", "都没", "全没有", "全都没有", "一样都没有", "都缺"), MISSING),
          **dict.fromkeys(("不确定", "不清楚", "不知道", "不太清楚", "说不准", "不太确定", "都不清楚", "都不知道"),
                          UNSURE),
          **dict.fromkeys(("不涉及", "不需要", "不适用", "用不上", "和我无关", "跟我无关", "都不涉及", "都不需要"),
                          NOT_NEEDED)}


@dataclass(frozen=True)
class Read:
    """What an answer says: marks for the batch (and any other number named), or the batch's positions still
    unknown, or a question back (`ask`: "哪几项没有？"), or why it cannot be read (`reason`)."""

    marks: dict[int, str] = field(default_factory=dict)
    unknown: tuple[int, ...] = ()
    said: dict[int, str] = field(default_factory=dict)  # what was named explicitly
    ask: str | None = None
    reason: str | None = None


def _status(match: re.Match) -> str:
    if match.group("na"):
        return NOT_NEEDED
    return UNSURE if match.group("unsure") else MISSING if match.group("missing") else HAVE


def _numbers(text: str) -> list[int]:
    """"第2、5个" → [2, 5]; "2到4" → [2, 3, 4]."""
    tokens = [(m.start(), chinese_number(m.group()) if not m.group().isdigit() else int(m.group()))
              for m in _NUMBER_TOKEN.finditer(text)]
    found: list[int] = []
    for index, (at, value) in enumerate(tokens):
        if value is None:
            continue
        between = text[tokens[index - 1][0]:at] if index else ""
        if index and re.search(r"到|至|-|~", between) and found:
            found.extend(range(found[-1] + 1, value + 1))
        else:
            found.append(value)
    return found


_STATUS_WORD = re.compile(_STATUS)
_CLAUSE = re.compile(r"([\s,，。.!！?？;；、]+)")  # kept: "第2、5个没有" is one answer
_AROUND_A_NAME = re.compile(r"现在|目前|暂时|已经|其实|那个|这个|我的|我|还|都|也|是|的$")
_BESIDES = re.compile(r"^(?:除了|除去|除)")
_THE_REST = re.compile(r"^(?:其他|其余|剩下|别的|其它|另外|这几|这些|材料|全|一个|一样|所有)")  # "其他都有": no name


def numbered(text: str, materials: tuple[str, ...]) -> tuple[str, bool]:
    """"照片没有，身份证有" → "2没有，1有": a clause that names a material before what it says of it gets that
    material's number, when one matches clearly (身份证 is the citizen's own, 本人身份证, rather than 房主身份证). Also
    says whether a clause named something no material matches clearly, so that nothing is guessed about the rest."""
    text = unicodedata.normalize("NFKC", text).strip()
    if QUESTION.search(text) or "呢" in text:  # "户口簿用不用带上", "证明材料都有哪些": asked, not answered
        return text, False
    parts, unclear = [], False
    for clause in _CLAUSE.split(text):
        if _CLAUSE.fullmatch(clause):
            parts.append(clause)
            continue
        masked = _AROUND_A_NAME.sub(lambda m: " " * len(m.group()), clause)  # 现在 is not 在 (have)
        status = _STATUS_WORD.search(masked)
        besides = _BESIDES.match(clause)
        head = besides.end() if besides else 0
        words = masked[head:status.start()].replace(" ", "") if status else ""
        if len(words) < 2 or any(c.isdigit() for c in words) or _NUMBER_TOKEN.fullmatch(words) \
                or _THE_REST.match(words):
            parts.append(clause)
            continue
        position = _named_material(words, materials)
        unclear = unclear or position is None
        parts.append(clause if position is None else f"{clause[:head]}{position}{clause[status.start():]}")
    return "".join(parts), unclear


_SAID_FOR = {"表格": "表", "相片": "照片", "户口本": "户口簿"}  # what people call a material, as guides write it
NAMED_MATCH = 80  # a material named in an answer: surer than a question about one, since it marks it


def _named_material(words: str, materials: tuple[str, ...]) -> int | None:
    """The material `words` name, or the longest start of them that names one ("照片给拍" in "照片给我拍好了")."""
    for said, written in _SAID_FOR.items():
        words = words.replace(said, written)
    for start in [words, *(words[:end] for end in range(len(words) - 1, 1, -1))]:
        position = _clear_match(start, materials)
        if position is not None:
            return position
    return None


def _clear_match(words: str, materials: tuple[str, ...]) -> int | None:
    """The best partial match, the closer whole name breaking a tie; None when none is clear."""
    scores = sorted(((fuzz.partial_ratio(words, m), fuzz.ratio(words, m), p) for p, m in enumerate(materials, 1)),
                    reverse=True)
    if not scores or scores[0][0] < NAMED_MATCH:
        return None
    if len(scores) > 1 and scores[0][0] - scores[1][0] < CLEAR_MARGIN and scores[0][1] - scores[1][1] < CLEAR_MARGIN:
        return None
    return scores[0][2]


def read_marks(text: str, positions: list[int], total: int, known: dict[int, str],
               photos: frozenset[int] = frozenset(), said_before: dict[int, str] | None = None,
               others_there: bool = True) -> Read:
    """What an answer says about the materials at `positions` (1-based, of `total`).

    `known`: earlier answers (a later material named before its batch); `photos`: positions photographed in this
    batch; `said_before`: what the citizen said in this batch before being asked about the rest; `others_there`:
    "2没有" means the rest are there (False when part of the answer could not be read).
    """
    folded = unicodedata.normalize("NFKC", text).strip()
    said: dict[int, str] = {}
    rest: str | None = None
    blanked = folded
    for match in _EXCEPT.finditer(folded):
        rest = _status(match)
        other = MISSING if rest == HAVE else HAVE
        for n in _numbers(match.group("nums")):
            said[n] = other
        blanked = blanked.replace(match.group(), " ")
    for match in _REST.finditer(blanked):
        rest = _status(match)
        blanked = blanked.replace(match.group(), " ")
    for match in _PAIR.finditer(blanked):
        for n in _numbers(match.group("nums")):
            said[n] = _status(match)
    for match in _LEAD.finditer(blanked):
        status = UNSURE if match.group("lead").startswith("不") else MISSING
        for n in _numbers(match.group("nums")):
            said.setdefault(n, status)
    if not said and rest is None:  # one word for all (for the rest, after "1有" → "第2、3项呢？")
        whole = _ALL.match(plain(folded))
        answer = parse_yes_no(folded)
        if plain(folded) in _WHOLE:
            rest = _WHOLE[plain(folded)]
        elif whole:
            rest = _status(whole)
        elif answer.ok and (answer.value or len(positions) == 1 or said_before):
            rest = HAVE if answer.value else MISSING
        elif answer.ok and positions:
            return Read(ask=WHICH_MISSING.format(a=positions[1]))
        else:
            return Read(reason=NOT_READ)
    said = {**(said_before or {}), **said}
    if any(not 1 <= n <= total for n in said):
        return Read(reason=OUT_OF_RANGE.format(total=total))
    negative = any(s != HAVE for n, s in said.items() if n in positions)
    marks: dict[int, str] = {}
    unknown: list[int] = []
    for p in positions:
        if p in said:
            marks[p] = said[p]
        elif p in photos:  # a photo of it was sent: "都没有" then means the others
            marks[p] = HAVE
        elif rest is not None:
            marks[p] = rest
        elif p in known:
            marks[p] = known[p]
        elif negative and others_there:
            marks[p] = HAVE  # "2没有": the others are there
        else:
            unknown.append(p)
    if unknown:
        return Read(unknown=tuple(unknown), said=said)
    marks.update({n: s for n, s in said.items() if n not in positions})
    return Read(marks=marks, said=said)


# --- the flow's data ---------------------------------------------------------------------------------------------

def _batch_name(index: int) -> str:
    return f"b{index + 1}"


def _positions(index: int, total: int) -> list[int]:
    return list(range(index * PER_MESSAGE + 1, min(total, (index + 1) * PER_MESSAGE) + 1))


def _valid_marks(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and k.isdigit() and v in STATUSES
                                           for k, v in value.items())


def _str_keys(value: Any) -> dict[str, str]:
    return dict(value) if _valid_marks(value) else {}


def _as_ints(value: Any) -> dict[int, str]:
    return {int(k): v for k, v in value.items()} if _valid_marks(value) else {}


def marks_of(data: dict, upto: int | None = None) -> dict[int, str]:
    """Every answer so far, later answers winning: the batches in order (up to batch `upto`, not included), then
    corrections made at the end."""
    marks: dict[int, str] = {}
    for index in range(MAX_BATCHES if upto is None else upto):
        marks.update(_as_ints(data.get(_batch_name(index))))
    if upto is None:
        marks.update(_as_ints(data.get("fixes")))
    return marks


def _materials(ctx: Ctx) -> tuple[str, ...]:
    item = ctx.item
    return facts(item, ctx.hall).materials if item else ()


def _name(material: str, chars: int = 30) -> str:
    return shorten(re.sub(r"[。；;，,]+$", "", material.strip()), chars)


def _batch_question(index: int, ctx: Ctx) -> str:
    materials = _materials(ctx)
    total = len(materials)
    positions = _positions(index, total)
    known = marks_of(ctx.data, index)
    lines = []
    for p in positions:
        line = f"{p}. {_name(materials[p - 1], 60)}"
        if p in known:
            line += SAID_BEFORE.format(status=known[p])
        lines.append(line)
    if len(positions) == 1:
        lines.append(("这一项您有吗？" if total > 1 else "这份材料您有吗？") + HOW_ONE)
    else:
        lines.append("这几项您都有吗？" + HOW.format(a=positions[1], b=positions[-1]))
    conditional = [p for p in positions if _CONDITIONAL.search(materials[p - 1])]
    if conditional:
        lines.append(NOT_NEEDED_TIP.format(a=conditional[0]))
    if index == 0:
        lines.append(PHOTO_TIP)
    return "\n".join(lines)


def _batch_answer(index: int, text: str, ctx: Ctx) -> Parsed | Clarify:
    total = len(_materials(ctx))
    positions = _positions(index, total)
    photos = frozenset(p for p in ctx.data.get("_photos", []) if isinstance(p, int))
    before = _as_ints(ctx.data.get("_said"))
    how = HOW_ONE if len(positions) == 1 else HOW.format(a=positions[1], b=positions[-1])
    asked = _where_to_get(text, ctx)
    if asked is not None:  # a question about one of them, not an answer
        return Clarify(asked + "\n" + ("这一项您有吗？" if len(positions) == 1 else "这几项您有吗？") + how)
    text, unclear = numbered(text, _materials(ctx))  # "照片没有": 2没有
    read = read_marks(text, positions, total, marks_of(ctx.data, index), photos, before, others_there=not unclear)
    if read.reason:
        return Parsed(reason=read.reason + how)
    if read.ask:
        return Clarify(read.ask)
    if read.unknown:
        ctx.data["_said"] = {str(k): v for k, v in read.said.items()}
        return Clarify(AND_THE_REST.format(numbers="、".join(str(p) for p in read.unknown)))
    return Parsed({str(k): v for k, v in read.marks.items()})


_ASKED_NUMBER = re.compile(r"(?:第\s*)?([0-9]{1,2})\s*(?:项|个|条)?")
CLEAR_MATCH, CLEAR_MARGIN = 70, 10  # rapidfuzz partial_ratio of the words asked about against a material's name


def _where_to_get(text: str, ctx: Ctx) -> str | None:
    """"房产证明去哪开", "第4项在哪拿": where to get one material, as the list at the end says it; None when the
    question is not that, or does not say clearly which one."""
    folded = unicodedata.normalize("NFKC", text)
    asked = WHERE_TO_GET.search(folded)
    if asked is None:
        return None
    materials = _materials(ctx)
    number = _ASKED_NUMBER.match(folded)
    if number and 1 <= int(number.group(1)) <= len(materials):
        position = int(number.group(1))
    else:
        words = folded[:asked.start()].strip(" ，,的")
        scores = sorted(((fuzz.partial_ratio(words, m), p) for p, m in enumerate(materials, 1)), reverse=True)
        if not words or scores[0][0] < CLEAR_MATCH or len(scores) > 1 and scores[0][0] - scores[1][0] < CLEAR_MARGIN:
            return None
        position = scores[0][1]
    material = materials[position - 1]
    return f"第{position}项 {_name(material, 24)}：{how_to_get(material, facts(ctx.item, ctx.hall), ctx.hall.hall.phone)}。"


def _batch_step(index: int) -> Step:
    return Step(_batch_name(index), ask=lambda ctx: _batch_question(index, ctx),
                recognise=lambda text, ctx: _batch_answer(index, text, ctx),
                when=lambda data: isinstance(data.get("total"), int) and data["total"] > index * PER_MESSAGE,
                valid=_valid_marks,
                help="核对材料：有的回复“都有”，缺哪项就说哪项，比如“2没有”“3不确定”。")


# --- the one list of what is missing ---------------------------------------------------------------------------

def _marks(ctx: Ctx) -> tuple[MaterialMark, ...]:
    materials = _materials(ctx)
    f = facts(ctx.item, ctx.hall)
    marks = marks_of(ctx.data)
    return tuple(MaterialMark(position=p, name=m, status=marks.get(p, UNSURE),
                              how_to_get=how_to_get(m, f, ctx.hall.hall.phone) if _lacking(marks.get(p, UNSURE))
                              else None)
                 for p, m in enumerate(materials, start=1))


def _lacking(status: str) -> bool:
    return status in (MISSING, UNSURE)


def missing_text(ctx: Ctx, limit: int = WECHAT_TEXT_LIMIT) -> str:
    """一次性告知: every material missing or unsure with how to get it, in one message (shorter and shorter
    lines until it fits)."""
    item = ctx.item
    f = facts(item, ctx.hall)
    marks = _marks(ctx)
    lacking = [m for m in marks if _lacking(m.status)]
    title = shorten(item.title, 30)
    if not lacking:
        return ALL_THERE.format(title=title)
    head = TO_PREPARE.format(title=title, count=len(lacking))
    ask_unit = _ask_unit(f, ctx.hall.hall.phone)
    tail = ASK_PHONE.format(unit=shorten(f.unit, 20), phone=f.phone or ctx.hall.hall.phone)
    for name_chars, how_chars in ((60, 60), (30, 36), (20, 24), (16, 0)):
        lines = [head]
        for m in lacking:
            line = f"第{m.position}项 {_name(m.name, name_chars)}（{m.status}）"
            if how_chars and m.how_to_get and m.how_to_get != ask_unit:
                line += f"\n  办法：{shorten(m.how_to_get, how_chars)}"
            lines.append(line)
        lines.append(tail)
        text = "\n".join(lines)
        if fits(text, limit):
            return text
    return clip(text, limit, tail="……\n" + tail)


# --- starting, photos, finishing ---------------------------------------------------------------------------------

def _open_case(ctx: Ctx, item: "Item") -> str | None:
    case = next((c for c in ctx.cases() if c.item_id == item.id and not c.closed), None)
    return case.number if case else None


def _start(ctx: Ctx) -> Begin | Reply | None:
    item = ctx.env.catalogue.get(ctx.state.get("item") or "")
    if item is None:
        return None  # talk.py asks which item
    f = facts(item, ctx.hall)
    if not f.materials:
        return Reply((NO_MATERIALS.format(title=item.title, phone=f.phone or ctx.hall.hall.phone),),
                     changes={"item": item.id})
    entry = ctx.hall.entry(item.id)
    data = {"item": item.id, "total": min(len(f.materials), MAX_BATCHES * PER_MESSAGE),
            "case": _open_case(ctx, item), "bookable": bool(entry and entry.forms)}
    return Begin(data, INTRO.format(title=shorten(item.title, 30), total=data["total"], per=PER_MESSAGE))


def _resume(ctx: Ctx) -> bool:
    item = ctx.item
    return item is not None and isinstance(ctx.data.get("total"), int) and ctx.data["total"] == min(
        len(facts(item, ctx.hall).materials), MAX_BATCHES * PER_MESSAGE) and ctx.data["total"] > 0


def _list_then(ctx: Ctx, line: str) -> str:
    """The list of what is missing with one more line after it, the whole within one message."""
    return missing_text(ctx, WECHAT_TEXT_LIMIT - len(("\n" + line).encode("utf-8"))) + "\n" + line


def _book_question(ctx: Ctx) -> str:
    return _list_then(ctx, ASK_BOOK)


def _book_answer(text: str, ctx: Ctx) -> Parsed | Clarify:
    if command(text) == BOOK:  # "预约" answers the question
        return Parsed(True)
    answer = parse_yes_no(text)
    if answer.ok:
        return answer
    read = read_marks(text, [], ctx.data["total"], marks_of(ctx.data))
    if read.said and not read.reason:  # "第2个其实有": a correction, then the list again
        ctx.data["fixes"] = {**_str_keys(ctx.data.get("fixes")), **{str(k): v for k, v in read.said.items()}}
        return Clarify(_book_question(ctx))
    return Parsed(reason=ASK_BOOK_HELP)


BOOK_STEP = Step("book", ask=_book_question, recognise=_book_answer,
                 when=lambda data: not data.get("case") and bool(data.get("bookable")),
                 valid=lambda v: isinstance(v, bool), help=ASK_BOOK_HELP)


def _finish(ctx: Ctx) -> Reply:
    item = ctx.item
    save = SaveChecklist(ctx.data.get("case"), item.id, _marks(ctx))
    changes = {"item": item.id}
    if ctx.data.get("case"):
        return Reply((_list_then(ctx, KEPT_WITH_CASE.format(number=ctx.data["case"])),), (save,), changes)
    if not ctx.data.get("bookable"):
        return Reply((_list_then(ctx, NOT_OFFERED),), (save,), changes)
    if not ctx.data.get("book"):
        return Reply((NOT_BOOKED,), (save,), changes)
    booking = start("booking", next_state({**ctx.state, "flow": None}, item=item.id), ctx.env)
    if booking is None:
        return Reply((NOT_BOOKED,), (save,), changes)
    return Reply(tuple(booking.replies), (save, *booking.effects), {**changes, "flow": booking.state.get("flow")})


def photo(state: "State", media_id: str, env: "Env") -> Outcome | None:
    """A photo sent during the checklist: kept for the material most likely shown (the next one of the batch on
    screen without a photo), which then counts as "有". None when no checklist is in progress."""
    record = state.get("flow")
    if not isinstance(record, dict) or record.get("name") != CHECKLIST.name or not isinstance(record.get("data"), dict):
        return None
    data = record["data"]
    item = env.catalogue.get(data.get("item") or "")
    if item is None:
        return None
    materials = facts(item, env.hall).materials
    step = record.get("step")
    match = re.fullmatch(r"b(\d+)", step or "")
    note = f"材料照片（{item.title}）"
    if not match:
        keep = KeepMedia(media_id, note, case_number=data.get("case"))
        return Outcome(next_state(state, flow=record), [PHOTO_KEPT_LATE], [keep], miss=None)
    positions = _positions(int(match.group(1)) - 1, len(materials))
    seen = [p for p in data.get("_photos", []) if isinstance(p, int)]
    position = next((p for p in positions if p not in seen), positions[-1])
    material = materials[position - 1]
    keep = KeepMedia(media_id, note, case_number=data.get("case"), material=material)
    record = {**record, "data": {**data, "_photos": sorted({*seen, position})}}
    text = PHOTO_KEPT.format(material=_name(material), position=position)
    if len(positions) > 1:
        text += PHOTO_GO_ON
    return Outcome(next_state(state, flow=record), [text], [keep], miss=None)


CHECKLIST = Flow(name="checklist", title=TITLE, steps=(*(_batch_step(i) for i in range(MAX_BATCHES)), BOOK_STEP),
                 triggers=(MATERIALS,), needs_item=True, start=_start, finish=_finish, resume=_resume)

FLOWS = (CHECKLIST,)
