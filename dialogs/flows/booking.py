"""预约帮办代办 for one item of the hall's 事项清单; 改约 and 取消预约 of a booking the citizen already has.

Booking asks, in this order (only what applies): the service form the list offers for the item (现场帮办, 代办,
上门帮办, 远程帮办, 帮网上办); for 上门帮办 whether the applicant is elderly, disabled, pregnant or ill (unless the
conversation already knows); person or enterprise (unless the item serves only one); the name, or for an
enterprise 单位名称, 统一社会信用代码, 法定代表人 and 经办人; a mobile number; for 上门帮办 the address; the time
(a free slot on a working day within the hall's schedule); how the result comes back (自取 or 邮寄 with recipient,
phone and address, unless the guide says the applicant must collect it); then the summary, and on "是" an OpenCase.

Times: "明天下午", "下周三上午", "12月3日", "3号 9点" or a number from the times offered. A day the hall is closed
says why ("10月1日是国庆节假期，不办公。") and offers the next free times; so does a full or past slot. Free places
come from env.free_slots(day); a slot the gateway does not list as free is not offered. The gateway must check the
place again when it carries out OpenCase / MoveBooking (two citizens may confirm the last place at once).
"""
from __future__ import annotations

import re
from datetime import date, time, timedelta
from typing import TYPE_CHECKING, Any

from .. import wording
from ..consult import booking_text, choices_text, facts
from ..effects import Applicant, CancelBooking, Delivery, MoveBooking, OpenCase
from ..intents import BOOK, command
from ..parse import choice_number, plain
from ..recognise import (AFTERNOON, EVENING, MORNING, Parsed, date_text, parse_address, parse_company_name,
                         parse_mobile, parse_name, parse_uscc, parse_when)
from ..state import GROUPS
from ..text import numbered, shorten
from ..views import SlotView
from . import Begin, Clarify, Ctx, Flow, Goto, Option, Reply, Step, listed, pick
from ._cases import NOT_YOURS, case_options, find_case_number, ordered, own_case, pick_case, slot_text

if TYPE_CHECKING:
    from knowledge.model import Item, ListingEntry, Schedule

    from ..views import CaseView

# --- service forms ------------------------------------------------------------------------------------------------

ON_SITE, PROXY, HOME, REMOTE, ONLINE = "现场帮办", "代办", "上门帮办", "远程帮办", "帮网上办"
_FORMS = (  # (form, what the list must offer, the line the citizen reads, other words for it)
    (ON_SITE, "帮办", "现场帮办：您到大厅，工作人员帮您备齐材料、陪您到窗口办", ("现场", "到大厅", "帮办")),
    (PROXY, "代办", "代办：您交齐材料、签委托书，代办员替您跑完全程", ("委托代办", "委托", "代办员")),
    (HOME, "上门服务", "上门帮办：工作人员上门（限老年人、残疾人、孕妇、病人等行动不便的）",
     ("上门", "上门服务", "到家")),
    (REMOTE, "帮办", "远程帮办：电话或视频指导，材料和结果可邮寄", ("远程", "电话", "视频")),
    (ONLINE, "帮办", "帮网上办：教您在网上或手机上办", ("网上", "网上办", "手机上办", "线上")),
)
HOME_GROUPS = ("老年人", "残疾人", "孕妇", "病人")
NOT_IN_GROUP = "无"


def _entry(ctx: Ctx) -> "ListingEntry | None":
    item = ctx.item
    return ctx.hall.entry(item.id) if item else None


def _form_options(ctx: Ctx) -> list[Option]:
    entry = _entry(ctx)
    offered = entry.forms if entry else frozenset()
    return [Option(form, label, words) for form, needs, label, words in _FORMS if needs in offered]


def _form_answer(text: str, ctx: Ctx) -> Parsed:
    """One of the forms offered for the item; a form it does not offer ("上门" for 居住证申领) is said to be so."""
    offered = _form_options(ctx)
    chosen = pick(text, offered)
    if chosen.ok:
        return chosen
    others = [Option(form, label, words) for form, _, label, words in _FORMS if form not in {o.value for o in offered}]
    other = pick(text, others) if others and not choice_number(text) else None
    if other is not None and other.ok:
        label = next(o.label for o in others if o.value == other.value).split("：")[0]
        return Parsed(reason=f"这件事没有{label}。{chosen.reason}")
    return chosen


