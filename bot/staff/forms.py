"""Printable forms of a case, laid out like the seeds' attachments and filled from the case (A4, print CSS).

    GET /staff/cases/<number>/print/<form>    case_print

    application   申请表: a person's (003 附件5 帮办代办服务申请表) or an enterprise's (000/002 附件 “事前辅导、全程帮办”
                  申请表 with 代办内容 and 法律责任); `?variant=person|enterprise` prints the other one
    mandate       委托书 (004 附件2); `?from=…&to=…` name the steps delegated (defaults from the case)
    handover      材料交接表 (003 附件6), from the case's handovers
    termination   终止单 (004 附件3)
    completion    办结单 (001 附件5 names it; laid out like the 终止单)
    evaluation    反馈情况表 (003 附件7): returned materials, 快递单号, 评价方式, 意见建议, 评价, 回访人

Printing shows personal data: only staff who may see it (`may_see_personal`) get a page; others 403.
"""
from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from flask import abort, render_template, request
from sqlalchemy import select

from ..cases import service
from ..cases.models import ENTERPRISE, RATINGS, Evaluation, FollowUp, Handover, MaterialRecord, Staff, Unit
from . import staff
from .auth import current_staff, db_session, login_required
from .cases import knowledge_base, load_case, sees_personal

log = logging.getLogger(__name__)

FORMS = {"application": "申请表", "mandate": "委托书", "handover": "材料交接表", "termination": "终止单",
         "completion": "办结单", "evaluation": "反馈情况表"}
MIN_HANDOVER_ROWS = 10
# 帮办代办形式 on the 003 forms: 帮办 / 代办 / 上门服务 / 其他
FORM_BOXES = {"现场帮办": "帮办", "代办": "代办", "上门帮办": "上门服务"}


def cn_date(moment: date | datetime | None) -> str:
    """2026年10月9日, in hall time; empty when unknown."""
    if moment is None:
        return ""
    if isinstance(moment, datetime):
        moment = moment.astimezone(service.HALL_TIME_ZONE).date()
    return f"{moment.year}年{moment.month}月{moment.day}日"


def cn_datetime(moment: datetime | None) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(service.HALL_TIME_ZONE)
    return f"{local.year}年{local.month}月{local.day}日 {local.hour:02d}时{local.minute:02d}分"


def ymd(moment: date | datetime | None) -> tuple[str, str, str]:
    if moment is None:
        return "", "", ""
    if isinstance(moment, datetime):
        moment = moment.astimezone(service.HALL_TIME_ZONE).date()
    return str(moment.year), str(moment.month), str(moment.day)


def box(checked: bool) -> str:
    return "☑" if checked else "☐"


def window_opinion(case) -> str:
    """帮办代办窗口意见 on the 003 申请表, from where the case stands."""
    if case.state == "不予受理":
        return f"不符合办理条件：{case.reason or ''}。请到{case.redirect_unit or ''}办理。"
    if case.state == "待补正" and case.missing_materials:
        names = "、".join(str(m.get("name") or "") for m in case.missing_materials)
        return f"{names}材料不齐全，请按一次性告知的要求补齐。"
    if case.state in ("已受理", "办理中", "已办结"):
        return "符合办理条件。"
    return ""


@staff.route("/cases/<number>/print/<form>")
@login_required()
def case_print(number: str, form: str):
    if form not in FORMS:
        abort(404)
    me = current_staff()
    kb = knowledge_base()
    hall = kb.hall.hall
    with db_session() as session:
        case = load_case(session, number)
        if not sees_personal(me, case):
            abort(403)
        handovers = session.scalars(select(Handover).where(Handover.case_id == case.id)
                                    .order_by(Handover.at, Handover.id)).all()
        records = session.scalars(select(MaterialRecord).where(MaterialRecord.case_id == case.id)
                                  .order_by(MaterialRecord.position)).all()
        evaluation = session.scalar(select(Evaluation).where(Evaluation.case_id == case.id))
        follow_up = session.scalar(select(FollowUp).where(FollowUp.case_id == case.id)
                                   .order_by(FollowUp.closed_at.is_(None), FollowUp.id.desc()))
        caller = session.get(Staff, follow_up.closed_by or follow_up.assigned_staff_id) if follow_up and (
            follow_up.closed_by or follow_up.assigned_staff_id) else None
        lead_unit = session.get(Unit, case.lead_unit_id) if case.lead_unit_id else None
        context = print_context(case, form, hall, handovers, records, evaluation, follow_up, caller, lead_unit)
        html = render_template(f"staff/forms/{form}.html", **context)
    log.info("staff: %s printed the %s of case %s", me.id, form, case.number)
    return html


def print_context(case, form: str, hall, handovers, records, evaluation, follow_up, caller, lead_unit) -> dict:
    applicant = case.applicant
    variant = request.args.get("variant")
    enterprise = variant == "enterprise" if variant in ("person", "enterprise") else applicant.kind == ENTERPRISE
    unit_name = case.unit.name if case.unit else ""
    contact_name = applicant.agent_name or applicant.name
    contact_phone = applicant.agent_phone or applicant.phone or ""
    received = [h for h in handovers if h.direction == "收取"]
    returned = [h for h in handovers if h.direction == "退还"]
    if received:
        submitted = [f"{h.material} {h.copies}份" for h in received]
    else:
        submitted = [r.name for r in records if r.status in ("有", "已收")]
    involved = case.involved_units or "、".join(n for n in (unit_name, lead_unit.name if lead_unit else "") if n)
    form_box = FORM_BOXES.get(case.form or "")
    delegated_from = request.args.get("from") or "申请受理"
    delegated_to = request.args.get("to") or ("邮寄送达" if case.delivery == "邮寄" else "办结领证")
    rows = list(handovers) + [None] * max(MIN_HANDOVER_ROWS - len(handovers), 0)
    context: dict[str, Any] = {
        "case": case, "applicant": applicant, "hall": hall, "unit_name": unit_name, "enterprise": enterprise,
        "title": FORMS[form], "contact_name": contact_name, "contact_phone": contact_phone,
        "submitted": submitted, "involved": involved, "form_box": form_box, "other_form": (
            case.form if case.form and not form_box else ""),
        "opinion": window_opinion(case), "handover_rows": rows, "returned": returned,
        "evaluation": evaluation, "ratings": RATINGS, "follow_up": follow_up, "caller": caller,
        "delegated_from": delegated_from, "delegated_to": delegated_to,
        "agent": case.assigned_staff.name if case.assigned_staff else "",
        "box": box, "cn_date": cn_date, "cn_datetime": cn_datetime, "ymd": ymd,
        "content": {  # 代办内容 (000/002 附件)
            "大厅综合窗口受理": case.form in ("代办", "现场帮办", "远程帮办", "帮网上办", "帮自助办"),
            "大厅综合窗口办结领证": case.delivery == "自取" and case.form != "上门帮办",
            "上门送达办理结果": case.form == "上门帮办",
            "邮寄送达办理结果": case.delivery == "邮寄",
            "事前辅导": bool(case.coaching),
        },
    }
    return context
