"""What the citizen reads after asking about a service item: an answer, numbered choices, or a polite decline.

Pure: it is handed the consultation result, the catalogue and the hall's data, and returns text. Every reply
fits one WeChat text message; a long material list is cut short with a way to see the rest.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from .parse import QUESTION
from .text import WECHAT_TEXT_LIMIT, clip, fits, numbered, shorten, time_limit

if TYPE_CHECKING:  # dialogs sees knowledge only through what it is handed
    from knowledge.model import Catalogue, HallData, Item, ListingEntry
    from knowledge.query import Query
    from knowledge.service import Consultation

MATERIALS_SHOWN = 8
NEXT_STEPS = "回复“预约”申请帮办代办，“材料清单”逐项核对材料，“转人工”找工作人员。"
NO_SERVICE_STEPS = "回复“转人工”找工作人员。"
FIELD_ORDER = ("materials", "place", "time", "hours", "result", "phone", "fee", "condition", "service", "in_person",
               "online")
BRING = "bring"  # "身份证要带吗": is this thing among the item's materials?
TENTATIVE = "您问的可能是这一项（如果不是，请换个说法或回复“转人工”）："


@dataclass(frozen=True)
class ItemFacts:
    """The answerable facts of one item as this hall offers it, worded for citizens."""

    title: str
    unit: str
    materials: tuple[str, ...]
    time_limit: str | None
    place: str
    hours: str | None
    phone: str | None
    fee: str
    mail: str | None
    condition: str | None
    forms: tuple[str, ...]  # 帮办 / 代办 / 上门服务 offered by this hall; empty: not on the hall's list
    note: str | None
    visits: int | None = None  # 到现场次数 in the guide (0: done wholly online); None: not said
    platform: str | None = None  # where it is done online (广东政务服务网 …)


def facts(item: "Item", hall: "HallData") -> ItemFacts:
    entry: ListingEntry | None = hall.entry(item.id)
    contact = hall.hall.unit(entry.unit) if entry else None
    if entry:
        unit = entry.unit
        place = (contact.address if contact and contact.address else hall.hall.address)
        hours = contact.hours if contact and contact.hours else hall.hall.hours
        phone = (contact.booking_phone if contact and contact.booking_phone else hall.hall.phone)
        limit = time_limit(entry.promised_limit) or time_limit(item.promised_limit)
    else:
        unit = item.unit
        place = item.location or "请向办理单位咨询"
        if place == "无线下办理窗口":
            place = "网上办理（没有线下窗口）"
        hours = None
        phone = item.phone
        limit = time_limit(item.promised_limit)
    fee = item.fee or "办事指南未写明，以窗口为准（帮办代办服务本身免费）"
    mail = None if item.mail_delivery is None else ("可以邮寄" if item.mail_delivery else "需本人领取")
    return ItemFacts(
        title=item.title, unit=unit, materials=item.materials, time_limit=limit, place=place, hours=hours,
        phone=phone, fee=fee, mail=mail, condition=item.conditions,
        forms=tuple(f for f in ("帮办", "代办", "上门服务") if entry and f in entry.forms),
        note=entry.note if entry else None, visits=item.visits_required, platform=item.platform,
    )


def asked_field(fields: Sequence[str]) -> str | None:
    """The part of the guide a question asks about: the last it names, since a Chinese question ends with what it
    asks ("材料我都备好了，就是不知道该去哪个窗口"), except that a bare 能不能 / 可以吗 / 一定要 (condition) yields to
    a more particular one ("一定要本人去吗" asks whether one must go in person). Whether to bring a thing
    ("身份证要带吗") is asked of the materials."""
    return (asked_fields(fields) or [None])[-1]


def asked_fields(fields: Sequence[str]) -> list[str]:
    """Every part of the guide a question names, in the order named, each once; the last is the one asked."""
    named = [f for f in ("materials" if f == BRING else f for f in fields) if f in FIELD_ORDER]
    particular = [f for f in named if f != "condition"] or named
    return [f for index, f in enumerate(particular) if f not in particular[index + 1:]]


def asked_before(query: "Query") -> list[str]:
    """The parts of the guide asked before the last one, each in words that ask ("要带什么，在哪办": the materials
    too); a part only named ("材料我都备好了，就是不知道该去哪个窗口") is not asked."""
    asking = {asked_field((t.field,)) for run in query.runs for t in run if t.field and QUESTION.search(t.text)}
    return [f for f in asked_fields(query.fields)[:-1] if f in asking]


def _ask_them(f: ItemFacts) -> str:
    """Whom to ask when the guide does not say: by phone when a number follows, else the unit or a person here."""
    return "请电话咨询" if f.phone else f"请向{shorten(f.unit, 20)}咨询，或回复“转人工”问工作人员"


def _materials_block(f: ItemFacts, shown: int) -> str:
    materials = f.materials
    if not materials:
        return f"需要带：办事指南未列出材料，{_ask_them(f)}。"
    lines = [shorten(m, 60) for m in materials[:shown]]
    text = "需要带：\n" + numbered(lines)
    if len(materials) > shown:
        text += f"\n……还有{len(materials) - shown}项，回复“材料清单”查看全部。"
    return text


def _online(f: ItemFacts) -> str:
    if f.visits is None:
        return f"能不能网上办，办事指南没有写明，{_ask_them(f)}。"
    if f.visits == 0:
        text = "这项可以网上办，不用到现场" + (f"（在{shorten(f.platform, 20)}办）。" if f.platform else "。")
    else:
        text = f"这项要到现场{f.visits}次。"
    if f.visits == 0 and "帮办" in f.forms:  # the booking's 帮网上办 comes with 帮办 (flows/booking.py)
        text += "\n不会在手机上操作的，可以预约“帮网上办”，工作人员教您。"
    elif f.visits and f.forms:
        text += "\n" + _service_line(f)
    return text


def _in_person(f: ItemFacts) -> str:
    if "代办" in f.forms:
        first = "本人来不了的，本中心可以为您代办：签一份委托书，把材料交给代办员就行。"
    elif f.visits == 0:
        first = "这项可以网上办，不用到现场。"
    else:
        first = f"申请时要不要本人到场，办事指南没有写明，{_ask_them(f)}。"
    lines = [first]
    if "上门服务" in f.forms:
        lines.append("老年人、残疾人等行动不便的，还可以预约上门服务。")
    if f.mail:
        lines.append("办好后" + ("结果可以邮寄。" if f.mail == "可以邮寄" else "要本人来领取。"))
    return "\n".join(lines)


def _result(f: ItemFacts) -> str:
    if f.mail == "可以邮寄":
        first = "办好后结果可以邮寄到家，预约帮办代办时选“邮寄”就行；也可以自己来取。"
    elif f.mail:
        first = f"办好后要本人来领取，地点：{shorten(f.place, 60)}。"
    else:
        first = f"结果怎么领、能不能邮寄，办事指南没有写明，{_ask_them(f)}。"
    return first + "\n通过本中心帮办代办的，可以随时回复“查进度”看办到哪一步了。"


def _service_line(f: ItemFacts) -> str:
    if not f.forms:
        return "本中心暂未提供这项的帮办代办，可按上面的地点和电话办理。"
    line = f"本中心可为您{'、'.join(f.forms)}，可以预约。"
    if "上门服务" in f.forms:
        line += "（上门服务面向老年人、残疾人、孕妇、病人等行动不便的群众）"
    return line


def full_answer(f: ItemFacts, shown: int = MATERIALS_SHOWN, limit: int = WECHAT_TEXT_LIMIT) -> str:
    """The item's guide in short: unit, materials, time limit, place and hours, phone, mail, service forms.

    `limit`: bytes available (less than a whole message when the caller puts a line in front).
    """
    while True:
        parts = [f"【{f.title}】", f"办理单位：{f.unit}", _materials_block(f, shown)]
        if f.time_limit:
            parts.append(f"办理时限：{f.time_limit}")
        parts.append(f"办理地点：{shorten(f.place, 80)}" + (f"（{shorten(f.hours, 60)}）" if f.hours else ""))
        if f.phone:
            parts.append(f"咨询电话：{f.phone}")
        if f.mail:
            parts.append(f"办好后：{f.mail}")
        parts.append(_service_line(f))
        if f.note:
            parts.append(f"说明：{shorten(f.note, 80)}")
        parts.append(NEXT_STEPS if f.forms else NO_SERVICE_STEPS)
        text = "\n".join(parts)
        if fits(text, limit) or shown <= 3:
            return clip(text, limit)
        shown -= 1


def field_answer(f: ItemFacts, field: str, limit: int = WECHAT_TEXT_LIMIT,
                 before: Sequence[str] = ()) -> str | None:
    """One part of the guide ("要带什么", "在哪办", "多久", "电话多少", "收费吗"), or None if not answerable; then the
    parts asked `before` it in the same question ("要带什么，在哪办") when they fit in the message too. The part
    asked last comes first: it is the one a question is surest to ask ("过年那几天应该关门了吧" asks the hours)."""
    asked = _field_body(f, field)
    if asked is None:
        return None
    others = [body for body in (_field_body(f, part) for part in before if part != field) if body]
    phone = f"咨询电话：{f.phone}" if f.phone and "phone" not in (field, *before) and field != "materials" else ""
    text = ""
    for bodies in ([asked, *others], [asked]):
        for shown in (len(f.materials), MATERIALS_SHOWN):
            lines = [f"【{f.title}】"]
            for body in [*bodies, phone]:
                block = _materials_block(f, shown) if body is _MATERIALS else body
                lines += [line for line in block.splitlines() if line not in lines]  # 地点 and 时间 said once
            text = "\n".join([*lines, "回复“详情”看完整办事指南。"])
            if fits(text, limit):
                return text
    return clip(text, limit)


_MATERIALS = "materials"  # _field_body's answer for the materials: the block is made to fit the message


def _field_body(f: ItemFacts, field: str) -> str | None:
    """What the guide says of one part, without the title, the phone and the pointer to 详情."""
    if field == "materials":
        return _MATERIALS
    if field == "place":
        body = f"办理地点：{f.place}" + (f"\n办理时间：{f.hours}" if f.hours else "")
    elif field == "time":
        body = f"办理时限：{f.time_limit}" if f.time_limit else f"办事指南没有写明办理时限，{_ask_them(f)}。"
    elif field == "hours":
        body = f"办理时间：{f.hours}\n办理地点：{shorten(f.place, 80)}" if f.hours else \
            f"办事指南没有写明办理时间，{_ask_them(f)}。"
    elif field == "service":  # 能代办吗, 能上门吗: what this hall offers for the item
        body = _service_line(f) + ("\n回复“预约”申请帮办代办。" if f.forms else "")
    elif field == "in_person":  # 要本人去吗: who may act for them, how the result comes
        body = _in_person(f)
    elif field == "online":  # 能网上办吗, 要跑几次
        body = _online(f)
    elif field == "result":  # 结果怎么领, 能寄到家吗
        body = _result(f)
    elif field == "phone":
        body = f"咨询电话：{f.phone}" if f.phone else "办事指南没有写明电话，请回复“转人工”。"
    elif field == "fee":
        body = f"收费：{f.fee}"
    elif field == "condition":
        body = ("办理条件：" + shorten(f.condition, 300)) if f.condition else \
            f"办事指南没有写明办理条件，{_ask_them(f)}。"
    else:
        return None
    return body


_BRACKETED = re.compile(r"[（(][^（）()]*[）)]")
_NOT_NEEDED = ("无须", "无需", "不需", "不用", "不必", "免于", "免交", "免提交", "不再")


def bring_answer(f: ItemFacts, things: Sequence[str], limit: int = WECHAT_TEXT_LIMIT) -> str:
    """"身份证要带吗": the materials that name the thing, numbered as in the full list; the whole list when none
    does (the guide may name it otherwise: no "不用带" is ever guessed)."""
    found = [(number, line) for number, line in enumerate(f.materials, start=1)
             if any(t in _BRACKETED.sub("", line) for t in things)]  # not "户口簿（…与身份证一致…）"
    if not found:
        return field_answer(f, "materials", limit) or ""
    lines = "\n".join(f"{number}. {shorten(line, 100)}" for number, line in found)
    if any(word in line for _, line in found for word in _NOT_NEEDED):  # "申请阶段无须提交离婚协议书"
        head = "材料里是这样写的："
    else:
        head = "要带，材料里有这一项：" if len(found) == 1 else "要带，材料里有这几项："
    return clip(f"【{f.title}】\n{head}\n{lines}\n回复“要带什么材料”看全部材料。", limit)


def not_answered_text(f: ItemFacts, limit: int = WECHAT_TEXT_LIMIT) -> str:
    """A message not understood while an item is being discussed ("然后呢", "那怎么办"): say so, and what can be
    asked about the item."""
    phone = f"，或打咨询电话{f.phone}" if f.phone else ""
    return clip(f"关于【{f.title}】，这个问题我答不上来。\n您可以问我：要带什么材料、在哪办、要多久、收费吗、能不能代办。\n"
                f"也可以回复“转人工”问工作人员{phone}。", limit)


def choices_text(names: Sequence[str], limit: int = WECHAT_TEXT_LIMIT, head: str = "您想问的是哪一项？请回复数字：") -> str:
    lines = [shorten(name, 40) for name in names]
    return clip(head + "\n" + numbered(lines) + "\n都不是请换个说法，或回复“转人工”。", limit)


def decline_text(hall: "HallData", unit_hint: str | None, understood: bool, limit: int = WECHAT_TEXT_LIMIT) -> str:
    h = hall.hall
    contact = f"您可以回复“转人工”问工作人员，或拨打{h.phone}（{shorten(h.hours, 40)}）。"
    if not understood:
        return clip("我是帮办小助手，可以帮您查办事要带的材料、地点和时限，预约帮办代办。"
                    "请直接说要办的事，比如“身份证丢了怎么补办”。\n" + contact, limit)
    text = "抱歉，本中心的事项目录里没有找到您问的事项。"
    if unit_hint:
        text += f"\n这类事情一般由{unit_hint}办理。"
    return clip(text + "\n" + contact, limit)


# What is asked of a matter: with words of its own around it, such a question names the matter ("孩子上学要什么
# 证明"). How the hall serves (service, in_person, online, hours) is asked with the citizen's circumstances around
# it instead ("我腿脚不好能上门吗").
ABOUT_A_MATTER = frozenset({"materials", "condition", "time", "fee", "place", "phone", "process"})


def named_besides_cues(query: "Query", asking: str | None = None) -> list[str]:
    """The subject words that are not cue words the question asks with: those of the field `asking`, also inside
    a longer word (具体步骤 holds 步骤); or, with no field given, the cue words of any field but the materials (学生,
    委托, 停车 say who or how; 残疾人证 is a thing although 残疾 is a cue; 身份证, 户口簿 may be a matter of their own)."""
    if asking is not None:
        cues = [word for field, word in query.cues if field == asking]
        return [w for w in query.subject_words if not any(cue in w or w in cue for cue in cues)]
    cues = [word for field, word in query.cues if field not in ("materials", BRING)]
    return [w for w in query.subject_words if not any(w in cue for cue in cues)]


def names_a_matter(query: "Query") -> bool:
    """The question names a matter of its own: something asked of it, or done to it ("户口本怎么补")."""
    field = asked_field(query.fields) or ("process" if "process" in query.fields else None)  # 怎么办, 怎么申请
    return bool(query.topic_words) and (field in ABOUT_A_MATTER or bool(query.actions))


UNDERSTOOD_AT = 0.45  # below this the nearest item says nothing about the question (chit-chat, noise)


def likely_unit(hits: Sequence, catalogue: "Catalogue", hall: "HallData",
                min_score: float = UNDERSTOOD_AT) -> str | None:
    """The unit the nearest items share, when they are near enough to say something: as this hall's list names it
    (住房公积金管理中心区办事处), not as the guide it was copied from does (青岛市住房公积金管理中心)."""
    near = [catalogue.get(h.id) for h in hits[:3] if h.score >= min_score]
    units = {_unit_here(item, hall) for item in near if item}
    return units.pop() if len(units) == 1 else None


def _unit_here(item: "Item", hall: "HallData") -> str:
    entry = hall.entry(item.id)
    return entry.unit if entry else item.unit


def reply(consultation: "Consultation", catalogue: "Catalogue", hall: "HallData",
          limit: int = WECHAT_TEXT_LIMIT) -> str:
    """The citizen-facing text for a fresh question, within `limit` bytes."""
    decision = consultation.decision
    if decision.kind == "answer":
        item = catalogue.get(decision.choices[0].id)
        f = facts(item, hall)
        field = asked_field(consultation.query.fields)
        if decision.tentative:
            limit -= len((TENTATIVE + "\n").encode("utf-8"))
        text = (field_answer(f, field, limit, asked_before(consultation.query)) if field else None) \
            or full_answer(f, limit=limit)
        if decision.tentative:
            text = TENTATIVE + "\n" + text
        return text
    if decision.kind == "clarify":
        return choices_text([h.name for h in decision.choices], limit)
    understood = bool(consultation.hits) and consultation.hits[0].score >= UNDERSTOOD_AT \
        or names_a_matter(consultation.query)  # "孩子上学要什么证明", "老年证怎么办": a matter it does not have
    return decline_text(hall, likely_unit(consultation.hits, catalogue, hall) if understood else None, understood,
                        limit)



def materials_list(f: ItemFacts, limit: int = WECHAT_TEXT_LIMIT) -> list[str]:
    """材料清单: every material of the item, numbered and in full, over as many messages as it takes.

    The first message has room for `limit` bytes, the following ones for a whole message each.
    """
    if not f.materials:
        phone = f"，电话：{f.phone}" if f.phone else ""
        return [clip(f"【{f.title}】\n办事指南没有列出材料，请先问清楚再去办{phone}。\n回复“转人工”可以问工作人员。", limit)]
    head = f"【{f.title}】材料清单，共{len(f.materials)}项："
    tail = "请逐项核对。不清楚的可以回复“转人工”问工作人员。"
    lines = [clip(f"{i}. {m.strip()}", WECHAT_TEXT_LIMIT // 2) for i, m in enumerate(f.materials, start=1)]
    messages: list[str] = []
    current = head
    room = limit
    for line in [*lines, tail]:
        candidate = current + "\n" + line
        if fits(candidate, room):
            current = candidate
        else:
            messages.append(current)
            current = f"【{shorten(f.title, 30)}】材料清单（接上条）\n{line}"
            room = WECHAT_TEXT_LIMIT
    messages.append(current)
    return [clip(messages[0], limit), *(clip(m) for m in messages[1:])]


def booking_text(f: ItemFacts, hall: "HallData", limit: int = WECHAT_TEXT_LIMIT) -> str:
    """我要预约 for one item: what this hall offers for it and how to book while online booking is being set up."""
    h = hall.hall
    if not f.forms:
        return clip(f"【{f.title}】\n本中心暂未提供这项的帮办代办。\n"
                    f"您可以回复“转人工”问工作人员，或拨打{h.phone}（{shorten(h.hours, 40)}）。", limit)
    phone = f.phone or h.phone
    hours = f.hours or h.hours
    return clip(f"【{f.title}】\n本中心可为您{'、'.join(f.forms)}。\n"
                "网上预约功能正在开通中，现在可以这样预约：\n"
                f"1. 回复“转人工”，工作人员帮您预约；\n"
                f"2. 打{f.unit}预约电话：{phone}（{hours}）。", limit)
