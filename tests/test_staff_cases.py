"""Cases in the staff console, through the Flask test client: register, move, assign, hand over, and who may."""
from __future__ import annotations

import re
import sys
import types
from datetime import date

import pytest
from sqlalchemy import func, select

from bot.cases import states as s
from bot.cases.models import (ADMIN, CLERK, AuditEntry, Case, Evaluation, Handover, MaterialRecord, Staff)
from bot.db import utcnow
from bot.escalations import Escalation
from bot.outbox import OutboxMessage
from tests.staff_helpers import add_staff, console_app, csrf_of, login, services_of

NAME, PHONE, ID_NUMBER = "张三丰", "13812345678", "11010519491231002X"
USCC = "91350100M000100Y43"
ITEM = "EXT-015"  # 居住证申领, 区公安分局 on the demo hall's list (15个工作日内)


@pytest.fixture
def app(tmp_path, monkeypatch):
    from bot.staff import auth

    monkeypatch.setattr(auth, "_failures", {})  # test_staff_auth locks names in this process-wide counter
    app = console_app(tmp_path)
    add_staff(app, "lixy", "区公安分局", CLERK, name="李晓燕")
    add_staff(app, "chenzq", "区公安分局", CLERK, name="陈志强")
    add_staff(app, "wangxy", "区民政局", CLERK, name="王秀英")
    add_staff(app, "admin", "区民政局", ADMIN, name="管理员甲")
    return app


def client_for(app, username: str):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def token(client, url: str = "/staff/cases") -> str:
    return csrf_of(client.get(url).get_data(as_text=True))


def person_form(**extra) -> dict:
    return {"op": "save", "kind": "个人", "name": NAME, "phone": PHONE, "id_number": ID_NUMBER, "item_q": "居住证",
            "item_id": ITEM, "unit_id": "", "form": "代办", "channel": "窗口", "delivery": "自取", "assign_me": "1",
            **extra}


def register(client, **extra) -> str:
    response = client.post("/staff/cases/new", data={"csrf_token": token(client, "/staff/cases/new"),
                                                    **person_form(**extra)})
    assert response.status_code == 303, errors_of(response)
    return response.headers["Location"].rsplit("/", 1)[1]


def errors_of(response) -> list[str]:
    return re.findall(r'class="field-error" id="error-[^"]+">([^<]+)', response.get_data(as_text=True))


def the_case(app, number: str) -> Case:
    with services_of(app).sessions() as session:
        found = session.scalar(select(Case).where(Case.number == number))
        session.expunge_all()
        return found


def move(client, number: str, action: str, version: int | None = None, **inputs):
    page = client.get(f"/staff/cases/{number}").get_data(as_text=True)
    if version is None:
        found = re.search(r'name="version" value="(\d+)"', page)
        version = int(found.group(1)) if found else 0
    return client.post(f"/staff/cases/{number}/move", data={"csrf_token": csrf_of(page), "action": action,
                                                            "version": str(version), **inputs})


def outbox(app) -> list[OutboxMessage]:
    with services_of(app).sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


# ---- the whole way ---------------------------------------------------------------------------------------------
def test_a_clerk_registers_accepts_submits_and_finishes_a_case(app):
    clerk = client_for(app, "lixy")
    number = register(clerk)
    assert re.fullmatch(r"BB\d{8}-\d{4}", number)
    page = clerk.get(f"/staff/cases/{number}").get_data(as_text=True)
    assert "已登记案件" in page and 'id="case-state">待甄别' in page and NAME in page and PHONE in page
    assert "居住证申领" in page and "李晓燕" in page  # assigned to the clerk who registered it
    for action in ("reject", "request_materials", "accept", "terminate"):
        assert f'id="move-{action}"' in page
    assert 'id="move-submit"' not in page

    assert move(clerk, number, "accept", routing="单部门").status_code == 303
    assert the_case(app, number).state == s.ACCEPTED
    assert move(clerk, number, "submit").status_code == 303
    assert the_case(app, number).state == s.IN_PROGRESS
    done = move(clerk, number, "finish", result="居住证已制好", delivery="自取", pickup="1楼8号窗口")
    assert done.status_code == 303
    case = the_case(app, number)
    assert case.state == s.DONE and case.result == "居住证已制好" and case.closed_at is not None
    assert outbox(app) == []  # registered at the window: nobody to message on WeChat

    page = clerk.get(f"/staff/cases/{number}").get_data(as_text=True)
    assert "已办结" in page and "请电话告知" in page and "案件已结束" in page
    trail = page[page.index('id="audit-trail"'):]
    for label in ("登记", "分配", "受理", "已提交窗口办理", "办结"):
        assert label in trail
    assert "待甄别 → 已受理" in trail and "已受理 → 办理中" in trail and "办理中 → 已办结" in trail
    assert "李晓燕（区公安分局）" in trail