def _form_note(form: str, ctx: Ctx) -> str | None:
    if form == PROXY:
        return "代办：您先把齐全的材料交给代办员，并签一份委托书；代办员办完后把结果交给您。"
    if form == REMOTE:
        return "远程帮办：工作人员按约定时间打电话（或视频）指导您，材料和结果可以邮寄。"
    if form == ONLINE:
        return "帮网上办：工作人员按约定时间打电话，一步步教您在网上办。"
    return None


def _group_check(group: str, ctx: Ctx) -> Parsed | Goto:
    if group == NOT_IN_GROUP:
        return Goto("form", "上门帮办只为老年人、残疾人、孕妇和病人等行动不便的群众提供，请选别的方式：")
    return Parsed(group)


# --- who applies ---------------------------------------------------------------------------------------------------

_SAME = frozenset({"同上", "一样", "相同", "同一个", "本人", "是本人", "我本人", "自己", "我自己", "就是我", "就是本人",
                   "法人本人", "法定代表人本人", "就是法人", "就是法定代表人", "是法人", "是法定代表人"})


def _same(text: str) -> bool:
    return plain(text) in _SAME


def _agent(text: str, ctx: Ctx) -> Parsed:
    return Parsed(ctx.data["legal_rep"]) if _same(text) and ctx.data.get("legal_rep") else parse_name(text)


def _agent_note(agent: str, ctx: Ctx) -> str | None:
    if agent != ctx.data.get("legal_rep"):
        return "经办人不是法定代表人，来办理时请带上法定代表人签字、单位盖章的授权委托书，以及经办人的身份证。"
    return None


def _applicant_person(data: dict) -> str | None:
    """Who comes (or receives): the person, or the enterprise's 经办人."""
    return data.get("name") if data.get("kind") == "个人" else data.get("agent")


def _recipient(text: str, ctx: Ctx) -> Parsed:
    person = _applicant_person(ctx.data)
    return Parsed(person) if _same(text) and person else parse_name(text)


def _recipient_phone(text: str, ctx: Ctx) -> Parsed:
    return Parsed(ctx.data["mobile"]) if _same(text) and ctx.data.get("mobile") else parse_mobile(text)


def _recipient_address(text: str, ctx: Ctx) -> Parsed:
    return Parsed(ctx.data["address"]) if _same(text) and ctx.data.get("address") else parse_address(text)


# --- time slots ----------------------------------------------------------------------------------------------------

OFFERED = 4  # times offered at once


def _schedule(ctx: Ctx) -> "Schedule":
    return ctx.hall.hall.schedule


def _last_day(ctx: Ctx) -> date:
    return ctx.calendar.add_workdays(ctx.today, _schedule(ctx).booking_days)


def _free(ctx: Ctx, day: date) -> list[SlotView]:
    """The day's bookable slots: a working day within the window, in the schedule, places left, not begun yet."""
    key = f"free:{day.isoformat()}"
    if key not in ctx.cache:
        free: list[SlotView] = []
        if ctx.today <= day <= _last_day(ctx) and ctx.calendar.is_workday(day):
            slots = set(_schedule(ctx).slots())
            free = sorted((s for s in ctx.env.free_slots(day)
                           if s.day == day and (s.start, s.end) in slots and s.left > 0
                           and (day > ctx.today or s.start > ctx.now.time())), key=lambda s: s.start)
        ctx.cache[key] = free
    return ctx.cache[key]


def _period(ctx: Ctx, moment: time) -> int:
    return next((i for i, (a, b) in enumerate(_schedule(ctx).periods) if a <= moment < b), -1)


