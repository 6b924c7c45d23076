"""Cases in the staff console: the list, registering a case, one case with its moves, assignment and handovers.

    GET       /staff/cases                        cases          list; filters state, unit, overdue, mine, number
    GET       /staff/cases/items?q=               case_items     catalogue search for the registration form (JSON)
    GET/POST  /staff/cases/new[?escalation=id]    case_new       register a case (window, phone, a conversation)
    GET       /staff/cases/<number>               case           the case, its records, its allowed moves
    POST      /staff/cases/<number>/move          case_move      a transition (states.TRANSITIONS) → service.move
    POST      /staff/cases/<number>/assign        case_assign    assign to me / a colleague / nobody
    POST      /staff/cases/<number>/handover      case_handover  材料交接 (收取 / 退还 / 移送)

Who may do what: every clerk sees every case, with personal data masked in the list always and on the case page
unless `may_see_personal` (staff of the handling or leading unit, the assigned clerk, 管理员). Only staff of the
case's unit(s) and 管理员 change a case (`may_change`); everyone else reads.

Every change carries the case's version from the page it was made on: a case changed by someone else in between is
refused with "案件已被他人修改，请刷新" (and SQLAlchemy's version check catches a race between two requests).
A transition that tells the citizen queues the message (bot/cases/notices.py) in the same transaction; 办结 then
starts the rating flow in the citizen's conversation, after the commit.
"""
from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterable

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ..cases import notices, service
from ..cases import states as s
from ..cases.masking import mask_address, mask_id, mask_name, mask_phone
from ..cases.models import (ADMIN, ENTERPRISE, MAX_COACHING, PERSON, Appointment, AuditEntry, Case, Evaluation,
                            FollowUp, Handover, MaterialRecord, Message, Staff, Unit)
from ..cases.numbers import normalise
from ..cases.units import sync_units
from ..db import utcnow
from ..media import case_photos, status_text as media_status
from . import staff
from .auth import current_staff, db_session, login_required, may_see_personal

log = logging.getLogger(__name__)

PAGE_SIZE = 50
OPEN_FILTER = "在办"  # the list's filter for every open state
CHANNELS = ("窗口", "电话", "微信")
DIRECTIONS = ("收取", "退还", "移送")  # citizen → staff, staff → citizen, staff → a unit
GROUPS = ("老年人", "残疾人", "孕妇", "军人")
STALE = "案件已被他人修改，请刷新页面后再操作。"
NO_RIGHT = "其他单位案件，不显示个人信息"
ACTION_LABELS = {"open": "登记", "assign": "分配", "handover": "材料交接", "checklist": "材料清单（微信）",
                 "move_booking": "改约", "cancel_booking": "取消预约", "rate": "评价", "evaluation": "评价",
                 **{t.action: t.label for t in s.TRANSITIONS}}
DETAIL_LABELS = {**s.INPUT_LABELS, "item": "事项", "form": "形式", "channel": "来源", "kind": "申请人类型",
                 "name": "姓名", "phone": "电话", "id_number": "身份证号", "credit_code": "统一社会信用代码",
                 "from": "原", "to": "新", "material": "材料", "copies": "份数", "direction": "方向",
                 "escalation": "转人工会话", "pickup": "自取地点", "involved_units": "涉及部门",
                 "materials_returned": "材料已退还", "note": "备注", "recipient_name": "收件人",
                 "recipient_phone": "收件人电话", "recipient_address": "收件地址"}
MISSING_STATUSES = ("没有", "不确定")
BLANK_MISSING_ROWS = 3


class Stale(Exception):
    """The form was made from an older version of the case."""


# ---- what the views share ------------------------------------------------------------------------------------
def knowledge_base():
    from ..app import services

    return services().parts["knowledge_base"]


def calendar():
    return service.calendar_for(knowledge_base().hall)


def today() -> date:
    return service.hall_today(utcnow())


def may_change(person: Staff, case: Case) -> bool:
    """Staff of the handling or the leading unit, and 管理员, change a case; everyone else reads it."""
    if person.role == ADMIN:
        return True
    return person.unit_id is not None and person.unit_id in (case.unit_id, case.lead_unit_id)


