"""Printable forms: each page carries the case's data under the seeds' labels, on A4, with a 打印 button."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from bot.cases import service
from bot.cases.models import CLERK, ENTERPRISE, PERSON, Case, Evaluation, FollowUp, Handover, Staff
from bot.staff.cases import calendar
from tests.staff_helpers import add_staff, console_app, login, services_of

NAME, PHONE, ID_NUMBER = "张三丰", "13812345678", "11010519491231002X"
OPENED = datetime(2026, 9, 30, 2, 15, tzinfo=timezone.utc)  # 10:15 on 30 September in the hall
CLOSED = datetime(2026, 10, 9, 7, 0, tzinfo=timezone.utc)
A4 = "@page { size: A4; margin: 15mm }"


@pytest.fixture
def app(tmp_path, monkeypatch):
    from bot.staff import auth

    monkeypatch.setattr(auth, "_failures", {})  # test_staff_auth locks names in this process-wide counter
    app = console_app(tmp_path)
    add_staff(app, "lixy", "区公安分局", CLERK, name="李晓燕")
    add_staff(app, "wangxy", "区民政局", CLERK, name="王秀英")
    return app


def make_case(app, kind: str = PERSON, end: str = "finish", coaching: str | None = None) -> str:
    """A case opened on 30 September 2026 and closed on 9 October (finished by mail, or terminated)."""
    with app.test_request_context():
        cal = calendar()
    sessions = services_of(app).sessions
    with sessions.begin() as session:
        clerk = session.scalar(select(Staff).where(Staff.username == "lixy"))
        if kind == ENTERPRISE:
            applicant = service.ApplicantDetails(
                kind=ENTERPRISE, name="广州某某商贸有限公司", phone="13900002222", credit_code="91350100M000100Y43",
                legal_representative="王五", agent_name="李四", agent_phone="13900002222",
                address="广州市天河区示例路2号")
        else:
            applicant = service.ApplicantDetails(kind=PERSON, name=NAME, phone=PHONE, id_number=ID_NUMBER,
                                                 address="广州市天河区示例大道8号")
        case = service.open_case(session, applicant=applicant, openid=None, item_id="EXT-015", item_title="居住证申领",
                                 catalogue_version="v1", unit_name="区公安分局", form="代办",
                                 promised_limit="15个工作日内", calendar=cal, channel="窗口", actor="staff:1",
                                 now=OPENED, coaching=coaching, delivery="邮寄", recipient_name="张小明",
                                 recipient_phone="13900001111",
                                 recipient_address="广州市天河区示例路1号2栋301室")
        service.assign(session, case, clerk, actor="staff:1", now=OPENED)
        for material, copies, direction, giver, receiver in [("本人身份证复印件", 2, "收取", NAME, "李晓燕"),
                                                             ("近期一寸彩色照片", 2, "收取", NAME, "李晓燕"),
                                                             ("居住证", 1, "退还", "李晓燕", NAME)]:
            session.add(Handover(case_id=case.id, material=material, copies=copies, direction=direction,
                                 giver=giver, receiver=receiver, at=OPENED, recorded_by=clerk.id))
        if end == "finish":
            for action, inputs in [("accept", {"routing": "单部门"}), ("submit", {}),
                                   ("finish", {"result": "居住证已制好", "delivery": "邮寄",
                                               "tracking_no": "SF1234567890"})]:
                service.move(session, case, action, inputs, actor="staff:1", calendar=cal, now=CLOSED)
            evaluation = Evaluation(case_id=case.id, rating=1, comment="服务很周到", channel="电话回访", at=CLOSED)
            session.add(evaluation)
            session.flush()
            session.add(FollowUp(case_id=case.id, evaluation_id=evaluation.id, unit_id=case.unit_id,
                                 method="电话回访", answer="群众表示满意", closed_by=clerk.id, closed_at=CLOSED,
                                 created_at=CLOSED))
        else:
            service.move(session, case, "terminate", {"termination_kind": "申请人要求终止", "reason": "申请人已自行办理",
                                                      "materials_returned": True},
                         actor="staff:1", calendar=cal, now=CLOSED)
        return case.number


def page(app, number: str, form: str, username: str = "lixy", query: str = "") -> str:
    client = app.test_client()
    login(client, username)
    response = client.get(f"/staff/cases/{number}/print/{form}{query}")
    assert response.status_code == 200, response.status_code
    html = response.get_data(as_text=True)
    assert A4 in html and 'id="print-button"' in html and "打印" in html
    assert 'class="toolbar noprint"' in html  # the button and links are hidden in print
    return html


def contains(html: str, *texts: str) -> None:
    missing = [t for t in texts if t not in html]
    assert not missing, missing


def test_the_application_form_of_a_person_003_attachment_5(app):
    number = make_case(app)
    html = page(app, number, "application")
    contains(html, "帮办代办服务申请表", "企业名称或群众姓名", "联系人员", "联系电话", "帮办代办事项", "帮办代办形式",
             "涉及部门", "结果领取", "申请材料", "明细及份数", "帮办代办窗口意见", "说明：此表一式两份，申请人和帮办代办窗口各一份。")
    contains(html, NAME, PHONE, "居住证申领", "☑ 代办", "☐ 帮办", "☐ 上门服务", "区公安分局", "☑ 快递邮寄",
             "☐ 自行领取", "张小明", "13900001111", "广州市天河区示例路1号2栋301室", "1. 本人身份证复印件 2份",
             "2. 近期一寸彩色照片 2份", "符合办理条件。", number)


def test_the_application_form_of_an_enterprise_000_attachment_1(app):
    number = make_case(app, kind=ENTERPRISE)
    html = page(app, number, "application")
    contains(html, "区公安分局政务服务事项", "“事前辅导、全程帮办”申请表", "申请单位基本情况", "申请单位名称", "（盖章）",
             "申请单位地址", "法人或主要负责人", "申请单位统一社会信用代码", "经办人", "（本人手签）", "经办人联系电话",
             "申请办理政务服务事项名称", "事前辅导事项名称", "（选填）", "代办内容", "申请日期",
             "行政审批工作人员（帮办代办人员）填写", "代办人", "（代办人手签）", "代办申请接收时间", "法律责任",
             "1. 申请人填报本表格视为同意授权委托审批工作人员（帮办代办人员）开展相关服务，相关服务产生的法律后果及法律责任由申请人承担。",
             "2. 经办人非单位法人的，应当提交授权委托书。")
    contains(html, "广州某某商贸有限公司", "广州市天河区示例路2号", "王五", "91350100M000100Y43", "李四", "13900002222",
             "居住证申领", "☑ 大厅综合窗口受理", "☐ 大厅综合窗口办结领证", "☐ 上门送达办理结果", "☑ 邮寄送达办理结果",
             "☐ 事前辅导", "2026年9月30日", "2026年9月30日 10时15分", "李晓燕")
    person = page(app, number, "application", query="?variant=person")
    contains(person, "帮办代办服务申请表", "企业名称或群众姓名", "广州某某商贸有限公司", "李四")


def test_the_enterprise_form_names_the_coaching_and_ticks_its_box(app):
    number = make_case(app, kind=ENTERPRISE, coaching="环评专家评审前的材料准备")
    html = page(app, number, "application")
    assert re.search(r'<td colspan="5" id="coaching">环评专家评审前的材料准备</td>', html)
    contains(html, "☑ 事前辅导", "☑ 邮寄送达办理结果")


def test_the_mandate_004_attachment_2(app):
    number = make_case(app)
    html = page(app, number, "mandate", query="?from=材料准备&to=邮寄送达")
    contains(html, "代办服务委托书", "委托人：", "统一社会信用代码/身份证号码：", "工作人员代办", "事项/项目，从", "环节到",
             "环节的申报事宜。并承诺：", "一、配合编制报批计划，准备申报材料，在帮办代办服务窗口指导下进行有序申报；",
             "四、对申报材料的真实合法性负责，并承担相应的法律责任；", "五、在代办事项完成后，配合填写《帮办代办服务评价表》；",
             "配合填写《代办服务终止单》，终止帮办代办服务。",
             "受托人在办理上述事宜的过程中，所签署的有关文件，委托人均予以认可，承担相应法律责任。", "代办员签字：", "年　　月　　日")
    contains(html, NAME, ID_NUMBER, "居住证申领", "材料准备", "邮寄送达", "委托人签字：")
    enterprise = page(app, make_case(app, kind=ENTERPRISE), "mandate")
    contains(enterprise, "单位（盖章）", "法定代表人签字：", "91350100M000100Y43", "申请受理")


def test_the_handover_sheet_003_attachment_6(app):
    number = make_case(app)
    html = page(app, number, "handover")
    contains(html, "帮办代办事项所涉材料交接表", "企业名称或群众姓名", "联系人员", "联系电话", "帮办代办事项", "帮办代办形式",
             "材料清单及份数", "移交人签字", "接收人签字",
             "说明：1.此表用于记录帮办代办窗口和所涉部门间帮办代办事项申请材料和办结结果材料的交接情况。", "2.此表可视情况一式多份。")
    contains(html, NAME, PHONE, "1. 本人身份证复印件 2份（收取", "3. 居住证 1份（退还", "李晓燕", "10.")


def test_the_termination_sheet_004_attachment_3(app):
    number = make_case(app, end="terminate")
    html = page(app, number, "termination")
    contains(html, "代办服务终止单", f"编号：{number}", "兹有代办事项", "（编码：", "现因", "经双方认可，于",
             "终止代办委托，有关资料已向委托单位/委托人移交完毕。", "代办员签字：",
             "备注：终止委托单一式两份，一份申请人留存，一份帮办代办窗口留存。")
    contains(html, "居住证申领", "EXT-015", "申请人要求终止：申请人已自行办理", '<span class="fill">2026</span>年',
             '<span class="fill">10</span>月', '<span class="fill">9</span>日')
    open_case = page(app, make_case(app), "termination")
    assert "案件尚未终止" in open_case


def test_the_completion_sheet(app):
    number = make_case(app)
    html = page(app, number, "completion")
    contains(html, "代办服务办结单", f"编号：{number}", "兹有代办事项", "办理结果", "结果领取方式", "移交资料及份数",
             "经申请人签字确认后，该次委托代办服务结束。", "申请人签字：", "代办员签字：")
    contains(html, "居住证申领", NAME, "2026年9月30日", "居住证已制好", "☑ 快递邮寄", "SF1234567890",
             "1. 居住证 1份（李晓燕 → 张三丰")


def test_the_feedback_and_rating_sheet_003_attachment_7(app):
    number = make_case(app)
    html = page(app, number, "evaluation")
    contains(html, "帮办代办服务事项反馈情况表", "帮办代办事项基本情况", "企业名称或群众姓名", "联系人员", "联系电话",
             "帮办代办事项", "帮办代办形式", "反馈结果情况", "反馈材料名称及份数", "移交人、接收人签字", "快递单号",
             "（若是快递送达，则需要填写快递单号，附上快递寄送单）", "评价方式：", "意见建议：", "评价情况", "回访人", "回访时间")
    contains(html, NAME, PHONE, "居住证申领", "居住证 1份", "SF1234567890", "☑ 电话回访", "☐ 现场评价", "服务很周到",
             "☑ 非常满意", "☐ 满意", "☐ 基本满意", "☐ 不满意", "☐ 非常不满意", "李晓燕", "2026年10月9日 15时00分",
             "群众表示满意")


def test_printing_needs_the_right_to_see_personal_data_and_a_known_form(app):
    number = make_case(app)
    client = app.test_client()
    login(client, "wangxy")
    for form in ("application", "mandate", "handover", "termination", "completion", "evaluation"):
        assert client.get(f"/staff/cases/{number}/print/{form}").status_code == 403
    mine = app.test_client()
    login(mine, "lixy")
    assert mine.get(f"/staff/cases/{number}/print/passport").status_code == 404
    assert app.test_client().get(f"/staff/cases/{number}/print/application").status_code == 302
    with services_of(app).sessions() as session:
        assert session.scalar(select(Case.state).where(Case.number == number)) == "已办结"
