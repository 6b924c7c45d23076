"""What the citizen is told on WeChat when staff move their case: one short message per transition.

    不予受理  why, and which unit to go to instead (with its phone when the hall publishes one)
    待补正    一次性告知: every missing material, numbered, each with how to get it
    已受理    who handles it, when it goes to the window, the promised time limit
    办理中    handed to the window, expected finish day
    已办结    the result; 自取 where and when, or 邮寄 with the 快递单号; then the request to rate (1–5)
    已终止    why, and whether the materials were returned

Pure functions of the case (after the transition), the transition's inputs and the hall's published data: no
database, no clock. The staff console queues the text through the outbox in the transition's own transaction.
"""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, Mapping

from . import states as s

if TYPE_CHECKING:
    from knowledge.model import HallData

    from .models import Case

RATING_REQUEST = "请回复数字评价：1非常满意 2满意 3基本满意 4不满意 5非常不满意"
_WEEKDAYS = "一二三四五六日"


def day_text(d: date) -> str:
    """10月9日（周五）"""
    return f"{d.month}月{d.day}日（周{_WEEKDAYS[d.weekday()]}）"


def _text(inputs: Mapping[str, Any], name: str) -> str:
    return str(inputs.get(name) or "").strip()


def _about(case: "Case") -> str:
    return f"您的帮办代办申请（编号{case.number}，{case.item_title}）"


def _unit_name(case: "Case") -> str:
    return case.unit.name if case.unit is not None else "窗口"


def pickup_place(case: "Case", hall: "HallData | None") -> str:
    """Where and when a result is collected: the unit's window (or the hall) and its hours."""
    if hall is None:
        return f"{_unit_name(case)}窗口"
    contact = hall.hall.unit(case.unit.name) if case.unit is not None else None
    where = (contact.address if contact and contact.address else hall.hall.address)
    hours = (contact.hours if contact and contact.hours else hall.hall.hours)
    unit = f"{case.unit.name}窗口（{where}）" if case.unit is not None else where
    return f"{unit}，时间：{hours}"


def missing_lines(missing: list[Mapping[str, Any]] | None) -> list[str]:
    """The 一次性告知 list: "1. 户口本——怎么办：到户籍所在地派出所开具"."""
    lines = []
    for number, material in enumerate(missing or [], 1):
        name = str(material.get("name") or "").strip()
        how = str(material.get("how") or "").strip()
        lines.append(f"{number}. {name}" + (f"——怎么办：{how}" if how else ""))
    return lines


def citizen_notice(case: "Case", action: str, inputs: Mapping[str, Any], hall: "HallData | None" = None) -> str | None:
    """The message for the citizen after `action` moved `case`, or None when the transition tells them nothing."""
    transition = s.BY_ACTION.get(action)
    if transition is None or not transition.tells_citizen:
        return None
    about = _about(case)
    if action == "reject":
        where = case.redirect_unit or _text(inputs, "redirect_unit")
        contact = hall.hall.unit(where) if hall is not None and where else None
        phone = f"（电话{contact.booking_phone}）" if contact is not None and contact.booking_phone else ""
        return (f"【不予受理】{about}不予受理。\n原因：{case.reason or _text(inputs, 'reason')}\n"
                f"请到{where}{phone}办理。\n有疑问请回复“转人工”。")
    if action == "request_materials":
        lines = missing_lines(case.missing_materials)
        return (f"【需补正材料】{about}还缺下面{len(lines)}项材料，请一次备齐：\n" + "\n".join(lines) +
                "\n备齐后请带到窗口，或回复“转人工”联系我们。回复“查进度”可随时查看。")
    if action == "accept":
        text = f"【已受理】{about}已受理，由{_unit_name(case)}办理。"
        if case.due_date is not None:
            text += f"\n我们会在{day_text(case.due_date)}前把材料提交窗口。"
        if case.promised_days == 0:
            text += "\n这是即办件，提交当天办结。"
        elif case.promised_days:
            text += f"\n提交后{case.promised_days}个工作日内办结。"
        return text + "\n回复“查进度”可随时查看。"
    if action == "submit":
        text = f"【办理中】{about}已提交{_unit_name(case)}窗口办理。"
        if case.due_date is not None:
            text += f"\n预计{day_text(case.due_date)}前办结。"
        return text + "\n办好后会通知您。"
    if action == "finish":
        text = f"【已办结】{about}已办结。\n结果：{case.result or _text(inputs, 'result')}\n"
        if case.delivery == "邮寄":
            text += f"已为您邮寄，快递单号：{case.tracking_no}。\n"
        else:
            place = _text(inputs, "pickup") or pickup_place(case, hall)
            text += f"请带身份证件到{place}领取。\n"
        return text + RATING_REQUEST
    if action == "terminate":
        kind = case.termination_kind or _text(inputs, "termination_kind")
        reason = case.reason or _text(inputs, "reason")
        returned = ("您交来的材料已退还给您。" if case.materials_returned
                    else "如有材料在我们这里，请联系窗口取回。")
        return f"【已终止】{about}已终止帮办代办。\n原因：{kind}。{reason}\n{returned}"
    return None


__all__ = ["citizen_notice", "missing_lines", "pickup_place", "day_text", "RATING_REQUEST"]