def sees_personal(person: Staff, case: Case) -> bool:
    return may_see_personal(person, (case.unit_id, case.lead_unit_id), case.assigned_staff_id)


def hall_time(moment: datetime | None, with_time: bool = True) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(service.HALL_TIME_ZONE)
    return local.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")


def day(d: date | None) -> str:
    return d.strftime("%Y-%m-%d") if d else ""


def helpers() -> dict[str, Any]:
    """Formatting for the templates (passed in, not registered app-wide)."""
    return {"hall_time": hall_time, "day": day, "day_text": notices.day_text}


def load_case(session: Session, number: str) -> Case:
    found = session.scalar(select(Case).where(Case.number == (normalise(number) or number)))
    if found is None:
        abort(404)
    return found


def units(session: Session) -> list[Unit]:
    """The hall's units (synced from the hall's data by `bangban staff add` and at registration)."""
    return list(session.scalars(select(Unit).order_by(Unit.id)))


def applicant_view(case: Case, personal: bool) -> dict[str, Any]:
    """The applicant and mailing details as this viewer may see them (masked unless `personal`)."""
    a = case.applicant
    name = (lambda v: v or "") if personal else mask_name
    phone = (lambda v: v or "") if personal else mask_phone
    code = (lambda v: v or "") if personal else mask_id
    address = (lambda v: v or "") if personal else mask_address
    return {"kind": a.kind, "name": name(a.name), "phone": phone(a.phone), "id_number": code(a.id_number),
            "credit_code": code(a.credit_code), "legal_representative": name(a.legal_representative),
            "agent_name": name(a.agent_name), "agent_phone": phone(a.agent_phone), "address": address(a.address),
            "priority_group": a.priority_group or "", "recipient_name": name(case.recipient_name),
            "recipient_phone": phone(case.recipient_phone), "recipient_address": address(case.recipient_address),
            "personal": personal}