def test_a_case_from_a_conversation_tells_the_citizen_at_every_step_and_asks_for_a_rating(app, monkeypatch):
    began = []
    fake_flows = types.ModuleType("dialogs.flows")
    fake_flows.FLOWS = {"evaluation": object()}

    def begin_flow(state, name, data, now):
        began.append((name, data, now.tzinfo is not None))
        return {**state, "flow": {"name": name, "step": "rating", **data}}

    fake_flows.begin_flow = begin_flow
    import dialogs

    monkeypatch.setitem(sys.modules, "dialogs.flows", fake_flows)
    monkeypatch.setattr(dialogs, "flows", fake_flows, raising=False)

    with services_of(app).sessions.begin() as session:
        escalation = Escalation(openid="oCitizen0001", item_id=ITEM, catalogue_version="v", reason="asked",
                                last_question="居住证怎么办，我想找人帮我办", status="taken", created_at=utcnow(),
                                priority_group="老年人")
        session.add(escalation)
        session.flush()
        escalation_id = escalation.id
    clerk = client_for(app, "lixy")
    form = clerk.get(f"/staff/cases/new?escalation={escalation_id}").get_data(as_text=True)
    assert 'id="from-escalation"' in form and f'value="{ITEM}" checked' in form
    assert "居住证怎么办，我想找人帮我办" in form and 'value="老年人" selected' in form
    response = clerk.post("/staff/cases/new", data={
        "csrf_token": csrf_of(form), **person_form(escalation=str(escalation_id), priority_group="老年人",
                                                   delivery="邮寄", recipient_name="张小明",
                                                   recipient_phone="13900001111",
                                                   recipient_address="广州市天河区示例路1号2栋301室")})
    assert response.status_code == 303, errors_of(response)
    number = response.headers["Location"].rsplit("/", 1)[1]
    case = the_case(app, number)
    assert case.openid == "oCitizen0001" and case.channel == "微信" and case.delivery == "邮寄"
    again = clerk.get(f"/staff/cases/new?escalation={escalation_id}").get_data(as_text=True)
    assert f"这个转人工会话已登记为案件 {number}，请勿重复登记。" in again
    with services_of(app).sessions() as session:
        assert session.get(Escalation, escalation_id).case_id == case.id
        session.add(MaterialRecord(case_id=case.id, position=1, name="本人身份证", status="有", updated_at=utcnow()))
        session.add(MaterialRecord(case_id=case.id, position=2, name="近期一寸彩色照片2张", status="没有",
                                   how_to_get="到照相馆拍摄", updated_at=utcnow()))
        session.add(MaterialRecord(case_id=case.id, position=3, name="租房合同", status="不确定", updated_at=utcnow()))
        session.commit()

    page = clerk.get(f"/staff/cases/{number}").get_data(as_text=True)
    rows = re.findall(r'name="missing_on" value="(\d+)" ?(checked)?></td>\s*<td><input type="text" '
                      r'name="missing_name" value="([^"]*)"', page)
    ticked = [name for _, on, name in rows if on and name]
    assert ticked == ["近期一寸彩色照片2张", "租房合同"]
    assert any(name == "现住地房主身份证及房屋产权证明、租（购）房协议等相关证明" and not on for _, on, name in rows)

    refused = move(clerk, number, "request_materials", missing_on=["0", "1"],
                   missing_name=["近期一寸彩色照片2张", "租房合同"], missing_how=["到照相馆拍摄", ""])
    assert refused.status_code == 400 and "请填写：租房合同" in refused.get_data(as_text=True)
    assert the_case(app, number).state == s.SCREENING and outbox(app) == []

    asked = move(clerk, number, "request_materials", missing_on=["0", "1", "3"],
                 missing_name=["近期一寸彩色照片2张", "租房合同", "不要的", ""],
                 missing_how=["到照相馆拍摄", "与房东签订后带原件", "", ""])
    assert asked.status_code == 303
    case = the_case(app, number)
    assert case.state == s.AWAITING_MATERIALS and case.missing_materials == [
        {"name": "近期一寸彩色照片2张", "how": "到照相馆拍摄"}, {"name": "租房合同", "how": "与房东签订后带原件"}]
    told = outbox(app)
    assert len(told) == 1 and told[0].openid == "oCitizen0001" and told[0].reason == "case"
    assert "1. 近期一寸彩色照片2张——怎么办：到照相馆拍摄" in told[0].payload
    assert "2. 租房合同——怎么办：与房东签订后带原件" in told[0].payload and "不要的" not in told[0].payload

    assert the_case(app, number).citizen_told_at is None  # 反馈时间 is when the end is told
    assert move(clerk, number, "materials_supplied").status_code == 303
    assert len(outbox(app)) == 1  # 补正完成 tells the citizen nothing
    assert move(clerk, number, "accept", routing="一件事一次办", lead_unit="区卫生健康局").status_code == 303
    assert "【已受理】" in outbox(app)[-1].payload and "前把材料提交窗口" in outbox(app)[-1].payload
    assert move(clerk, number, "submit").status_code == 303
    assert "【办理中】" in outbox(app)[-1].payload and "前办结" in outbox(app)[-1].payload
    missing_tracking = move(clerk, number, "finish", result="居住证已制好", delivery="邮寄")
    assert missing_tracking.status_code == 400 and "快递单号" in missing_tracking.get_data(as_text=True)
    assert not began
    assert move(clerk, number, "finish", result="居住证已制好", delivery="邮寄",
                tracking_no="SF1234567890").status_code == 303
    last = outbox(app)[-1].payload
    assert "【已办结】" in last and "SF1234567890" in last
    assert last.endswith("请回复数字评价：1非常满意 2满意 3基本满意 4不满意 5非常不满意")
    assert the_case(app, number).citizen_told_at is not None
    assert began == [("evaluation", {"number": number}, True)]
    state = services_of(app).parts["store"].get_state("oCitizen0001")
    assert state["flow"] == {"name": "evaluation", "step": "rating", "number": number}


