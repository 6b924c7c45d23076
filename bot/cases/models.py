"""The case-database tables.

Personal data (names, phones, 身份证号, 统一社会信用代码, addresses) lives only in `applicants` (and the mailing
details of a case); `repr()` never shows it, lists and logs use bot/cases/masking.py. Times are timezone-aware UTC
(`UTCDateTime`); dates that mean a day in the hall (deadlines, booking days) are plain `Date`s in hall time.
Government records are never deleted: a citizen who unfollows keeps their cases.
"""
from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, Time
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, UTCDateTime

CLERK, LIAISON, ADMIN = "帮办代办员", "联络员", "管理员"
ROLES = (CLERK, LIAISON, ADMIN)
MAX_COACHING = 100  # characters of a case's 事前辅导事项
PERSON, ENTERPRISE = "个人", "企业"


class Unit(Base):
    """A unit stationed in the hall (区公安分局 …), as named in the hall's 事项清单 and units.csv."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    liaison_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", use_alter=True, name="fk_units_liaison"))

    def __repr__(self) -> str:
        return f"<Unit {self.id} {self.name}>"


class Staff(Base):
    """A person who logs in to the console. `backup_id`: the colleague who covers for them (AB岗)."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    role: Mapped[str] = mapped_column(String(16))  # one of ROLES
    password_hash: Mapped[str] = mapped_column(String(256))
    phone: Mapped[str | None] = mapped_column(String(40))
    title: Mapped[str | None] = mapped_column(String(50))  # 职务 (联络员登记表)
    backup_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    unit: Mapped[Unit] = relationship(foreign_keys=[unit_id], lazy="joined")

    def __repr__(self) -> str:
        return f"<Staff {self.id} {self.username} {self.role}>"


class Applicant(Base):
    """A citizen or an enterprise, by WeChat openid when they came through the public account."""

    __tablename__ = "applicants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    openid: Mapped[str | None] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(8), default=PERSON)  # PERSON or ENTERPRISE
    name: Mapped[str] = mapped_column(String(100))  # 姓名, or 单位名称 for an enterprise
    phone: Mapped[str | None] = mapped_column(String(20))
    id_number: Mapped[str | None] = mapped_column(String(18))  # 身份证号
    credit_code: Mapped[str | None] = mapped_column(String(18))  # 统一社会信用代码
    legal_representative: Mapped[str | None] = mapped_column(String(50))  # 法定代表人
    agent_name: Mapped[str | None] = mapped_column(String(50))  # 经办人
    agent_phone: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(200))
    priority_group: Mapped[str | None] = mapped_column(String(16))  # 老年人 / 残疾人 / 孕妇 / 军人 (绿色通道)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:  # no personal data
        return f"<Applicant {self.id} {self.kind}>"


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # BB20261122-0007
    applicant_id: Mapped[int] = mapped_column(ForeignKey("applicants.id"))
    openid: Mapped[str | None] = mapped_column(String(64), index=True)  # who may see it by chat
    item_id: Mapped[str | None] = mapped_column(String(128))
    item_title: Mapped[str] = mapped_column(String(200))
    catalogue_version: Mapped[str | None] = mapped_column(String(128))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)  # the handling unit
    form: Mapped[str | None] = mapped_column(String(16))  # states.FORMS
    channel: Mapped[str] = mapped_column(String(16), default="微信")  # 微信 / 电话 / 窗口
    routing: Mapped[str | None] = mapped_column(String(16))  # states.ROUTINGS
    lead_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))  # 一件事一次办: 牵头部门
    coordinator: Mapped[str | None] = mapped_column(String(50))  # 专班 coordinator
    involved_units: Mapped[str | None] = mapped_column(String(300))  # 涉及部门
    state: Mapped[str] = mapped_column(String(8), index=True)  # states.STATES
    assigned_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    promised_days: Mapped[int | None] = mapped_column(Integer)  # the item's 承诺时限 in working days
    due_date: Mapped[date | None] = mapped_column(Date, index=True)  # the deadline of the current step
    due_step: Mapped[str | None] = mapped_column(String(16))  # what the deadline is for (甄别 / 提交窗口 / 办结)
    delivery: Mapped[str | None] = mapped_column(String(8))  # 自取 / 邮寄
    recipient_name: Mapped[str | None] = mapped_column(String(50))
    recipient_phone: Mapped[str | None] = mapped_column(String(20))
    recipient_address: Mapped[str | None] = mapped_column(String(200))
    tracking_no: Mapped[str | None] = mapped_column(String(40))  # 快递单号
    missing_materials: Mapped[list | None] = mapped_column(JSON)  # 一次性告知: [{"name", "how"}]
    result: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)  # 不予受理 / 终止: why
    redirect_unit: Mapped[str | None] = mapped_column(String(100))  # 不予受理: where to go instead
    termination_kind: Mapped[str | None] = mapped_column(String(32))
    materials_returned: Mapped[bool | None] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)  # 备注 / the citizen's request in their words
    # 事前辅导事项 (000/002 附件): what the applicant is coached on before applying (专家评审, 现场勘察 …)
    coaching: Mapped[str | None] = mapped_column(String(MAX_COACHING), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)  # 办结 / 不予受理 / 终止
    citizen_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # 反馈时间
    version: Mapped[int] = mapped_column(Integer, default=1)  # bumped by every change (optimistic locking)

    applicant: Mapped[Applicant] = relationship(lazy="joined")
    unit: Mapped[Unit | None] = relationship(foreign_keys=[unit_id], lazy="joined")
    assigned_staff: Mapped[Staff | None] = relationship(foreign_keys=[assigned_staff_id], lazy="joined")

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Case {self.number} {self.state}>"


