"""Case states and the one table of allowed transitions (seeds 000, 003, 004: 甄别 → 受理 → 联动办理 → 办结 / 终止).

    待甄别 ──不予受理──▶ 不予受理 (reason + the unit to go to)
      │ ├───要求补正──▶ 待补正 (一次性告知: the full missing list) ──补正完成──▶ 待甄别
      │ └───受理──────▶ 已受理 ──提交窗口──▶ 办理中 ──办结──▶ 已办结 (result; 自取 or 邮寄 + 快递单号)
      └─(any open state)──终止──▶ 已终止 (reason kind + detail; materials returned)

Each transition names the inputs it requires; `check_inputs` says in Chinese what is missing, for the console.
Evaluation (评价) is not a state: a closed case gets a rating record.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

SCREENING = "待甄别"
REJECTED = "不予受理"
AWAITING_MATERIALS = "待补正"
ACCEPTED = "已受理"
IN_PROGRESS = "办理中"
DONE = "已办结"
TERMINATED = "已终止"

STATES = (SCREENING, AWAITING_MATERIALS, ACCEPTED, IN_PROGRESS, DONE, REJECTED, TERMINATED)
OPEN_STATES = (SCREENING, AWAITING_MATERIALS, ACCEPTED, IN_PROGRESS)
FINAL_STATES = (DONE, REJECTED, TERMINATED)

# Service forms (domain.md) and routing (联动办理)
FORMS = ("现场帮办", "代办", "上门帮办", "远程帮办", "帮网上办", "帮自助办")
ROUTINGS = ("单部门", "一件事一次办", "专班")
DELIVERIES = ("自取", "邮寄")
TERMINATION_KINDS = ("申请人要求终止", "申请人不配合或提供虚假材料", "法律法规变化或不可抗力")


@dataclass(frozen=True)
class Transition:
    action: str  # the key the console posts
    label: str  # the button a clerk sees
    source: tuple[str, ...]
    target: str
    required: tuple[str, ...] = ()  # input names that must be given (non-empty)
    tells_citizen: bool = True  # the citizen gets a message about it


TRANSITIONS: tuple[Transition, ...] = (
    Transition("reject", "不予受理", (SCREENING,), REJECTED, ("reason", "redirect_unit")),
    Transition("request_materials", "一次性告知补正", (SCREENING,), AWAITING_MATERIALS, ("missing",)),
    Transition("materials_supplied", "补正完成，重新甄别", (AWAITING_MATERIALS,), SCREENING, (), False),
    Transition("accept", "受理", (SCREENING,), ACCEPTED, ("routing",)),
    Transition("submit", "已提交窗口办理", (ACCEPTED,), IN_PROGRESS, ()),
    Transition("finish", "办结", (IN_PROGRESS,), DONE, ("result", "delivery")),
    Transition("terminate", "终止", OPEN_STATES, TERMINATED, ("termination_kind", "reason")),
)
BY_ACTION: Mapping[str, Transition] = {t.action: t for t in TRANSITIONS}

INPUT_LABELS = {
    "reason": "原因", "redirect_unit": "应去办理的单位", "missing": "缺少的材料（一次性告知）", "routing": "办理方式",
    "result": "办理结果", "delivery": "结果领取方式", "tracking_no": "快递单号", "termination_kind": "终止原因类别",
    "lead_unit": "牵头部门", "coordinator": "专班负责人",
}


class TransitionError(ValueError):
    """A transition that is not allowed, or lacks an input; the message is for the clerk (Chinese)."""


def allowed(state: str) -> tuple[Transition, ...]:
    """The transitions a case in `state` can take, in the order the console shows them."""
    return tuple(t for t in TRANSITIONS if state in t.source)


def find(state: str, action: str) -> Transition:
    transition = BY_ACTION.get(action)
    if transition is None:
        raise TransitionError(f"没有“{action}”这个操作。")
    if state not in transition.source:
        can = "、".join(t.label for t in allowed(state)) or "无（案件已结束）"
        raise TransitionError(f"案件当前为“{state}”，不能“{transition.label}”。现在可以：{can}。")
    return transition


def check_inputs(transition: Transition, inputs: Mapping[str, object]) -> None:
    """Raise TransitionError naming every missing or invalid input."""
    problems = [INPUT_LABELS.get(name, name) for name in transition.required if _empty(inputs.get(name))]
    routing = inputs.get("routing")
    if transition.action == "accept":
        if routing and routing not in ROUTINGS:
            problems.append(f"办理方式（应为{'/'.join(ROUTINGS)}）")
        if routing == "一件事一次办" and _empty(inputs.get("lead_unit")):
            problems.append(INPUT_LABELS["lead_unit"])
        if routing == "专班" and _empty(inputs.get("coordinator")):
            problems.append(INPUT_LABELS["coordinator"])
    if transition.action == "finish":
        delivery = inputs.get("delivery")
        if delivery and delivery not in DELIVERIES:
            problems.append("结果领取方式（应为自取或邮寄）")
        if delivery == "邮寄" and _empty(inputs.get("tracking_no")):
            problems.append(INPUT_LABELS["tracking_no"])
    if transition.action == "terminate":
        kind = inputs.get("termination_kind")
        if kind and kind not in TERMINATION_KINDS:
            problems.append(f"终止原因类别（应为：{'、'.join(TERMINATION_KINDS)}）")
    if problems:
        raise TransitionError(f"请填写：{'、'.join(problems)}。")


def _empty(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, tuple)):
        return not any(not _empty(v) for v in value)
    return False