def test_without_an_evaluation_flow_finishing_still_works(app, monkeypatch):
    import dialogs

    empty = types.ModuleType("dialogs.flows")
    monkeypatch.setitem(sys.modules, "dialogs.flows", empty)
    monkeypatch.setattr(dialogs, "flows", empty, raising=False)
    from bot.staff.cases import start_evaluation

    with app.test_request_context():
        assert start_evaluation("oCitizen0002", "BB20261122-0001") is False


# ---- registering ----------------------------------------------------------------------------------------------
def test_registration_errors_are_shown_next_to_the_fields_and_nothing_is_written(app):
    clerk = client_for(app, "lixy")
    response = clerk.post("/staff/cases/new", data={"csrf_token": token(clerk), **person_form(
        name="", phone="12345", id_number="110105194912310021", item_id="", item_q="", form="")})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="error-name">请填写申请人姓名。' in html
    assert 'id="error-phone">手机号应为11位数字' in html
    assert 'id="error-id_number">身份证号最后一位校验不对' in html
    assert 'id="error-item">请先查找并选择事项' in html and 'id="error-form">请选择帮办代办形式。' in html
    assert 'value="110105194912310021"' in html  # what was typed stays for correcting

    enterprise = clerk.post("/staff/cases/new", data={"csrf_token": token(clerk), **person_form(
        kind="企业", company="某某商贸有限公司", credit_code="91350100M000100Y44", agent_name="李四",
        agent_phone="020-1234567")})
    assert enterprise.status_code == 400
    html = enterprise.get_data(as_text=True)
    assert 'id="error-credit_code">统一社会信用代码最后一位校验不对' in html
    assert 'id="error-agent_phone">这像是固定电话' in html
    mail = clerk.post("/staff/cases/new", data={"csrf_token": token(clerk), **person_form(delivery="邮寄")})
    assert mail.status_code == 400 and "邮寄需要收件人姓名。" in mail.get_data(as_text=True)
    coaching = clerk.post("/staff/cases/new", data={"csrf_token": token(clerk), **person_form(coaching="辅" * 101)})
    assert coaching.status_code == 400 and 'id="error-coaching">事前辅导事项太长了' in coaching.get_data(as_text=True)
    with services_of(app).sessions() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_an_enterprise_case_and_an_item_found_by_name(app):
    clerk = client_for(app, "lixy")
    searched = clerk.post("/staff/cases/new", data={"csrf_token": token(clerk), "op": "search",
                                                    "item_q": "居住证申领", "kind": "企业"})
    assert searched.status_code == 200
    html = searched.get_data(as_text=True)
    assert f'value="{ITEM}"' in html and "本大厅帮办代办清单" in html
    number = register(clerk, kind="企业", name="", phone="", company="某某商贸有限公司", credit_code=USCC.lower(),
                      legal_representative="王五", agent_name="李四", agent_phone="139 0000 2222",
                      company_address="广州市天河区示例路2号", item_id="", item_q="居住证申领",
                      coaching="  现场勘察前的 场地准备 ")
    case = the_case(app, number)
    assert case.coaching == "现场勘察前的 场地准备"
    assert "现场勘察前的 场地准备" in clerk.get(f"/staff/cases/{number}").get_data(as_text=True)
    with services_of(app).sessions() as session:
        applicant = session.get(Case, case.id).applicant
        assert (applicant.kind, applicant.name, applicant.credit_code, applicant.agent_phone, applicant.phone) == (
            "企业", "某某商贸有限公司", USCC, "13900002222", "13900002222")
    assert case.item_id == ITEM and case.unit_id is not None and case.promised_days == 15