def _offers(ctx: Ctx, first: date, after: time | None = None) -> list[SlotView]:
    """The next free times from `first` on (after `after` on that day): the first of each working period of each
    day, so the citizen sees mornings and afternoons of the next days rather than every half hour of one."""
    found: list[SlotView] = []
    day = max(first, ctx.today)
    last = _last_day(ctx)
    case = own_case(ctx, ctx.data["case"]) if ctx.data.get("case") else None  # 改约: not the time it has now
    now_booked = (case.appointment.day, case.appointment.start) if case and case.appointment else None
    while day <= last and len(found) < OFFERED:
        seen: set[int] = set()
        for slot in _free(ctx, day):
            if (day == first and after is not None and slot.start <= after) or (slot.day, slot.start) == now_booked:
                continue
            period = _period(ctx, slot.start)
            if period not in seen:
                seen.add(period)
                found.append(slot)
        day = date.fromordinal(day.toordinal() + 1)
    return found[:OFFERED]


def _value(slot: SlotView) -> dict[str, str]:
    return {"day": slot.day.isoformat(), "start": slot.start.strftime("%H:%M"), "end": slot.end.strftime("%H:%M")}


def _slot_of(value: Any) -> tuple[date, time, time] | None:
    try:
        return (date.fromisoformat(value["day"]), time.fromisoformat(value["start"]),
                time.fromisoformat(value["end"]))
    except (TypeError, KeyError, ValueError):
        return None


def _valid_slot(value: Any) -> bool:
    return isinstance(value, dict) and _slot_of(value) is not None


def _show_slot(value: Any) -> str:
    slot = _slot_of(value)
    return slot_text(*slot) if slot else "（时间不明）"


def _still_free(ctx: Ctx, value: Any) -> SlotView | None:
    slot = _slot_of(value)
    if slot is None:
        return None
    return next((s for s in _free(ctx, slot[0]) if (s.start, s.end) == slot[1:]), None)


def _hours(ctx: Ctx) -> str:
    return "、".join(f"{a.hour}:{a.minute:02d}-{b.hour}:{b.minute:02d}" for a, b in _schedule(ctx).periods)


def _offer_text(ctx: Ctx, head: str, offers: list[SlotView]) -> str:
    """`head`, then the offers numbered (kept in data["_offer"] for "1", "2" …)."""
    ctx.data["_offer"] = [_value(s) for s in offers]
    if not offers:
        return (f"{head}\n最近{_schedule(ctx).booking_days}个工作日都约满了。"
                "请回复“转人工”，工作人员帮您安排；或回复“取消”。")
    return (f"{head}\n可以约这些时间，请回复数字：\n{numbered([slot_text(s.day, s.start, s.end) for s in offers])}\n"
            "也可以说别的时间，比如“下周一上午”。")


def _slot_question(ctx: Ctx) -> str:
    form = ctx.data.get("form")
    if form == HOME:
        head = "希望工作人员哪天上门？"
    elif form in (REMOTE, ONLINE):
        head = "希望工作人员哪天什么时间打电话给您？"
    else:
        head = "您想约哪天到大厅？"
    example = ctx.today + timedelta(days=10)  # a date ahead of today: an example in the past would confuse
    head += f"可以说“明天上午”“下周三下午”“{example.month}月{example.day}日9点”。"
    return _offer_text(ctx, head, _offers(ctx, ctx.today))


def _recognise_slot(text: str, ctx: Ctx) -> Parsed | Clarify:
    offered = ctx.data.get("_offer") if isinstance(ctx.data.get("_offer"), list) else []
    said = choice_number(text)
    if said and not said[1]:
        if not 1 <= said[0] <= len(offered):
            return Parsed(reason=f"请回复1到{len(offered)}之间的数字，或者说时间，比如“明天上午”。" if offered
                          else "请说想约的时间，比如“明天上午”“下周三下午”。")
        chosen = _still_free(ctx, offered[said[0] - 1])
        if chosen is None:
            return Clarify(_offer_text(ctx, "抱歉，这个时间刚刚约满了。", _offers(ctx, ctx.today)))
        return Parsed(_value(chosen))
    when = parse_when(text, ctx.today)
    if not when.ok:
        return Parsed(reason=when.reason)
    return _resolve(when.value, ctx)