# ---- the list ------------------------------------------------------------------------------------------------
@staff.route("/cases")
@login_required()
def cases():
    me = current_staff()
    args = request.args
    state = args.get("state", "")
    unit_id = args.get("unit", type=int)
    overdue, mine = args.get("overdue") == "1", args.get("mine") == "1"
    q = (args.get("q") or "").strip()
    page = max(args.get("page", 1, type=int) or 1, 1)
    now_day = today()
    query = select(Case)
    if state == OPEN_FILTER:
        query = query.where(Case.state.in_(s.OPEN_STATES))
    elif state in s.STATES:
        query = query.where(Case.state == state)
    if unit_id:
        query = query.where(or_(Case.unit_id == unit_id, Case.lead_unit_id == unit_id))
    if overdue:
        query = query.where(Case.state.in_(s.OPEN_STATES), Case.due_date.is_not(None), Case.due_date < now_day)
    if mine:
        query = query.where(Case.assigned_staff_id == me.id)
    if q:
        number = normalise(q)
        if number:
            query = query.where(Case.number == number)
        else:
            pattern = q.upper().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(Case.number.like(f"%{pattern}%", escape="\\"))
    with db_session() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        found = session.scalars(query.order_by(Case.created_at.desc(), Case.id.desc())
                                .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
        rows = [{"case": c, "applicant": applicant_view(c, False), "overdue": service.is_overdue(c, now_day)}
                for c in found]
        unit_list = units(session)
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    return render_template("staff/cases.html", rows=rows, total=total, page=page, pages=pages, states=s.STATES,
                           open_filter=OPEN_FILTER, units=unit_list, state=state, unit_id=unit_id, overdue=overdue,
                           mine=mine, q=q, today=now_day, **helpers())


# ---- registering a case --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Choice:
    id: str
    title: str
    unit: str  # the hall's unit for a listed item, else the guide's
    listed: bool  # on the hall's 帮办代办事项清单
    promised_limit: str | None


def item_choice(item_id: str | None) -> Choice | None:
    kb = knowledge_base()
    item = kb.knowledge.catalogue.get(item_id) if item_id else None
    if item is None:
        return None
    entry = kb.hall.entry(item.id)
    return Choice(item.id, item.title, entry.unit if entry else item.unit, entry is not None,
                  (entry.promised_limit if entry and entry.promised_limit else item.promised_limit))


def search_items(q: str, limit: int = 20) -> list[Choice]:
    """Items whose name contains every word typed: the hall's 清单 first, then the catalogue, then the matcher."""
    kb = knowledge_base()
    words = [w for w in q.replace("，", " ").split() if w]
    if not words:
        return []
    catalogue = kb.knowledge.catalogue
    found: list[str] = []

    def add(ids: Iterable[str]) -> None:
        for ident in ids:
            if ident not in found and len(found) < limit:
                found.append(ident)

    add(ident for ident in kb.hall.listing if all(w in catalogue.get(ident).title for w in words)
        if catalogue.get(ident) is not None)
    add(item.id for item in catalogue.items if all(w in item.title for w in words))
    if not found:
        add(hit.id for hit in kb.knowledge.consult(q).hits[:limit])
    return [c for c in (item_choice(ident) for ident in found) if c is not None]


@staff.route("/cases/items")
@login_required()
def case_items():
    return jsonify([c.__dict__ for c in search_items(request.args.get("q", ""))])


FIELDS = ("kind", "name", "phone", "id_number", "address", "company", "credit_code", "legal_representative",
          "agent_name", "agent_phone", "company_address", "priority_group", "item_q", "item_id", "free_item",
          "unit_id", "form", "channel", "delivery", "recipient_name", "recipient_phone", "recipient_address", "note",
          "coaching", "assign_me", "escalation", "openid")


def _clean(text: str | None) -> str:
    return (text or "").strip()


def validate_registration(values: dict[str, str], unit_ids: set[int]) -> tuple[dict[str, str], dict[str, Any]]:
    """(errors by field, the cleaned details) for the registration form. Nothing is written here."""
    from dialogs.recognise import parse_address, parse_id_number, parse_mobile, parse_uscc

    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}

    def required(field: str, message: str) -> str:
        value = _clean(values.get(field))
        if not value:
            errors[field] = message
        elif len(value) > 100:
            errors[field] = "太长了，请精简到100字以内。"
        return value

    def mobile(field: str, empty_message: str | None) -> str | None:
        value = _clean(values.get(field))
        if not value:
            if empty_message:
                errors[field] = empty_message
            return None
        parsed = parse_mobile(value)
        if not parsed.ok:
            errors[field] = parsed.reason
        return parsed.value

    kind = values.get("kind") if values.get("kind") in (PERSON, ENTERPRISE) else PERSON
    clean["kind"] = kind
    if kind == PERSON:
        name = required("name", "请填写申请人姓名。")
        if name and any(c.isdigit() for c in name):
            errors["name"] = "姓名里不会有数字，请核对。"
        clean["name"] = name
        clean["phone"] = mobile("phone", "请填写申请人的手机号。")
        id_text = _clean(values.get("id_number"))
        clean["id_number"] = None
        if id_text:
            parsed = parse_id_number(id_text, today())
            if parsed.ok:
                clean["id_number"] = parsed.value
            else:
                errors["id_number"] = parsed.reason
        clean["address"] = _clean(values.get("address")) or None
    else:
        clean["name"] = required("company", "请填写单位名称（与营业执照一致）。")
        code = _clean(values.get("credit_code"))
        clean["credit_code"] = None
        if not code:
            errors["credit_code"] = "请填写统一社会信用代码（18位）。"
        else:
            parsed = parse_uscc(code)
            if parsed.ok:
                clean["credit_code"] = parsed.value
            else:
                errors["credit_code"] = parsed.reason
        clean["legal_representative"] = _clean(values.get("legal_representative")) or None
        clean["agent_name"] = required("agent_name", "请填写经办人姓名。")
        clean["agent_phone"] = mobile("agent_phone", "请填写经办人的手机号。")
        clean["phone"] = clean["agent_phone"]
        clean["address"] = _clean(values.get("company_address")) or None
    group = values.get("priority_group") or None
    clean["priority_group"] = group if group in GROUPS else None

    choice = item_choice(values.get("item_id"))
    if choice is None and values.get("free_item") == "1" and _clean(values.get("item_q")):
        clean["item"] = None
        clean["item_title"] = _clean(values.get("item_q"))[:200]
    elif choice is None:
        errors["item"] = "请先查找并选择事项（或勾选“目录中没有，按填写的名称登记”）。"
    else:
        clean["item"] = choice
        clean["item_title"] = choice.title
    unit_id = values.get("unit_id")
    if not unit_id or not unit_id.isdigit() or int(unit_id) not in unit_ids:
        errors["unit_id"] = "请选择办理单位。"
    else:
        clean["unit_id"] = int(unit_id)
    if values.get("form") not in s.FORMS:
        errors["form"] = "请选择帮办代办形式。"
    clean["form"] = values.get("form")
    clean["channel"] = values.get("channel") if values.get("channel") in CHANNELS else CHANNELS[0]
    delivery = values.get("delivery") or s.DELIVERIES[0]
    if delivery not in s.DELIVERIES:
        errors["delivery"] = "请选择结果领取方式。"
    clean["delivery"] = delivery
    if delivery == "邮寄":
        clean["recipient_name"] = required("recipient_name", "邮寄需要收件人姓名。")
        clean["recipient_phone"] = mobile("recipient_phone", "邮寄需要收件人手机号。")
        address_text = _clean(values.get("recipient_address"))
        parsed = parse_address(address_text) if address_text else None
        if parsed is None:
            errors["recipient_address"] = "邮寄需要收件地址。"
        elif not parsed.ok:
            errors["recipient_address"] = parsed.reason
        clean["recipient_address"] = parsed.value if parsed is not None and parsed.ok else None
    clean["note"] = _clean(values.get("note")) or None
    coaching = " ".join(_clean(values.get("coaching")).split())
    if len(coaching) > MAX_COACHING:
        errors["coaching"] = f"事前辅导事项太长了，请精简到{MAX_COACHING}字以内。"
    clean["coaching"] = coaching or None
    return errors, clean