def test_an_item_outside_the_catalogue_can_be_registered_by_name_with_a_unit(app):
    clerk = client_for(app, "lixy")
    page = clerk.get("/staff/cases/new").get_data(as_text=True)
    unit_id = re.search(r'<option value="(\d+)" >区公安分局</option>', page).group(1)
    number = register(clerk, item_id="", item_q="某某特殊证明", free_item="1", unit_id=unit_id)
    case = the_case(app, number)
    assert case.item_title == "某某特殊证明" and case.item_id is None and case.promised_days is None


# ---- who may ---------------------------------------------------------------------------------------------------
def test_another_units_clerk_sees_the_case_masked_and_cannot_change_or_print_it(app):
    number = register(client_for(app, "lixy"))
    other = client_for(app, "wangxy")
    page = other.get(f"/staff/cases/{number}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "其他单位案件，不显示个人信息" in html and NAME not in html and PHONE not in html
    assert "张**" in html and "138****5678" in html and ID_NUMBER not in html
    assert 'id="transitions"' not in html and 'action="/staff/cases/' + number + '/move"' not in html
    assert 'id="print-links"' not in html
    refused = other.post(f"/staff/cases/{number}/move", data={"csrf_token": csrf_of(html), "action": "accept",
                                                             "routing": "单部门", "version": "2"})
    assert refused.status_code == 403
    assert other.post(f"/staff/cases/{number}/assign", data={"csrf_token": csrf_of(html), "staff_id": "me",
                                                            "version": "2"}).status_code == 403
    assert other.post(f"/staff/cases/{number}/handover", data={
        "csrf_token": csrf_of(html), "material": "身份证", "copies": "1", "direction": "收取", "giver": "甲",
        "receiver": "乙"}).status_code == 403
    assert other.get(f"/staff/cases/{number}/print/application").status_code == 403
    case = the_case(app, number)
    assert case.state == s.SCREENING

    admin = client_for(app, "admin")
    assert NAME in admin.get(f"/staff/cases/{number}").get_data(as_text=True)
    assert move(admin, number, "accept", routing="专班", coordinator="王主任").status_code == 303
    assert the_case(app, number).coordinator == "王主任"


def test_the_list_always_masks_and_filters(app):
    clerk = client_for(app, "lixy")
    first, second = register(clerk), register(clerk, name="李四光", phone="13700001234")
    with services_of(app).sessions.begin() as session:
        late = session.scalar(select(Case).where(Case.number == first))
        late.due_date = date(2020, 1, 2)
    html = clerk.get("/staff/cases").get_data(as_text=True)
    assert first in html and second in html
    for secret in (NAME, PHONE, "李四光", "13700001234"):
        assert secret not in html
    assert "张**" in html and "138****5678" in html and "李**" in html
    row = html[html.index(f'data-number="{first}"'):]
    row = row[:row.index("</tr>")]
    assert "2020-01-02" in row and "已超期" in row and 'class="deadline overdue"' in row
    overdue = clerk.get("/staff/cases?overdue=1").get_data(as_text=True)
    assert first in overdue and second not in overdue
    by_number = clerk.get(f"/staff/cases?q={second.lower()}").get_data(as_text=True)
    assert second in by_number and f'data-number="{first}"' not in by_number
    partial = clerk.get(f"/staff/cases?q={second[-4:]}").get_data(as_text=True)
    assert f'data-number="{second}"' in partial
    move(clerk, second, "accept", routing="单部门")
    accepted = clerk.get("/staff/cases?state=已受理").get_data(as_text=True)
    assert f'data-number="{second}"' in accepted and f'data-number="{first}"' not in accepted
    open_ones = clerk.get("/staff/cases?state=在办").get_data(as_text=True)
    assert f'data-number="{second}"' in open_ones and f'data-number="{first}"' in open_ones
    with services_of(app).sessions() as session:
        civil = session.scalar(select(Staff).where(Staff.username == "wangxy")).unit_id
    assert f'data-number="{first}"' not in clerk.get(f"/staff/cases?unit={civil}").get_data(as_text=True)
    assert client_for(app, "wangxy").get("/staff/cases").status_code == 200
    assert app.test_client().get("/staff/cases").status_code == 302


# ---- refusals --------------------------------------------------------------------------------------------------
def test_a_stale_form_is_refused_and_changes_nothing(app):
    clerk, colleague = client_for(app, "lixy"), client_for(app, "chenzq")
    number = register(clerk)
    old_page = clerk.get(f"/staff/cases/{number}").get_data(as_text=True)
    old_version = int(re.search(r'name="version" value="(\d+)"', old_page).group(1))
    assert move(colleague, number, "accept", routing="单部门").status_code == 303
    stale = clerk.post(f"/staff/cases/{number}/move", data={
        "csrf_token": csrf_of(old_page), "action": "reject", "version": str(old_version),
        "reason": "不在范围", "redirect_unit": "区民政局"})
    assert stale.status_code == 409 and "案件已被他人修改，请刷新" in stale.get_data(as_text=True)
    case = the_case(app, number)
    assert case.state == s.ACCEPTED and case.reason is None
    stale_assign = clerk.post(f"/staff/cases/{number}/assign", data={
        "csrf_token": csrf_of(old_page), "staff_id": "me", "version": str(old_version)})
    assert stale_assign.status_code == 409
    with services_of(app).sessions() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "reject")) == 0