def _resolve(when: Any, ctx: Ctx) -> Parsed | Clarify:
    """A day and/or a time said by the citizen → a free slot, or why not and the next free times."""
    day = when.date or ctx.today
    last = _last_day(ctx)
    if day > last:
        head = f"只能预约{_schedule(ctx).booking_days}个工作日以内的时间（最晚{date_text(last)}）。"
        return Clarify(_offer_text(ctx, head, _offers(ctx, ctx.today)))
    closed = ctx.calendar.closed_text(day)
    if closed:
        return Clarify(_offer_text(ctx, closed, _offers(ctx, day)))
    if when.part == EVENING:
        return Clarify(_offer_text(ctx, f"晚上不办公，办理时间是{_hours(ctx)}。", _offers(ctx, day)))
    free = _free(ctx, day)
    today = day == ctx.today
    if when.time is not None:
        slot = next(((a, b) for a, b in _schedule(ctx).slots() if a <= when.time < b), None)
        if slot is None:
            head = f"{when.time.hour}:{when.time.minute:02d}不在办理时间内（{_hours(ctx)}）。"
            return Clarify(_offer_text(ctx, head, _offers(ctx, day, when.time)))
        found = next((s for s in free if s.start == slot[0]), None)
        if found:
            return Parsed(_value(found))
        gone = today and slot[0] <= ctx.now.time()
        head = "这个时间已经过了。" if gone else f"{slot_text(day, *slot)}已经约满了。"
        return Clarify(_offer_text(ctx, head, _offers(ctx, day, slot[0])))
    if when.part in (MORNING, AFTERNOON):
        in_part = [s for s in free if (s.start.hour < 12) == (when.part == MORNING)]
        if in_part:
            return Parsed(_value(in_part[0]))
        gone = today and (when.part == MORNING or ctx.now.hour >= 17)
        head = f"今天{when.part}已经过了。" if gone else f"{date_text(day)}{when.part}已经约满了。"
        return Clarify(_offer_text(ctx, head, _offers(ctx, day)))
    if not free:  # a day without a part: which time of it?
        head = "今天已经约不上了。" if today else f"{date_text(day)}已经约满了。"
        return Clarify(_offer_text(ctx, head, _offers(ctx, date.fromordinal(day.toordinal() + 1))))
    mornings = [s for s in free if s.start.hour < 12][:3]
    afternoons = [s for s in free if s.start.hour >= 12][:3]
    offers = (mornings + afternoons)[:6]
    ctx.data["_offer"] = [_value(s) for s in offers]
    return Clarify(f"{date_text(day)}可以约这些时间，请回复数字：\n"
                   f"{numbered([slot_text(s.day, s.start, s.end) for s in offers])}\n也可以说几点，比如“9点半”。")


SLOT = Step("slot", ask=_slot_question, recognise=_recognise_slot, valid=_valid_slot, show=_show_slot,
            label="预约时间", fix=("时间", "日期", "哪天", "几点", "改到", "换到", "改天", "改期", "预约时间"),
            help="请说想约的时间，比如“明天上午”“下周三下午”，或者回复数字选一个时间。")


# --- the booking --------------------------------------------------------------------------------------------------

def _mail_allowed(data: dict) -> bool:
    return data.get("mail") is not False


def _mailed(data: dict) -> bool:
    return _mail_allowed(data) and data.get("delivery") == "邮寄"