def _escalation(session: Session, ident: str | None):
    from ..escalations import Escalation

    if not ident or not str(ident).isdigit():
        return None
    return session.get(Escalation, int(ident))


@staff.route("/cases/new", methods=["GET", "POST"])
@login_required()
def case_new():
    me = current_staff()
    values: dict[str, str] = {name: "" for name in FIELDS}
    values.update(kind=PERSON, channel=CHANNELS[0], delivery=s.DELIVERIES[0], assign_me="1")
    errors: dict[str, str] = {}
    choices: list[Choice] = []
    status = 200
    with db_session() as session:
        with session.begin():
            sync_units(session, knowledge_base().hall)  # a unit the hall added since is offered too
        unit_list = units(session)
        unit_by_name = {u.name: u.id for u in unit_list}
        if request.method == "GET":
            escalation = _escalation(session, request.args.get("escalation"))
            if request.args.get("escalation") and escalation is None:
                abort(404)
            if escalation is not None and escalation.case_id is not None:
                linked = session.get(Case, escalation.case_id)
                if linked is not None:
                    flash(f"这个转人工会话已登记为案件 {linked.number}，请勿重复登记。", "error")
            if escalation is not None:
                values.update(escalation=str(escalation.id), openid=escalation.openid, channel="微信",
                              note=escalation.last_question or "", priority_group=escalation.priority_group or "")
                chosen = item_choice(escalation.item_id)
                if chosen is not None:
                    values.update(item_id=chosen.id, item_q=chosen.title,
                                  unit_id=str(unit_by_name.get(chosen.unit, "")))
                    choices = [chosen]
        else:
            values.update({name: request.form.get(name, "") for name in FIELDS})
            searching = request.form.get("op") == "search"
            chosen = item_choice(values["item_id"])
            if searching or (chosen is None and values["item_q"] and values["free_item"] != "1"):
                choices = search_items(values["item_q"])
                if not choices:
                    errors["item"] = "没有找到这个事项，换个说法再找，或勾选“目录中没有，按填写的名称登记”。"
                elif len(choices) == 1 and chosen is None:
                    chosen = choices[0]
                    values["item_id"] = chosen.id
                elif chosen is None and not searching:
                    errors["item"] = "找到多个事项，请选一个。"
            if chosen is not None:
                if chosen not in choices:
                    choices.insert(0, chosen)
                if not values["unit_id"] and chosen.unit in unit_by_name:
                    values["unit_id"] = str(unit_by_name[chosen.unit])
            if not searching:
                more, clean = validate_registration(values, set(unit_by_name.values()))
                errors = {**more, **errors}
                status = 400
                if not errors:
                    number = register(me, values, clean)
                    flash(f"已登记案件 {number}。")
                    return redirect(url_for("staff.case", number=number), 303)
    return render_template("staff/case_new.html", values=values, errors=errors, choices=choices, units=unit_list,
                           forms=s.FORMS, channels=CHANNELS, deliveries=s.DELIVERIES, groups=GROUPS,
                           person=PERSON, enterprise=ENTERPRISE, max_coaching=MAX_COACHING), status