def test_a_post_without_its_csrf_token_is_refused(app):
    clerk = client_for(app, "lixy")
    number = register(clerk)
    version = the_case(app, number).version
    response = clerk.post(f"/staff/cases/{number}/move", data={"action": "accept", "routing": "单部门",
                                                              "version": str(version)})
    assert response.status_code == 400
    assert the_case(app, number).state == s.SCREENING
    assert clerk.post("/staff/cases/new", data=person_form()).status_code == 400


def test_a_refused_transition_shows_its_chinese_message_and_keeps_what_was_typed(app):
    clerk = client_for(app, "lixy")
    number = register(clerk)
    missing = move(clerk, number, "reject", reason="不属于帮办代办范围")
    html = missing.get_data(as_text=True)
    assert missing.status_code == 400 and "请填写：应去办理的单位。" in html and "不属于帮办代办范围" in html
    illegal = move(clerk, number, "finish", result="x", delivery="自取")
    assert illegal.status_code == 400 and "案件当前为“待甄别”，不能“办结”" in illegal.get_data(as_text=True)
    lead = move(clerk, number, "accept", routing="一件事一次办")
    assert lead.status_code == 400 and "牵头部门" in lead.get_data(as_text=True)
    case = the_case(app, number)
    assert case.state == s.SCREENING and case.routing is None
    with services_of(app).sessions() as session:
        assert [a for (a,) in session.execute(select(AuditEntry.action))] == ["open", "assign"]