STEPS = (
    Step("form", ask="请选择服务方式：", options=_form_options, recognise=_form_answer, after=_form_note,
         label="服务方式", fix=("服务方式", "方式", "办理形式", "代办", "上门", "远程", "网上办", "现场"),
         help="请选一种服务方式，回复前面的数字。"),
    Step("group", ask="上门帮办为行动不便的群众提供。请问办事人是：",
         options=lambda ctx: [Option("老年人", "老年人", ("老人", "老年", "岁")), Option("残疾人", "残疾人", ("残疾",)),
                              Option("孕妇", "孕妇", ("怀孕",)),
                              Option("病人", "病人或行动不便", ("生病", "行动不便", "卧床", "病")),
                              Option(NOT_IN_GROUP, "都不是", ("都不是", "不是", "没有"))],
         validate=_group_check, jumps=("form",), when=lambda d: d.get("form") == HOME, label="上门对象",
         fix=("上门对象", "身份")),
    Step("kind", ask="办事的是个人还是企业（单位）？",
         options=lambda ctx: [Option("个人", "个人", ("自己", "个人办", "私人")),
                              Option("企业", "企业或单位", ("企业", "单位", "公司", "法人"))],
         label="办事人类型", fix=("个人还是企业", "办事人类型", "改成企业", "改成个人", "换成企业", "换成个人")),
    Step("name", ask="请问办事人的姓名？", recognise=lambda text, ctx: parse_name(text),
         when=lambda d: d.get("kind") == "个人", label="姓名", fix=("名字", "姓名")),
    Step("company", ask="请输入单位名称（和营业执照上的一样）：", recognise=lambda text, ctx: parse_company_name(text),
         when=lambda d: d.get("kind") == "企业", label="单位名称", fix=("单位名称", "公司名称", "公司名", "单位名", "企业名称")),
    Step("credit_code", ask="请输入统一社会信用代码（营业执照上的18位代码）：", recognise=lambda text, ctx: parse_uscc(text),
         when=lambda d: d.get("kind") == "企业", label="统一社会信用代码", fix=("信用代码", "统一社会信用代码", "社会信用代码")),
    Step("legal_rep", ask="法定代表人的姓名？", recognise=lambda text, ctx: parse_name(text),
         when=lambda d: d.get("kind") == "企业", label="法定代表人", fix=("法定代表人", "法人代表", "法人")),
    Step("agent", ask="来办事的经办人姓名？法定代表人本人来办请回复“本人”。", recognise=_agent, after=_agent_note,
         when=lambda d: d.get("kind") == "企业", label="经办人", fix=("经办人",)),
    Step("mobile", ask="请留一个手机号，方便工作人员联系您：", recognise=lambda text, ctx: parse_mobile(text),
         label="手机号", fix=("手机号", "手机", "电话", "号码", "联系方式")),
    Step("address", ask="请告诉我上门的详细地址（到门牌号）：", recognise=lambda text, ctx: parse_address(text),
         when=lambda d: d.get("form") == HOME, label="上门地址", fix=("上门地址", "家庭地址", "住址", "地址")),
    SLOT,
    Step("delivery", ask="办好后结果怎么给您？",
         options=lambda ctx: [Option("自取", "自己来取", ("自己取", "来取", "自己拿", "领取", "现场取", "去拿", "去取", "来拿",
                                                     "自取", "自己来")),
                              Option("邮寄", "邮寄", ("寄", "快递"))],
         when=_mail_allowed, label="取件方式", fix=("取件方式", "领取方式", "自取", "邮寄")),
    Step("recipient", ask="收件人姓名？寄给办事人本人请回复“本人”。", recognise=_recipient, when=_mailed,
         label="收件人", fix=("收件人",)),
    Step("recipient_phone", ask="收件人手机号？和刚才的手机号一样请回复“同上”。", recognise=_recipient_phone,
         when=_mailed, label="收件人电话", fix=("收件人电话", "收件人手机", "收件电话")),
    Step("recipient_address", ask=lambda ctx: "邮寄地址（到门牌号）？" + ("和上门地址一样请回复“同上”。"
                                                                     if ctx.data.get("address") else ""),
         recognise=_recipient_address,
         when=_mailed, label="邮寄地址", fix=("邮寄地址", "收件地址", "寄到")),
)


def _start(ctx: Ctx) -> Begin | Reply | None:
    """Book the item named in the message ("我想预约居住证"), or the item being discussed (None without one:
    talk.py asks which, as it does for an item the message names only vaguely)."""
    if ctx.match is not None:
        return _start_named(ctx)
    item = ctx.env.catalogue.get(ctx.state.get("item") or "")
    return _start_for(ctx, item) if item is not None else None