def register(me: Staff, values: dict[str, str], clean: dict[str, Any]) -> str:
    """Open the case (and link the escalation it came from) in one transaction; returns its number."""
    kb = knowledge_base()
    choice: Choice | None = clean["item"]
    applicant = service.ApplicantDetails(
        kind=clean["kind"], name=clean["name"], phone=clean.get("phone"), id_number=clean.get("id_number"),
        credit_code=clean.get("credit_code"), legal_representative=clean.get("legal_representative"),
        agent_name=clean.get("agent_name"), agent_phone=clean.get("agent_phone"), address=clean.get("address"),
        priority_group=clean.get("priority_group"))
    mailing = {"delivery": clean["delivery"]}
    if clean["delivery"] == "邮寄":
        mailing.update(recipient_name=clean["recipient_name"], recipient_phone=clean["recipient_phone"],
                       recipient_address=clean["recipient_address"])
    with db_session() as session, session.begin():
        unit = session.get(Unit, clean["unit_id"])
        escalation = _escalation(session, values.get("escalation"))
        openid = escalation.openid if escalation is not None else None
        case = service.open_case(
            session, applicant=applicant, openid=openid, item_id=choice.id if choice else None,
            item_title=clean["item_title"], catalogue_version=kb.knowledge.catalogue.version if choice else None,
            unit_name=unit.name, form=clean["form"], promised_limit=choice.promised_limit if choice else None,
            calendar=calendar(), channel="微信" if escalation is not None else clean["channel"], note=clean["note"],
            coaching=clean["coaching"], actor=service.actor_of(me), now=utcnow(), **mailing)
        if escalation is not None:
            escalation.case_id = case.id
            service.audit(session, case, service.actor_of(me), "link_escalation", case.state, case.state, None,
                          {"escalation": escalation.id}, utcnow())
        if values.get("assign_me") == "1" and may_change(me, case):
            service.assign(session, case, me, actor=service.actor_of(me), reason="登记人负责（首问负责）")
        number = case.number
    log.info("staff: case %s registered by staff %s", number, me.id)
    return number


# ---- one case ------------------------------------------------------------------------------------------------
@staff.route("/cases/<number>")
@login_required()
def case(number: str):
    return render_case(number)


def render_case(number: str, error: str | None = None, posted: dict[str, Any] | None = None, status: int = 200):
    me = current_staff()
    kb = knowledge_base()
    now_day = today()
    with db_session() as session:
        found = load_case(session, number)
        personal = sees_personal(me, found)
        changeable = may_change(me, found)
        unit_list = units(session)
        staff_names = {p.id: p for p in session.scalars(select(Staff))}
        records = session.scalars(select(MaterialRecord).where(MaterialRecord.case_id == found.id)
                                  .order_by(MaterialRecord.position)).all()
        context = {
            "case": found, "applicant": applicant_view(found, personal), "personal": personal,
            "changeable": changeable, "no_right": NO_RIGHT, "overdue": service.is_overdue(found, now_day),
            "lead_unit": session.get(Unit, found.lead_unit_id) if found.lead_unit_id else None,
            "appointments": session.scalars(select(Appointment).where(Appointment.case_id == found.id)
                                            .order_by(Appointment.day, Appointment.start)).all(),
            "records": records, "photos": case_photos(session, found.id), "photo_status": media_status,
            "handovers": session.scalars(select(Handover).where(Handover.case_id == found.id)
                                         .order_by(Handover.at, Handover.id)).all(),
            "messages": case_messages(session, found) if personal else [],
            "evaluation": session.scalar(select(Evaluation).where(Evaluation.case_id == found.id)),
            "follow_ups": session.scalars(select(FollowUp).where(FollowUp.case_id == found.id)
                                          .order_by(FollowUp.id)).all(),
            "audit": [audit_row(e, staff_names) for e in session.scalars(
                select(AuditEntry).where(AuditEntry.case_id == found.id).order_by(AuditEntry.at, AuditEntry.id))],
            "staff_names": staff_names,
            "transitions": s.allowed(found.state) if changeable else (),
            "colleagues": [p for p in staff_names.values() if p.active and p.id != me.id
                           and p.unit_id in (found.unit_id, found.lead_unit_id)],
            "units": unit_list, "routings": s.ROUTINGS, "deliveries": s.DELIVERIES,
            "termination_kinds": s.TERMINATION_KINDS, "directions": DIRECTIONS,
            "input_labels": DETAIL_LABELS, "me": me, "error": error, "posted": posted or {},
            "missing_rows": missing_rows(found, records, kb, posted),
            "pickup": notices.pickup_place(found, kb.hall),
            "print_forms": PRINT_FORMS, "today": now_day,
        }
        html = render_template("staff/case.html", **context, **helpers())
    return html, status


