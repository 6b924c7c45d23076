"""The staff side of 转人工: the queue, taking, releasing, passing on and closing a conversation, staff replies
within WeChat's sending window, and handing conversations nobody took back to the bot.

Every function works in the caller's transaction (`with sessions.begin() as session:`; the caller commits) and,
where the conversation changes hands, changes the citizen's conversation state under their lock
(bot/conversations.change_state → dialogs.handoff.set_human) as its LAST step, after everything for the database
has been flushed: an error before it leaves the state alone and the caller's rollback leaves the database alone.

    waiting / left ──take──▶ taken (staff_id, taken_at) ──close──▶ closed          the citizen is told each step
          ▲                    │ └──transfer──▶ taken by a colleague (taken_at = the transfer)
          └──────release───────┘   (taken_at = the release: the wait before expiry counts from it; nothing is sent)
    waiting ──nobody took it within the hall's handoff_wait_minutes──▶ expired (expire_waiting, run by the worker)

Taking is one conditional UPDATE (… WHERE status IN ('waiting', 'left')) whose row count says who won, so two
clerks clicking 接手 at the same moment never both hold the conversation (on PostgreSQL the second UPDATE waits for
the first transaction and then finds the status changed).

What the citizen is told goes through the outbox (bot/outbox.py) and is also kept as a `Message` (author "bot"),
so the console shows what was said. Staff are named to citizens by surname only ("李工作人员"), never by full name.
Every step is written to the audit table (action "handoff_…", detail {"escalation": id, "from": …, "to": …}).

Which unit an escalation belongs to: the unit the hall's 事项清单 lists for its item; none while the item is not
known (or not on the hall's list). `visible_to` decides who sees it: 管理员 everything, other staff their unit's
and those without a unit, and whatever they hold themselves.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Callable, Iterable

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from dialogs.handoff import set_human

from .cases.models import ADMIN, AuditEntry, Message, Staff
from .clock import HALL_TIME_ZONE
from .conversations import change_state
from .db import utcnow
from .escalations import CLOSED, EXPIRED, LEFT, QUEUED, TAKEN, WAITING, Escalation
from .outbox import MAX_TEXT_BYTES, OutboxMessage, Quota, enqueue_text, mask_openid, pending_for, quota, split_text

if TYPE_CHECKING:
    from knowledge.model import Catalogue, HallData
    from sqlalchemy.orm import sessionmaker

    from .store import ConversationStore

log = logging.getLogger(__name__)

OUTBOX_REASON = "staff"  # staff replies
NOTICE_REASON = "handoff"  # what the citizen is told when the conversation changes hands

TAKEN_TEXT = "工作人员（{who}）已接入，请直接说您的问题。"
TRANSFERRED_TEXT = "已为您转给{who}，请直接说您的问题。"
CLOSED_TEXT = "人工服务已结束，有问题可以继续问我。"
EXPIRED_TEXT = "暂时没有工作人员接手，您可以继续问我；也可以拨打{phone}，或稍后再回复“转人工”。"
REASONS = {"asked": "群众要求转人工", "misunderstood": "多次没听懂，自动转人工"}
STATUS_LABELS = {WAITING: "等待接手", LEFT: "下班时间留言", TAKEN: "处理中", CLOSED: "已结束", EXPIRED: "超时未接"}

COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "长孙", "宇文",
                     "司徒", "夏侯", "轩辕", "端木", "独孤", "南宫", "西门", "百里", "呼延", "澹台", "申屠", "万俟")


class HandoffError(ValueError):
    """A queue operation that cannot be done; the message says why, for the clerk (Chinese)."""


class AlreadyTaken(HandoffError):
    """Someone else took (or ended) the conversation first."""


# ---- who and which unit ------------------------------------------------------------------------------------------
def surname(name: str | None) -> str:
    """The surname of a Chinese name ("欧阳修" -> "欧阳", "李晓燕" -> "李"); "" when the name is not Chinese."""
    name = (name or "").strip()
    if not name or not ("\u4e00" <= name[0] <= "\u9fff"):
        return ""
    return next((s for s in COMPOUND_SURNAMES if name.startswith(s) and len(name) > len(s)), name[0])


def staff_title(person: Staff | None) -> str:
    """How a citizen (or a colleague's list) names a clerk: "李工作人员", never the full name."""
    return f"{surname(person.name if person else None)}工作人员"


def escalation_unit(escalation: Escalation, hall: "HallData | None") -> str | None:
    """The unit the hall's 事项清单 lists for the escalation's item; None while no listed item is known."""
    if hall is None or not escalation.item_id:
        return None
    entry = hall.entry(escalation.item_id)
    return entry.unit if entry else None


def visible_to(person: Staff, escalation: Escalation, hall: "HallData | None") -> bool:
    """管理员: every escalation; others: their unit's, those without a unit, and those they hold."""
    if person.role == ADMIN or escalation.staff_id == person.id:
        return True
    unit = escalation_unit(escalation, hall)
    return unit is None or (person.unit is not None and person.unit.name == unit)


def waiting_since(escalation: Escalation) -> datetime:
    """When the escalation last joined the queue: made, or released (taken_at is the release then)."""
    if escalation.status in QUEUED and escalation.taken_at is not None and escalation.taken_at > escalation.created_at:
        return escalation.taken_at
    return escalation.created_at


def hall_time(moment: datetime | None) -> str:
    """"11月24日 10:32" in hall time; "" for None."""
    if moment is None:
        return ""
    local = moment.astimezone(HALL_TIME_ZONE)
    return f"{local.month}月{local.day}日 {local.hour:02d}:{local.minute:02d}"


# ---- the queue ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class QueueEntry:
    """One row of the queue as staff see it: no name, no phone; the openid only masked."""

    id: int
    status: str
    status_label: str
    priority: bool  # 绿色通道
    priority_group: str | None
    waiting_minutes: int
    created_at: datetime
    item_id: str | None
    item_title: str
    unit: str | None
    reason: str
    last_question: str | None
    who: str  # mask_openid
    staff_id: int | None
    holder: str | None  # "李工作人员" while taken
    case_id: int | None


def entry_of(escalation: Escalation, now: datetime, catalogue: "Catalogue | None" = None,
             hall: "HallData | None" = None, holder: Staff | None = None) -> QueueEntry:
    item = catalogue.get(escalation.item_id) if catalogue is not None and escalation.item_id else None
    title = item.title if item else (escalation.item_id or "（还不知道是哪个事项）")
    since = escalation.taken_at if escalation.status == TAKEN and escalation.taken_at else waiting_since(escalation)
    return QueueEntry(
        id=escalation.id, status=escalation.status, status_label=STATUS_LABELS.get(escalation.status,
                                                                                   escalation.status),
        priority=bool(escalation.priority), priority_group=escalation.priority_group,
        waiting_minutes=max(0, int((now - since).total_seconds() // 60)), created_at=escalation.created_at,
        item_id=escalation.item_id, item_title=title, unit=escalation_unit(escalation, hall),
        reason=REASONS.get(escalation.reason, escalation.reason), last_question=escalation.last_question,
        who=mask_openid(escalation.openid), staff_id=escalation.staff_id,
        holder=staff_title(holder) if holder is not None else None, case_id=escalation.case_id)


def queue(session: Session, now: datetime, *, catalogue: "Catalogue | None" = None, hall: "HallData | None" = None,
          viewer: Staff | None = None) -> list[QueueEntry]:
    """Escalations waiting for a person (waiting, and after-hours messages "left"): 绿色通道 first, then first come
    first served. With `viewer`, only those `visible_to` them; with `catalogue` / `hall`, item titles and units."""
    rows = session.scalars(
        select(Escalation).where(Escalation.status.in_(QUEUED))
        .order_by(Escalation.priority.desc(), Escalation.created_at, Escalation.id))
    return [entry_of(row, now, catalogue, hall) for row in rows
            if viewer is None or visible_to(viewer, row, hall)]


def held_by(session: Session, person: Staff, now: datetime, *, catalogue: "Catalogue | None" = None,
            hall: "HallData | None" = None) -> list[QueueEntry]:
    """The conversations `person` holds, longest held first."""
    rows = session.scalars(
        select(Escalation).where(Escalation.status == TAKEN, Escalation.staff_id == person.id)
        .order_by(Escalation.taken_at, Escalation.id))
    return [entry_of(row, now, catalogue, hall, person) for row in rows]


def colleagues(session: Session, person: Staff) -> list[tuple[Staff, bool]]:
    """Active staff a conversation can be passed to, with "is my AB岗 backup": the backup first, then the same
    unit's staff, then everyone else by unit."""
    others = session.scalars(select(Staff).where(Staff.active.is_(True), Staff.id != person.id))
    ordered = sorted(others, key=lambda s: (s.id != person.backup_id, s.unit_id != person.unit_id,
                                            s.unit.name if s.unit else "", s.name, s.id))
    return [(s, s.id == person.backup_id) for s in ordered]


# ---- changing hands ----------------------------------------------------------------------------------------------
def take(session: Session, store: "ConversationStore", escalation_id: int, staff: Staff,
         now: datetime) -> Escalation:
    """`staff` takes a waiting (or after-hours) escalation; the citizen is told who answers now.

    Raises AlreadyTaken when another clerk was first (or the citizen ended it, or it expired). Taking one's own
    again is not an error: it returns the escalation and tells nobody anything twice.
    """
    before = None
    for status in QUEUED:  # one conditional UPDATE per queued status, so that the audit knows which it was
        if session.execute(
                update(Escalation).where(Escalation.id == escalation_id, Escalation.status == status)
                .values(status=TAKEN, staff_id=staff.id, taken_at=now)
                .execution_options(synchronize_session=False)).rowcount == 1:
            before = status
            break
    escalation = _load(session, escalation_id)
    if before is None:
        if escalation.status == TAKEN and escalation.staff_id == staff.id:
            return escalation
        raise AlreadyTaken(_why_not_open(session, escalation))
    _tell(session, escalation, TAKEN_TEXT.format(who=staff_title(staff)), staff, now)
    _audit(session, escalation, staff, "handoff_take", before, TAKEN, now)
    session.flush()
    _set_state(store, escalation, "taken", now)
    log.info("handoff: escalation %s taken by staff %s", escalation.id, staff.id)
    return escalation


def release(session: Session, store: "ConversationStore", escalation_id: int, staff: Staff,
            now: datetime) -> Escalation:
    """Give a held conversation back to the queue (its place by arrival kept). The citizen is sent nothing — the
    bot answers them again while they wait — so that WeChat's allowance is kept for the person who takes it."""
    escalation = _held(session, escalation_id, staff, "释放")
    holder = escalation.staff_id
    changed = session.execute(
        update(Escalation).where(Escalation.id == escalation_id, Escalation.status == TAKEN,
                                 Escalation.staff_id == holder)
        .values(status=WAITING, staff_id=None, taken_at=now)
        .execution_options(synchronize_session=False)).rowcount == 1
    escalation = _load(session, escalation_id)
    if not changed:
        raise AlreadyTaken(_why_not_open(session, escalation))
    _audit(session, escalation, staff, "handoff_release", TAKEN, WAITING, now, {"holder": holder})
    session.flush()
    _set_state(store, escalation, "waiting", now)
    return escalation


def transfer(session: Session, store: "ConversationStore", escalation_id: int, staff: Staff, to_staff: Staff,
             now: datetime) -> Escalation:
    """Pass a held conversation to a colleague (AB岗 or another unit), who holds it from now on; the citizen is
    told who answers now."""
    escalation = _held(session, escalation_id, staff, "转给同事")
    if to_staff is None or not to_staff.active:
        raise HandoffError("这位同事的账号已停用，请选择其他同事。")
    if to_staff.id == escalation.staff_id:
        raise HandoffError("这个对话已经由这位同事处理。")
    holder = escalation.staff_id
    changed = session.execute(
        update(Escalation).where(Escalation.id == escalation_id, Escalation.status == TAKEN,
                                 Escalation.staff_id == holder)
        .values(staff_id=to_staff.id, taken_at=now)
        .execution_options(synchronize_session=False)).rowcount == 1
    escalation = _load(session, escalation_id)
    if not changed:
        raise AlreadyTaken(_why_not_open(session, escalation))
    _tell(session, escalation, TRANSFERRED_TEXT.format(who=staff_title(to_staff)), staff, now)
    _audit(session, escalation, staff, "handoff_transfer", TAKEN, TAKEN, now,
           {"holder": holder, "to_staff": to_staff.id, "backup": to_staff.id == staff.backup_id})
    session.flush()
    _set_state(store, escalation, "taken", now)  # the same status; refreshes the state's time to live
    return escalation


def close(session: Session, store: "ConversationStore", escalation_id: int, staff: Staff,
          now: datetime) -> Escalation:
    """Staff end the conversation: closed, the bot answers the citizen again, who is told so."""
    escalation = _held(session, escalation_id, staff, "结束")
    holder = escalation.staff_id
    changed = session.execute(
        update(Escalation).where(Escalation.id == escalation_id, Escalation.status == TAKEN,
                                 Escalation.staff_id == holder)
        .values(status=CLOSED, closed_at=now)
        .execution_options(synchronize_session=False)).rowcount == 1
    escalation = _load(session, escalation_id)
    if not changed:
        raise AlreadyTaken(_why_not_open(session, escalation))
    _tell(session, escalation, CLOSED_TEXT, staff, now)
    _audit(session, escalation, staff, "handoff_close", TAKEN, CLOSED, now, {"holder": holder})
    session.flush()
    _set_state(store, escalation, None, now)
    return escalation


def expire_waiting(session: Session, store: "ConversationStore", now: datetime, wait_minutes: int,
                   phone: str) -> list[int]:
    """Waiting escalations nobody took within `wait_minutes` (since they joined the queue) go back to the bot:
    expired, the conversation state's handoff cleared, the citizen told they may call `phone` or ask again.
    After-hours messages ("left") wait for the next working day and are not expired. Returns the ids expired."""
    cutoff = now - timedelta(minutes=wait_minutes)
    candidates = session.scalars(
        select(Escalation.id).where(Escalation.status == WAITING, Escalation.created_at <= cutoff,
                                    or_(Escalation.taken_at.is_(None), Escalation.taken_at <= cutoff))
        .order_by(Escalation.id)).all()
    expired: list[int] = []
    for escalation_id in candidates:
        changed = session.execute(
            update(Escalation).where(Escalation.id == escalation_id, Escalation.status == WAITING)
            .values(status=EXPIRED, closed_at=now)
            .execution_options(synchronize_session=False)).rowcount == 1
        if not changed:  # taken meanwhile
            continue
        escalation = _load(session, escalation_id)
        _tell(session, escalation, EXPIRED_TEXT.format(phone=phone), None, now)
        _audit(session, escalation, None, "handoff_expire", WAITING, EXPIRED, now, {"wait_minutes": wait_minutes})
        expired.append(escalation_id)
    session.flush()
    for escalation_id in expired:
        _set_state(store, _load(session, escalation_id), None, now)
    if expired:
        log.info("handoff: %s escalation(s) expired after %s minutes: %s", len(expired), wait_minutes, expired)
    return expired


# ---- staff replies -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Allowance:
    """What may still be sent to a citizen now: WeChat's quota less the messages already waiting in the outbox."""

    remaining: int
    until: datetime | None  # the last of them must go before this
    open_until: datetime | None  # when the citizen's window closes (None: closed)
    pending: int  # messages to the citizen not yet sent (they use the allowance first)
    text: str  # for the console: "还可发送3条，至11月24日 10:32"


def allowance(session: Session, openid: str, now: datetime) -> Allowance:
    allowed: Quota = quota(session, openid, now)
    pending = len(pending_for(session, openid))
    remaining = max(0, allowed.remaining - pending)
    waiting = f"（另有{pending}条正在排队发送）" if pending else ""
    if remaining:
        text = f"还可发送{remaining}条，至{hall_time(allowed.until)}{waiting}"
    elif allowed.open_until is not None:
        text = (f"暂时不能再发送：微信只允许群众发消息后48小时内发5条{waiting}。群众再发一条消息后就可以继续"
                f"（对话窗口至{hall_time(allowed.open_until)}）。")
    else:
        text = ("不能发送：群众48小时内没有发过消息，微信不允许公众号主动发消息。"
                "请等群众再发消息，或打电话联系。")
    return Allowance(remaining, allowed.until if remaining else None, allowed.open_until, pending, text)


@dataclass(frozen=True)
class StaffReply:
    message: Message  # the conversation record
    outbox: list[OutboxMessage]  # what goes to WeChat: one message, or several parts of a long text


def staff_reply(session: Session, escalation: Escalation, staff: Staff, text: str, now: datetime) -> StaffReply:
    """Send `text` from `staff` to the citizen through the outbox and keep it in the conversation.

    Refused (HandoffError, nothing written) when `staff` does not hold the conversation, the text is empty, or
    WeChat's window allows too few messages now (the error says until when / what to do). A text over 2048 UTF-8
    bytes goes as several messages, each counted.
    """
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise HandoffError("请先输入要回复的内容。")
    if escalation.status != TAKEN:
        raise HandoffError("请先接手这个对话再回复。" if escalation.status in QUEUED
                           else "这个人工对话已经结束，不能再回复。")
    if escalation.staff_id != staff.id:
        raise HandoffError("这个对话现在由其他同事处理，只有接手的人可以回复。")
    parts = split_text(text)
    can = allowance(session, escalation.openid, now)
    if can.remaining == 0:
        raise HandoffError(f"没有发送。{can.text}")
    if len(parts) > can.remaining:
        raise HandoffError(f"没有发送：这段回复超过{MAX_TEXT_BYTES}字节，要分{len(parts)}条发，但现在只能再发"
                           f"{can.remaining}条。请缩短后再发。")
    outbox = enqueue_text(session, escalation.openid, text, OUTBOX_REASON)
    message = Message(openid=escalation.openid, escalation_id=escalation.id, case_id=escalation.case_id,
                      direction="out", author="staff", staff_id=staff.id, text=text, outbox_id=outbox[0].id, at=now)
    session.add(message)
    session.flush()
    return StaffReply(message, outbox)


def one_time_notice(missing: Iterable[str], place: str | None = None) -> str:
    """一次性告知: every missing material in one numbered message."""
    names = [name.strip() for name in missing if name and name.strip()]
    if not names:
        return ""
    lines = "\n".join(f"{n}. {name}" for n, name in enumerate(names, 1))
    return f"您还缺：\n{lines}\n{notice_tail(place)}"


def notice_tail(place: str | None = None) -> str:
    where = f"到{place}" if place else ""
    return f"请备齐后{where}办理，一次就能办好；哪一项不知道怎么开具，可以直接问我。"


# ---- the conversation ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Line:
    """One message of the conversation as staff read it."""

    direction: str  # in / out / mark (a note of what happened, e.g. 转人工)
    author: str  # citizen / bot / staff / system
    text: str
    at: datetime | None  # None: from the conversation before 转人工 (kept without times)
    staff_id: int | None = None


def conversation(session: Session, escalation: Escalation) -> list[Line]:
    """The recent conversation the bot handed over, the 转人工 itself, then every message since, both ways."""
    lines: list[Line] = []
    for entry in escalation.history or []:
        if isinstance(entry, (list, tuple)) and len(entry) == 2 and isinstance(entry[1], str):
            direction = "in" if entry[0] == "in" else "out"
            lines.append(Line(direction, "citizen" if direction == "in" else "bot", entry[1], None))
    lines.append(Line("mark", "system", f"转人工（{REASONS.get(escalation.reason, escalation.reason)}）",
                      escalation.created_at))
    rows = session.scalars(select(Message).where(Message.escalation_id == escalation.id)
                           .order_by(Message.at, Message.id))
    lines += [Line(row.direction, row.author, row.text, row.at, row.staff_id) for row in rows]
    return lines


# ---- the worker's timer ------------------------------------------------------------------------------------------
class ExpiryTimer:
    """A chore for the worker (bot/chores.py): `timer()` expires what waited longer than the hall's
    [schedule] handoff_wait_minutes and tells those citizens the hall's phone; at most once per `every`."""

    __name__ = "expire_handoffs"  # the worker names a failing chore by it

    def __init__(self, sessions: "sessionmaker", store: "ConversationStore", hall: "HallData",
                 every: timedelta = timedelta(0), clock: Callable[[], datetime] = utcnow) -> None:
        self.sessions, self.store, self.hall, self.every, self.clock = sessions, store, hall, every, clock
        self.last: datetime | None = None

    def __call__(self, now: datetime | None = None) -> list[int]:
        now = now or self.clock()
        if self.last is not None and now - self.last < self.every:
            return []
        self.last = now
        with self.sessions.begin() as session:
            return expire_waiting(session, self.store, now, self.hall.hall.schedule.handoff_wait_minutes,
                                  self.hall.hall.phone)


# ---- helpers -----------------------------------------------------------------------------------------------------
def _load(session: Session, escalation_id: int) -> Escalation:
    escalation = session.get(Escalation, escalation_id, populate_existing=True)
    if escalation is None:
        raise HandoffError(f"没有编号为{escalation_id}的转人工记录。")
    return escalation


def _held(session: Session, escalation_id: int, staff: Staff, doing: str) -> Escalation:
    """The escalation, if `staff` (or a 管理员) may `doing` it: it must be taken, by them."""
    escalation = _load(session, escalation_id)
    if escalation.status != TAKEN:
        raise HandoffError(_why_not_open(session, escalation) if escalation.status not in QUEUED
                           else f"这个对话还没有人接手，不能{doing}。")
    if escalation.staff_id != staff.id and staff.role != ADMIN:
        raise HandoffError(f"这个对话由{_holder_title(session, escalation)}处理，只有接手的人可以{doing}。")
    return escalation


def _holder_title(session: Session, escalation: Escalation) -> str:
    return staff_title(session.get(Staff, escalation.staff_id)) if escalation.staff_id else "其他同事"


def _why_not_open(session: Session, escalation: Escalation) -> str:
    if escalation.status == TAKEN:
        return f"已被{_holder_title(session, escalation)}接手。"
    if escalation.status == CLOSED:
        return "这个人工对话已经结束。"
    if escalation.status == EXPIRED:
        return "等得太久已超时，群众已回到机器人服务；群众再说“转人工”会重新排队。"
    return "这个对话已经回到队列，请刷新后再试。"


def _tell(session: Session, escalation: Escalation, text: str, staff: Staff | None, now: datetime) -> None:
    """A notice to the citizen through the outbox, kept in the conversation too."""
    rows = enqueue_text(session, escalation.openid, text, NOTICE_REASON)
    session.add(Message(openid=escalation.openid, escalation_id=escalation.id, case_id=escalation.case_id,
                        direction="out", author="bot", staff_id=staff.id if staff else None, text=text,
                        outbox_id=rows[0].id, at=now))


def _audit(session: Session, escalation: Escalation, staff: Staff | None, action: str, before: str, after: str,
           now: datetime, extra: dict | None = None) -> None:
    detail = {"escalation": escalation.id, "from": before, "to": after, **(extra or {})}
    session.add(AuditEntry(case_id=escalation.case_id, actor=f"staff:{staff.id}" if staff else "system",
                           action=action, from_state=None, to_state=None, reason=None, detail=detail, at=now))


def _set_state(store: "ConversationStore", escalation: Escalation, status: str | None, now: datetime) -> None:
    """The citizen's conversation follows the escalation, unless it has moved on to another one meanwhile."""
    ident = escalation.id

    def change(state: dict | None) -> dict | None:
        human = state.get("human") if isinstance(state, dict) else None
        if isinstance(human, dict) and human.get("id") not in (None, ident):
            return state  # a newer 转人工 of the same citizen: leave it alone
        if state is None and status is None:
            return None
        return set_human(state, status, ident if status else None, now)

    change_state(store, escalation.openid, change)


__all__ = ["HandoffError", "AlreadyTaken", "QueueEntry", "Allowance", "StaffReply", "Line", "ExpiryTimer", "queue",
           "held_by", "colleagues", "take", "release", "transfer", "close", "expire_waiting", "staff_reply",
           "allowance", "conversation", "one_time_notice", "notice_tail", "visible_to", "escalation_unit",
           "staff_title", "surname", "waiting_since", "hall_time", "entry_of"]