def _start_named(ctx: Ctx) -> Begin | Reply | None:
    """"预约居住证", "居住证可以预约吗": the item the rest of the message names; several → which (numbered)."""
    if command(ctx.text or "") is not None:  # "预约帮办" is the plain command: talk.py's
        return None
    name = _FILLER.sub("", ctx.match.group("item")).strip()
    if len(name) < 2:
        return None
    decision = ctx.env.consult(name).decision
    if decision.kind == "answer" and not decision.tentative:
        return _start_for(ctx, ctx.env.catalogue.get(decision.choices[0].id), named=True)
    if decision.kind == "clarify":
        ids = [h.id for h in decision.choices]
        text = choices_text([h.name for h in decision.choices], head=wording.PICK_TO_BOOK)
        return Reply((text,), changes={"choices": ids, "want": BOOK})
    return None


def _start_for(ctx: Ctx, item: "Item", named: bool = False) -> Begin | Reply:
    """Book this item; not on the hall's list (or no form offered): say so, and offer the guide or a person."""
    entry = ctx.hall.entry(item.id)
    if entry is None or not entry.forms:
        f = facts(item, ctx.hall)
        return Reply((booking_text(f, ctx.hall) + "\n想先了解怎么办，回复“详情”看办事指南。",),
                     changes={"item": item.id})
    data: dict[str, Any] = {"item": item.id}
    if ctx.state.get("group") in HOME_GROUPS:
        data["group"] = ctx.state["group"]
    if item.audience == ("自然人",):
        data["kind"] = "个人"
    elif item.audience and "自然人" not in item.audience:
        data["kind"] = "企业"
    if item.mail_delivery is False:
        data["mail"] = False
    return Begin(data, f"好的，为您预约【{item.title}】的帮办代办（随时回复“取消”可以退出）。",
                 changes={"item": item.id} if named else {})


def _resume(ctx: Ctx) -> bool:
    entry = _entry(ctx)
    return entry is not None and bool(entry.forms)


def _summary(ctx: Ctx) -> str:
    item = ctx.item
    lines = [f"请核对您的预约：\n事项：{shorten(item.title, 40)}", listed(BOOKING, ctx)]
    if ctx.data.get("mail") is False:
        lines.append("取件方式：本人领取（这项规定要本人领取）")
    return "\n".join(lines)


def _materials(ctx: Ctx, shown: int = 5) -> str | None:
    materials = facts(ctx.item, ctx.hall).materials
    if not materials:
        return None
    text = ("请准备好：" if ctx.data.get("form") in (HOME, REMOTE, ONLINE) else "请带上：") + "\n" + numbered([shorten(m, 30) for m in materials[:shown]])
    if len(materials) > shown:
        text += f"\n……共{len(materials)}项。"
    return text


def _finish(ctx: Ctx) -> Reply | Goto:
    data = ctx.data
    slot = _still_free(ctx, data["slot"])
    if slot is None:
        return Goto("slot", "抱歉，这个时间刚刚约满了，请换一个时间。")
    item, entry = ctx.item, _entry(ctx)
    f = facts(item, ctx.hall)
    if ctx.env.reserve_case_number is None:
        return Reply((f"抱歉，现在没法在这里完成预约。请回复“转人工”，或打电话给{f.unit}：{f.phone}。",))
    number = ctx.env.reserve_case_number()
    form = data["form"]
    group = data.get("group") if form == HOME else ctx.state.get("group")
    enterprise = data.get("kind") == "企业"
    applicant = Applicant(
        kind="企业" if enterprise else "个人",
        name=data["company"] if enterprise else data["name"],
        phone=data["mobile"],
        credit_code=data.get("credit_code") if enterprise else None,
        legal_representative=data.get("legal_rep") if enterprise else None,
        agent_name=data.get("agent") if enterprise else None,
        agent_phone=data["mobile"] if enterprise else None,
        address=data.get("address") if form == HOME else None,
        priority_group=group if group in HOME_GROUPS or group in GROUPS else None,
    )
    delivery = (Delivery("邮寄", data["recipient"], data["recipient_phone"], data["recipient_address"])
                if _mailed(data) else Delivery("自取"))
    effect = OpenCase(number=number, item_id=item.id, item_title=item.title,
                      catalogue_version=ctx.env.catalogue.version, unit=entry.unit, form=form, applicant=applicant,
                      slot=slot, delivery=delivery, promised_limit=entry.promised_limit or item.promised_limit,
                      note=("经办人不是法定代表人，需带授权委托书" if enterprise and data.get("agent") != data.get("legal_rep")
                            else None))
    lines = [f"预约好了！编号：{number}", f"事项：{shorten(item.title, 40)}（{form}）",
             f"时间：{slot_text(slot.day, slot.start, slot.end)}"]
    if form == HOME:
        lines.append(f"上门地址：{shorten(data['address'], 60)}")
    elif form in (REMOTE, ONLINE):
        lines.append(f"工作人员会在这个时间打您的手机{data['mobile']}。")
    else:
        lines.append(f"地点：{shorten(f.place, 60)}")
    if f.phone:
        lines.append(f"电话：{f.phone}")
    materials = _materials(ctx)
    if materials:
        lines.append(materials)
        lines.append("回复“材料清单”看全部材料、和我逐项核对，缺什么一次告诉您。")
    if form == PROXY:
        lines.append("代办需要您交齐材料原件，并签委托书。")
    if enterprise and data.get("agent") != data.get("legal_rep"):
        lines.append("经办人请带上授权委托书和本人身份证。")
    lines.append(f"查进度回复“查进度”；改约回复“改约 {number}”；取消回复“取消预约 {number}”。")
    changes: dict[str, Any] = {"item": item.id}
    if group in GROUPS and not ctx.state.get("group"):
        changes["group"] = group
    return Reply(("\n".join(lines),), (effect,), changes)