PRINT_FORMS = (("application", "申请表"), ("mandate", "委托书"), ("handover", "材料交接表"),
               ("termination", "终止单"), ("completion", "办结单"), ("evaluation", "反馈情况表（评价）"))


def case_messages(session: Session, case: Case) -> list[Message]:
    from ..escalations import Escalation

    linked = select(Escalation.id).where(Escalation.case_id == case.id)
    return list(session.scalars(select(Message).where(or_(Message.case_id == case.id,
                                                          Message.escalation_id.in_(linked)))
                                .order_by(Message.at, Message.id).limit(200)))


def actor_label(actor: str, staff_names: dict[int, Staff]) -> str:
    if actor.startswith("staff:") and actor[6:].isdigit():
        person = staff_names.get(int(actor[6:]))
        if person is not None:
            return f"{person.name}（{person.unit.name if person.unit else ''}）"
        return actor
    return {"citizen": "群众（微信）", "system": "系统"}.get(actor, actor)


def audit_row(entry: AuditEntry, staff_names: dict[int, Staff]) -> dict[str, Any]:
    detail = dict(entry.detail or {})
    if entry.action == "assign":
        for key in ("from", "to"):
            ident = detail.get(key)
            detail[key] = staff_names[ident].name if isinstance(ident, int) and ident in staff_names else (
                ident if ident is not None else "无")
    return {"at": entry.at, "who": actor_label(entry.actor, staff_names),
            "action": ACTION_LABELS.get(entry.action, entry.action), "from": entry.from_state or "",
            "to": entry.to_state or "", "reason": entry.reason or "", "detail": detail}


def missing_rows(case: Case, records: list[MaterialRecord], kb, posted: dict[str, Any] | None) -> list[dict]:
    """The 一次性告知 form's rows: the checklist's 没有/不确定 (ticked, with how to get them), the item's other
    materials (unticked), blank rows for more; or, after a refused attempt, what was posted."""
    if posted and posted.get("action") == "request_materials":
        names, hows, on = posted.get("missing_name", []), posted.get("missing_how", []), posted.get("missing_on", [])
        return [{"name": n, "how": h, "on": str(i) in on} for i, (n, h) in enumerate(zip(names, hows))]
    rows: list[dict] = []
    seen: set[str] = set()
    for record in records:
        if record.status in MISSING_STATUSES:
            rows.append({"name": record.name, "how": record.how_to_get or "", "on": True})
            seen.add(record.name)
    item = kb.knowledge.catalogue.get(case.item_id) if case.item_id else None
    for material in (item.materials if item else ()):
        if material not in seen:
            rows.append({"name": material, "how": "", "on": False})
            seen.add(material)
    rows += [{"name": "", "how": "", "on": True} for _ in range(BLANK_MISSING_ROWS)]
    return rows


# ---- changing a case -----------------------------------------------------------------------------------------
def _form_version() -> int | None:
    raw = request.form.get("version", "")
    return int(raw) if raw.isdigit() else None