def test_reject_and_terminate_tell_why(app):
    clerk = client_for(app, "lixy")
    number = register(clerk)
    assert move(clerk, number, "reject", reason="不属于帮办代办范围", redirect_unit="区民政局").status_code == 303
    case = the_case(app, number)
    assert (case.state, case.redirect_unit) == (s.REJECTED, "区民政局")
    html = clerk.get(f"/staff/cases/{number}").get_data(as_text=True)
    assert "不属于帮办代办范围" in html and "应到：区民政局" in html
    other = register(clerk)
    assert move(clerk, other, "terminate", termination_kind="申请人要求终止", reason="不办了",
                materials_returned="1").status_code == 303
    ended = the_case(app, other)
    assert ended.state == s.TERMINATED and ended.materials_returned is True


# ---- assignment and handovers ---------------------------------------------------------------------------------
def test_assign_to_me_and_to_a_colleague_of_the_unit_only(app):
    clerk = client_for(app, "lixy")
    number = register(clerk, assign_me="")
    assert the_case(app, number).assigned_staff_id is None
    page = clerk.get(f"/staff/cases/{number}").get_data(as_text=True)
    assert "陈志强" in page[page.index('id="assign-colleague"'):] and "王秀英" not in page
    version = the_case(app, number).version
    assert clerk.post(f"/staff/cases/{number}/assign", data={"csrf_token": csrf_of(page), "staff_id": "me",
                                                            "version": str(version)}).status_code == 303
    with services_of(app).sessions() as session:
        ids = {p.username: p.id for p in session.scalars(select(Staff))}
    assert the_case(app, number).assigned_staff_id == ids["lixy"]
    version = the_case(app, number).version
    assert clerk.post(f"/staff/cases/{number}/assign", data={
        "csrf_token": csrf_of(page), "staff_id": str(ids["chenzq"]), "reason": "AB岗替班",
        "version": str(version)}).status_code == 303
    assert the_case(app, number).assigned_staff_id == ids["chenzq"]
    version = the_case(app, number).version
    wrong = clerk.post(f"/staff/cases/{number}/assign", data={
        "csrf_token": csrf_of(page), "staff_id": str(ids["wangxy"]), "version": str(version)})
    assert wrong.status_code == 400 and the_case(app, number).assigned_staff_id == ids["chenzq"]
    trail = clerk.get(f"/staff/cases/{number}").get_data(as_text=True)
    trail = trail[trail.index('id="audit-trail"'):]
    assert "AB岗替班" in trail and "陈志强" in trail