_FILLER = re.compile(r"^(?:一下|办理|办|个|的)+|[\s，,。.？?！!]+$")
_NAMED = (  # an item named with the wish to book it
    r"^(?:我要|我想|我想要|帮我|请|麻烦)?(?:预约|预订)(?:一下)?(?:帮办|代办|上门服务)?(?P<item>.{2,})$",
    r"^(?P<item>.{2,}?)(?:可以|能|能不能|可不可以|怎么|如何|怎样|要怎么|在哪里?)(?:网上)?(?:预约|申请帮办|申请代办)"
    r"(?:吗|呢|啊)?[?？]?$",
)

BOOKING = Flow(name="booking", title="预约帮办代办", steps=STEPS, triggers=(BOOK,), needs_item=True, start=_start,
               words=_NAMED,
               summary=_summary, finish=_finish, jumps=("slot",), resume=_resume,
               fix_example="手机号填错了”“改到周五")


# --- 改约 and 取消预约 -----------------------------------------------------------------------------------------------

_BOOKING_WORDS = r"(?:我要|我想|请|帮我|麻烦)?"


def _open(ctx: Ctx, with_slot: bool) -> "list[CaseView]":
    return [c for c in ordered(ctx.cases()) if not c.closed and (c.appointment is not None or not with_slot)]


def _case_start(ctx: Ctx, with_slot: bool, nothing: str) -> Begin | Reply:
    """Which of the citizen's cases: the number said, the only one, or a numbered choice."""
    number = find_case_number(ctx.text)
    candidates = _open(ctx, with_slot)
    if number:
        case = own_case(ctx, number)
        if case is None:
            return Reply((NOT_YOURS.format(number=number),))
        if case not in candidates:
            why = "已经没有预约的时间了" if not case.closed else f"已经{case.state}"
            return Reply((f"{case.number}（{shorten(case.item_title, 20)}）{why}，不能这样改。有疑问请回复“转人工”。",))
        return Begin({"case": case.number, "form": case.form or ""}, _case_note(case) if with_slot else None)
    if not candidates:
        return Reply((nothing,))
    if len(candidates) == 1:
        case = candidates[0]
        return Begin({"case": case.number, "form": case.form or ""}, _case_note(case) if with_slot else None)
    return Begin({})


def _case_note(case: "CaseView") -> str:
    line = f"【{shorten(case.item_title, 30)}】{case.number}"
    if case.appointment:
        a = case.appointment
        line += f"，现在约的是{slot_text(a.day, a.start, a.end)}"
    return line + "。"


def _case(ctx: Ctx) -> "CaseView | None":
    return own_case(ctx, ctx.data.get("case") or "")