def check_version(case: Case) -> None:
    if _form_version() != case.version:
        raise Stale()


def posted_form() -> dict[str, Any]:
    form = request.form
    return {key: (form.getlist(key) if key.startswith("missing_") else form.get(key)) for key in form}


def transition_inputs(action: str) -> dict[str, Any]:
    """The inputs a transition takes, from the posted form; the 一次性告知 list needs how to get each material."""
    form = request.form
    text = {key: _clean(form.get(key)) for key in ("reason", "redirect_unit", "routing", "lead_unit",
                                                   "coordinator", "involved_units", "result", "delivery",
                                                   "tracking_no", "pickup", "termination_kind", "note")}
    if action == "reject":
        return {k: text[k] for k in ("reason", "redirect_unit")}
    if action == "request_materials":
        names, hows = form.getlist("missing_name"), form.getlist("missing_how")
        on = set(form.getlist("missing_on"))
        missing, without_how = [], []
        for i, (name, how) in enumerate(zip(names, hows)):
            name, how = name.strip(), how.strip()
            if str(i) in on and name:
                missing.append({"name": name, "how": how or None})
                if not how:
                    without_how.append(name)
        if without_how:
            raise s.TransitionError(f"一次性告知要写清每项材料怎么获取，请填写：{'、'.join(without_how)}。")
        return {"missing": missing}
    if action == "accept":
        inputs = {k: text[k] for k in ("routing", "involved_units")}
        if text["routing"] == "一件事一次办":
            inputs["lead_unit"] = text["lead_unit"]
        if text["routing"] == "专班":
            inputs["coordinator"] = text["coordinator"]
        return inputs
    if action == "finish":
        inputs = {k: text[k] for k in ("result", "delivery")}
        if text["delivery"] == "邮寄":
            inputs["tracking_no"] = text["tracking_no"]
        elif text["pickup"]:
            inputs["pickup"] = text["pickup"]
        return inputs
    if action == "terminate":
        return {"termination_kind": text["termination_kind"], "reason": text["reason"],
                "materials_returned": form.get("materials_returned") == "1"}
    return {"note": text["note"]} if text["note"] else {}


@staff.route("/cases/<number>/move", methods=["POST"])
@login_required()
def case_move(number: str):
    me = current_staff()
    action = request.form.get("action", "")
    kb = knowledge_base()
    now = utcnow()
    told = evaluate = None
    try:
        with db_session() as session, session.begin():
            found = load_case(session, number)
            if not may_change(me, found):
                abort(403)
            check_version(found)
            s.find(found.state, action)  # an illegal move is named before its inputs are checked
            inputs = transition_inputs(action)
            transition = service.move(session, found, action, inputs, actor=service.actor_of(me),
                                      calendar=calendar(), now=now)
            text = notices.citizen_notice(found, action, inputs, kb.hall) if found.openid else None
            if text:
                from ..outbox import enqueue_text

                enqueue_text(session, found.openid, text, "case")
                if transition.target in s.FINAL_STATES:
                    found.citizen_told_at = now  # 反馈时间 (台账): the applicant was told how it ended
                told = text
            if action == "finish" and found.openid:
                evaluate = (found.openid, found.number)
            number = found.number
    except s.TransitionError as exc:
        return render_case(number, error=str(exc), posted=posted_form(), status=400)
    except (Stale, StaleDataError):
        return render_case(number, error=STALE, status=409)
    flash(f"已{transition.label}。" + ("已通过微信通知群众。" if told else
                                       ("（群众不是通过微信申请的，请电话告知。）" if transition.tells_citizen else "")))
    if evaluate is not None:
        start_evaluation(*evaluate)
    return redirect(url_for("staff.case", number=number), 303)