def test_material_handover_both_ways_is_recorded_and_audited(app):
    clerk = client_for(app, "lixy")
    number = register(clerk)
    case = the_case(app, number)
    with services_of(app).sessions.begin() as session:
        session.add(MaterialRecord(case_id=case.id, position=1, name="本人身份证", status="有", updated_at=utcnow()))
    page = clerk.get(f"/staff/cases/{number}").get_data(as_text=True)
    for material, copies, direction, giver, receiver in [("本人身份证", "1", "收取", NAME, "李晓燕"),
                                                         ("租房合同复印件", "2", "移送", "李晓燕", "户政窗口"),
                                                         ("本人身份证", "1", "退还", "李晓燕", NAME)]:
        response = clerk.post(f"/staff/cases/{number}/handover", data={
            "csrf_token": csrf_of(page), "material": material, "copies": copies, "direction": direction,
            "giver": giver, "receiver": receiver})
        assert response.status_code == 303
    bad = clerk.post(f"/staff/cases/{number}/handover", data={"csrf_token": csrf_of(page), "material": "",
                                                             "copies": "0", "direction": "扔掉", "giver": "",
                                                             "receiver": "x"})
    assert bad.status_code == 400 and "请填写：材料名称、份数（1到999）、方向（收取/退还/移送）、移交人。" in \
        bad.get_data(as_text=True)
    with services_of(app).sessions() as session:
        rows = session.scalars(select(Handover).where(Handover.case_id == case.id).order_by(Handover.id)).all()
        assert [(h.material, h.copies, h.direction, h.giver, h.receiver) for h in rows] == [
            ("本人身份证", 1, "收取", NAME, "李晓燕"), ("租房合同复印件", 2, "移送", "李晓燕", "户政窗口"),
            ("本人身份证", 1, "退还", "李晓燕", NAME)]
        assert session.scalar(select(MaterialRecord.status).where(MaterialRecord.case_id == case.id)) == "已退"
        audits = session.scalars(select(AuditEntry).where(AuditEntry.action == "handover")).all()
        assert len(audits) == 3 and audits[1].detail == {"material": "租房合同复印件", "copies": 2, "direction": "移送"}
        assert NAME not in repr([a.detail for a in audits])
    html = client_for(app, "wangxy").get(f"/staff/cases/{number}").get_data(as_text=True)
    assert "租房合同复印件" in html and NAME not in html


def test_the_case_page_shows_the_evaluation(app):
    clerk = client_for(app, "lixy")
    number = register(clerk)
    with services_of(app).sessions.begin() as session:
        case = session.scalar(select(Case).where(Case.number == number))
        session.add(Evaluation(case_id=case.id, rating=2, comment="很耐心", channel="微信", at=utcnow()))
    html = clerk.get(f"/staff/cases/{number}").get_data(as_text=True)
    assert 'id="evaluation-label">满意' in html and "很耐心" in html
    assert clerk.get("/staff/cases/BB19990101-0001").status_code == 404


def test_the_flows_registry_is_asked_for_the_evaluation_flow():
    flows = pytest.importorskip("dialogs.flows")
    from bot.staff.cases import has_flow

    assert has_flow(flows, "evaluation") == (flows.REGISTRY.get("evaluation") is not None)
    assert not has_flow(flows, "no-such-flow")


def test_finishing_a_wechat_case_begins_the_real_evaluation_flow(app):
    flows = pytest.importorskip("dialogs.flows")
    if flows.REGISTRY.get("evaluation") is None:
        pytest.skip("no evaluation flow in dialogs.flows yet")
    with services_of(app).sessions.begin() as session:
        escalation = Escalation(openid="oCitizen0003", item_id=ITEM, catalogue_version="v", reason="asked",
                                status="taken", created_at=utcnow())
        session.add(escalation)
        session.flush()
        escalation_id = escalation.id
    clerk = client_for(app, "lixy")
    number = register(clerk, escalation=str(escalation_id))
    for action, inputs in [("accept", {"routing": "单部门"}), ("submit", {}),
                           ("finish", {"result": "居住证已制好", "delivery": "自取"})]:
        assert move(clerk, number, action, **inputs).status_code == 303
    state = services_of(app).parts["store"].get_state("oCitizen0003")
    assert state["flow"]["name"] == "evaluation" and state["flow"]["data"]["number"] == number
    assert state["flow"]["step"] == "rating"
    assert outbox(app)[-1].payload.endswith("请回复数字评价：1非常满意 2满意 3基本满意 4不满意 5非常不满意")