def _case_form(value: str, ctx: Ctx) -> str | None:
    """The case picked: its form words the time question; for 改约, the time booked now."""
    case = _case(ctx)
    ctx.data["form"] = (case.form or "") if case else ""
    return _case_note(case) if case and case.appointment else None


def _case_step(with_slot: bool, ask: str) -> Step:
    return Step("case", ask=ask, options=lambda ctx: case_options(_open(ctx, with_slot)),
                recognise=lambda text, ctx: pick_case(text, _open(ctx, with_slot)),
                after=_case_form if with_slot else None)


def _case_resume(with_slot: bool):
    def check(ctx: Ctx) -> bool:
        number = ctx.data.get("case")
        return number is None or any(c.number == number for c in _open(ctx, with_slot))
    return check


def _move_summary(ctx: Ctx) -> str:
    case = _case(ctx)
    old = case.appointment
    return (f"把【{shorten(case.item_title, 30)}】（{case.number}）的预约\n"
            f"从：{slot_text(old.day, old.start, old.end)}\n改到：{_show_slot(ctx.data['slot'])}")


def _move_finish(ctx: Ctx) -> Reply | Goto:
    slot = _still_free(ctx, ctx.data["slot"])
    if slot is None:
        return Goto("slot", "抱歉，这个时间刚刚约满了，请换一个时间。")
    case = _case(ctx)
    text = f"改好了！编号：{case.number}\n新的时间：{slot_text(slot.day, slot.start, slot.end)}"
    item = ctx.env.catalogue.get(case.item_id or "")
    if item is not None and case.form not in (HOME, REMOTE, ONLINE):
        text += f"\n地点：{shorten(facts(item, ctx.hall).place, 60)}"
    text += f"\n再改回复“改约 {case.number}”；取消回复“取消预约 {case.number}”。"
    return Reply((text,), (MoveBooking(case.number, slot),))


MOVE = Flow(
    name="reschedule", title="改约", priority=10,
    words=(rf"^{_BOOKING_WORDS}(?:改约|改期|改预约|更改预约|修改预约|预约改期|改预约时间|改时间|换个时间|调整预约)",),
    steps=(_case_step(True, "您要改哪一个预约？请回复数字："), SLOT), start=lambda ctx: _case_start(
        ctx, True, "您现在没有可以改约的预约。要预约请回复“预约”，查办件请回复“查进度”。"),
    summary=_move_summary, finish=_move_finish, jumps=("slot",), resume=_case_resume(True),
    fix_example="改到下周一", confirm_tail="对吗？回复“是”确认改约；要换时间请直接说，比如“改到下周一”。")


def _cancel_summary(ctx: Ctx) -> str:
    case = _case(ctx)
    lines = [f"确定要取消这件预约吗？\n事项：{shorten(case.item_title, 30)}\n编号：{case.number}"]
    if case.appointment:
        a = case.appointment
        lines.append(f"时间：{slot_text(a.day, a.start, a.end)}")
    return "\n".join(lines)


def _cancel_finish(ctx: Ctx) -> Reply:
    case = _case(ctx)
    return Reply((f"已取消预约：{case.number}（{shorten(case.item_title, 30)}）。\n"
                  "已经交给我们的材料会退还给您。以后需要时回复“预约”就可以再约。",),
                 (CancelBooking(case.number, "申请人在微信上取消预约"),))


CANCEL = Flow(
    name="cancel_booking", title="取消预约", priority=10,
    words=(rf"^{_BOOKING_WORDS}(?:取消预约|撤销预约|取消办件|取消申请|撤回申请|取消帮办|取消代办|不约了)",),
    steps=(_case_step(False, "您要取消哪一件？请回复数字："),), start=lambda ctx: _case_start(
        ctx, False, "您现在没有可以取消的预约。查办件请回复“查进度”。"),
    summary=_cancel_summary, finish=_cancel_finish, resume=_case_resume(False),
    confirm_tail="回复“是”确认取消；回复“不”保留预约。",
    on_no=lambda ctx: Reply(("好的，预约保留，没有取消。",)))

FLOWS = (BOOKING, MOVE, CANCEL)