def start_evaluation(openid: str, number: str) -> bool:
    """办结: the citizen's conversation waits for the 1–5 rating (dialogs.flows' "evaluation" flow, when it exists).
    Runs after the commit; a failure is logged, never undoes the case."""
    try:
        from dialogs import flows
    except ImportError:
        return False
    begin = getattr(flows, "begin_flow", None)
    if begin is None or not has_flow(flows, "evaluation"):
        return False
    from ..app import services
    from ..clock import hall_now
    from ..conversations import change_state
    from dialogs.state import STATE_VERSION, fresh

    store = services().parts.get("store")
    if store is None:
        return False
    now = hall_now()

    def change(old):
        state = old if isinstance(old, dict) and old.get("v") == STATE_VERSION else fresh(now)
        return begin(state, "evaluation", {"number": number}, now)

    try:
        change_state(store, openid, change)
    except Exception:  # noqa: BLE001 - the case is closed either way; the rating can be taken by phone
        log.exception("staff: could not start the rating flow for case %s", number)
        return False
    return True


def has_flow(flows, name: str) -> bool:
    """Whether dialogs.flows knows the flow `name`: its REGISTRY (dialogs/flows/__init__.py) when there is one."""
    registry = getattr(flows, "REGISTRY", None)
    if registry is not None and callable(getattr(registry, "get", None)):
        return registry.get(name) is not None
    known = getattr(flows, "FLOWS", None)
    if isinstance(known, (dict, set, frozenset, list, tuple)) and name in known:
        return True
    if hasattr(flows, name):
        return True
    if hasattr(flows, "__path__"):
        try:
            return importlib.util.find_spec(f"{flows.__name__}.{name}") is not None
        except (ImportError, ValueError):
            return False
    return False


@staff.route("/cases/<number>/assign", methods=["POST"])
@login_required()
def case_assign(number: str):
    me = current_staff()
    target_raw = request.form.get("staff_id", "")
    try:
        with db_session() as session, session.begin():
            found = load_case(session, number)
            if not may_change(me, found):
                abort(403)
            check_version(found)
            if target_raw == "me":
                target = session.get(Staff, me.id)
            elif target_raw.isdigit():
                target = session.get(Staff, int(target_raw))
                if target is None or not target.active or (
                        target.role != ADMIN and target.unit_id not in (found.unit_id, found.lead_unit_id)):
                    return render_case(number, error="只能分配给本案件办理单位的同事。", status=400)
            else:
                target = None
            service.assign(session, found, target, actor=service.actor_of(me),
                           reason=_clean(request.form.get("reason")) or None)
            number = found.number
    except (Stale, StaleDataError):
        return render_case(number, error=STALE, status=409)
    flash(f"已分配给{target.name}。" if target is not None else "已取消分配。")
    return redirect(url_for("staff.case", number=number), 303)


@staff.route("/cases/<number>/handover", methods=["POST"])
@login_required()
def case_handover(number: str):
    me = current_staff()
    form = request.form
    material, giver, receiver = _clean(form.get("material")), _clean(form.get("giver")), _clean(form.get("receiver"))
    direction, copies_raw = form.get("direction", ""), _clean(form.get("copies")) or "1"
    problems = []
    if not material:
        problems.append("材料名称")
    if not copies_raw.isdigit() or not 1 <= int(copies_raw) <= 999:
        problems.append("份数（1到999）")
    if direction not in DIRECTIONS:
        problems.append("方向（收取/退还/移送）")
    if not giver:
        problems.append("移交人")
    if not receiver:
        problems.append("接收人")
    with db_session() as session:
        found = load_case(session, number)
        if not may_change(me, found):
            abort(403)
    if problems:
        return render_case(number, error=f"请填写：{'、'.join(problems)}。", posted=posted_form(), status=400)
    now = utcnow()
    with db_session() as session, session.begin():
        found = load_case(session, number)
        session.add(Handover(case_id=found.id, material=material[:200], copies=int(copies_raw), direction=direction,
                             giver=giver[:50], receiver=receiver[:50], at=now, recorded_by=me.id))
        status = {"收取": "已收", "退还": "已退"}.get(direction)
        if status:
            for record in session.scalars(select(MaterialRecord).where(MaterialRecord.case_id == found.id,
                                                                       MaterialRecord.name == material)):
                record.status, record.updated_at = status, now
        service.audit(session, found, service.actor_of(me), "handover", found.state, found.state, None,
                      {"material": material, "copies": int(copies_raw), "direction": direction}, now)
        number = found.number
    flash(f"已记录材料交接：{material} × {copies_raw}（{direction}）。")
    return redirect(url_for("staff.case", number=number) + "#handovers", 303)
