"""What a turn asks the outside world to do. The gateway carries these out in one database transaction."""
from __future__ import annotations

from dataclasses import dataclass, field

from .views import SlotView


@dataclass(frozen=True)
class Escalate:
    """转人工: put the conversation in the staff queue with its recent history and the item discussed."""

    reason: str  # "asked" (转人工 / menu), "misunderstood" (repeated failures)
    item_id: str | None  # the item being discussed, if any
    catalogue_version: str | None
    last_question: str | None
    history: tuple[tuple[str, str], ...] = ()  # ("in" | "out", text), oldest first
    priority_group: str | None = None  # 老年人 / 残疾人 / 孕妇 / 军人: 绿色通道


@dataclass(frozen=True)
class RelayToStaff:
    """While the conversation waits for or is held by a person: the citizen's message, for the staff console, and
    what the bot answered it, if it did (so that the clerk who takes over knows what the citizen was told)."""

    text: str
    answered: str | None = None


@dataclass(frozen=True)
class EndHandoff:
    """结束人工: the citizen ends the conversation with staff; the bot answers again."""


@dataclass(frozen=True)
class KeepMedia:
    """A photo the citizen sent, to keep against their open case (by WeChat media id)."""

    media_id: str
    note: str | None = None
    case_number: str | None = None  # None: the citizen's newest open case, if any
    material: str | None = None  # the material being discussed in the checklist


@dataclass(frozen=True)
class MaterialMark:
    """One material of the checklist as the citizen answered it."""

    position: int  # 1-based, in the guide's order
    name: str
    status: str  # 有 / 没有 / 不确定
    how_to_get: str | None = None


@dataclass(frozen=True)
class Applicant:
    kind: str  # 个人 / 企业
    name: str  # 姓名, or 单位名称
    phone: str | None = None
    id_number: str | None = None
    credit_code: str | None = None
    legal_representative: str | None = None
    agent_name: str | None = None
    agent_phone: str | None = None
    address: str | None = None
    priority_group: str | None = None


@dataclass(frozen=True)
class Delivery:
    """How the citizen receives the result: 自取, or 邮寄 to a recipient."""

    method: str  # 自取 / 邮寄
    recipient_name: str | None = None
    recipient_phone: str | None = None
    recipient_address: str | None = None


@dataclass(frozen=True)
class OpenCase:
    """A booking (申请帮办代办): a case in 待甄别 with its applicant, slot and checklist. `number` was reserved."""

    number: str
    item_id: str
    item_title: str
    catalogue_version: str
    unit: str | None
    form: str  # 现场帮办 / 代办 / 上门帮办 / 远程帮办 / 帮网上办
    applicant: Applicant
    slot: SlotView | None = None
    delivery: Delivery | None = None
    materials: tuple[MaterialMark, ...] = ()
    note: str | None = None
    promised_limit: str | None = None


@dataclass(frozen=True)
class MoveBooking:
    number: str
    slot: SlotView


@dataclass(frozen=True)
class CancelBooking:
    """The citizen withdraws: the appointment is cancelled and the case 终止 (申请人要求终止)."""

    number: str
    reason: str | None = None


@dataclass(frozen=True)
class SaveChecklist:
    """The checklist's answers against a case (None: the citizen had no case; kept with the conversation)."""

    number: str | None
    item_id: str
    marks: tuple[MaterialMark, ...] = field(default=())


@dataclass(frozen=True)
class Rate:
    number: str
    rating: int  # 1 非常满意 … 5 非常不满意
    comment: str | None = None


@dataclass(frozen=True)
class ForgetUser:
    """The citizen unfollowed: drop the conversation state (records stay, they are government records)."""


Effect = (Escalate | RelayToStaff | EndHandoff | KeepMedia | OpenCase | MoveBooking | CancelBooking | SaveChecklist
          | Rate | ForgetUser)