class Appointment(Base):
    """A booked slot at the hall (or for a home visit). Capacity is counted over status 'booked'."""

    __tablename__ = "appointments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    start: Mapped[time] = mapped_column(Time)
    end: Mapped[time] = mapped_column(Time)
    place: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12), default="booked")  # booked / cancelled / attended / missed
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_appointments_slot", "day", "start", "status"),)


class MaterialRecord(Base):
    """One material of a case's checklist: what the citizen has, lacks, or is unsure of, and how to get it."""

    __tablename__ = "material_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(8))  # 有 / 没有 / 不确定 / 已收 / 已退
    how_to_get: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Handover(Base):
    """材料交接 (seed 003 附件6): a material changing hands, either direction."""

    __tablename__ = "handovers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    material: Mapped[str] = mapped_column(String(200))
    copies: Mapped[int] = mapped_column(Integer, default=1)
    direction: Mapped[str] = mapped_column(String(8))  # 收取 (citizen → staff) / 退还 (staff → citizen) / 移送 (to a unit)
    giver: Mapped[str] = mapped_column(String(50))  # 移交人
    receiver: Mapped[str] = mapped_column(String(50))  # 接收人
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class Message(Base):
    """The conversation both ways, as staff see it: what the citizen wrote, what the bot and staff answered."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    openid: Mapped[str] = mapped_column(String(64))
    escalation_id: Mapped[int | None] = mapped_column(ForeignKey("escalations.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    direction: Mapped[str] = mapped_column(String(4))  # in (citizen) / out (bot or staff)
    author: Mapped[str] = mapped_column(String(16))  # citizen / bot / staff
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    text: Mapped[str] = mapped_column(Text)
    outbox_id: Mapped[int | None] = mapped_column(Integer)  # a staff reply: its outbox message
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_messages_openid_at", "openid", "at"),)


RATINGS = {1: "非常满意", 2: "满意", 3: "基本满意", 4: "不满意", 5: "非常不满意"}
SATISFIED = (1, 2, 3)


class Evaluation(Base):
    __tablename__ = "evaluations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    rating: Mapped[int] = mapped_column(Integer)  # RATINGS key: 1 非常满意 … 5 非常不满意
    comment: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(8))  # 微信 / 电话回访 / 现场评价
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def label(self) -> str:
        return RATINGS[self.rating]


class FollowUp(Base):
    """回访: a bad rating (不满意 or worse) gets a call from a named person, closed with the recorded answer."""

    __tablename__ = "follow_ups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    evaluation_id: Mapped[int | None] = mapped_column(ForeignKey("evaluations.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    assigned_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    due_date: Mapped[date | None] = mapped_column(Date)
    method: Mapped[str | None] = mapped_column(String(16))  # 电话回访 / 现场
    answer: Mapped[str | None] = mapped_column(Text)  # what the citizen said, what was done
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """Every change to a case or its records: who, when, what, why. Never updated, never deleted."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    actor: Mapped[str] = mapped_column(String(40))  # "staff:3", "citizen", "system"
    action: Mapped[str] = mapped_column(String(40))  # "open", a transition action, "handover", "assign" …
    from_state: Mapped[str | None] = mapped_column(String(8))
    to_state: Mapped[str | None] = mapped_column(String(8))
    reason: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict | None] = mapped_column(JSON)  # the inputs given (masked where personal)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class CaseCounter(Base):
    """The last case number given on each day (numbers.py)."""

    __tablename__ = "case_counters"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)  # YYYYMMDD
    last: Mapped[int] = mapped_column(Integer)


__all__ = ["Unit", "Staff", "Applicant", "Case", "Appointment", "MaterialRecord", "Handover", "Message",
           "Evaluation", "FollowUp", "AuditEntry", "CaseCounter", "ROLES", "CLERK", "LIAISON", "ADMIN", "PERSON",
           "ENTERPRISE", "RATINGS", "SATISFIED"]
