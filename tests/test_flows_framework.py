"""The flow framework: declarations checked at import, the registry, begin_flow for the gateway, stored flows that
no longer fit, and the shared behaviour of every step on a small flow of its own."""
from __future__ import annotations

import textwrap
from datetime import datetime

import pytest

from dialogs import flows
from dialogs.flows import (CONFIRM, Begin, Flow, FlowError, Goto, Option, Registry, Reply, Step, begin_flow, check,
                           current_question, paused_note)
from dialogs.flows._cases import find_case_number
from dialogs.intents import BOOK, PROGRESS
from dialogs.recognise import Parsed, parse_mobile, parse_name
from dialogs.state import fresh
from flow_helpers import MONDAY, RESIDENCE, converse, env_at


def name_step(**changes) -> Step:
    return Step(**{"name": "name", "ask": "您的姓名？", "recognise": lambda text, ctx: parse_name(text),
                   "label": "姓名", "fix": ("名字", "姓名"), **changes})


def mobile_step(**changes) -> Step:
    return Step(**{"name": "mobile", "ask": "您的手机号？", "recognise": lambda text, ctx: parse_mobile(text),
                   "label": "手机号", "fix": ("手机号", "电话"), **changes})


def a_flow(**changes) -> Flow:
    values = {"name": "signup", "title": "登记", "steps": (name_step(), mobile_step()), "words": (r"^登记$",),
              "summary": lambda ctx: f"姓名：{ctx.data['name']}\n手机号：{ctx.data['mobile']}",
              "finish": lambda ctx: Reply((f"登记好了，{ctx.data['name']}。",))}
    values.update(changes)
    return Flow(**values)


# --- declarations ------------------------------------------------------------------------------------------------

def test_every_flow_module_is_discovered_and_its_declarations_check_out():
    assert {"booking", "reschedule", "cancel_booking", "progress"} <= set(flows.REGISTRY.flows)
    for flow in flows.REGISTRY.flows.values():
        check(flow)
    assert flows.for_intent(BOOK).name == "booking" and flows.for_intent(PROGRESS).name == "progress"


@pytest.mark.parametrize("changes, complaint", [
    ({"name": "Sign Up"}, "lower-case"),
    ({"title": ""}, "title"),
    ({"steps": ()}, "non-empty"),
    ({"steps": (name_step(), name_step())}, "used twice"),
    ({"steps": (name_step(name=CONFIRM),)}, "step name"),
    ({"steps": (name_step(name="_name"),)}, "step name"),
    ({"steps": (name_step(ask=""),)}, "question"),
    ({"steps": (name_step(recognise=None),)}, "recognise, options"),
    ({"steps": (name_step(jumps=("nowhere",)),)}, "does not exist: 'nowhere'"),
    ({"jumps": ("nowhere",)}, "finish jumps"),
    ({"steps": (name_step(), mobile_step(fix=("名字",)))}, "also names step 'name'"),
    ({"steps": (name_step(label=None),)}, "need a label"),
    ({"steps": (name_step(retry="太长" * 400),)}, "too long"),
    ({"triggers": ("help",)}, "not one of the intents"),
    ({"words": ("(",)}, "not a regular expression"),
    ({"summary": None, "on_no": lambda ctx: Reply(("好",))}, "on_no"),
])
def test_a_bad_declaration_fails_with_a_message_saying_what_is_wrong(changes, complaint):
    with pytest.raises(FlowError, match=complaint.replace("(", r"\(")):
        Registry().add(a_flow(**changes))


def test_two_flows_may_not_share_a_name_or_a_trigger():
    registry = Registry()
    registry.add(a_flow(triggers=(BOOK,)))
    with pytest.raises(FlowError, match="declared twice"):
        registry.add(a_flow())
    with pytest.raises(FlowError, match="already starts 'signup'"):
        registry.add(a_flow(name="other", triggers=(BOOK,)))


def test_a_module_in_the_package_without_flows_fails_at_import(tmp_path, monkeypatch):
    package = tmp_path / "someflows"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "helper.py").write_text(textwrap.dedent("""\
        X = 1
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(FlowError, match="must export FLOWS"):
        Registry().discover("someflows", [str(package)])


# --- a small flow of its own: the shared behaviour of every step ------------------------------------------------

@pytest.fixture
def signup(monkeypatch):
    registry = Registry()
    registry.add(a_flow())
    monkeypatch.setattr(flows, "REGISTRY", registry)
    return env_at()


def test_a_flow_started_by_its_words_asks_each_step_then_the_summary_then_finishes(signup):
    turns = converse(signup, [("登记", ["您的姓名"]), ("张三", ["您的手机号"]), ("13800138000", ["姓名：张三", "回复“是”提交"]),
                              ("是", ["登记好了，张三"])])
    assert turns[-1].state["flow"] is None


def test_back_from_the_summary_goes_to_the_last_step_and_answering_it_returns_to_the_summary(signup):
    converse(signup, [("登记", []), ("张三", []), ("13800138000", []),
                      ("返回", ["回到上一步", "刚才填的是：13800138000", "您的手机号"]),
                      ("13912345678", ["手机号：13912345678", "姓名：张三"])])


def test_a_correction_naming_a_step_not_answered_yet_is_taken_as_an_answer(signup):
    converse(signup, [("登记", []), ("手机号是13800138000", ["姓名"])])


def test_yes_or_no_at_the_summary_and_anything_else_asks_again(signup):
    turns = converse(signup, [("登记", []), ("张三", []), ("13800138000", []),
                              ("什么意思", ["请回复“是”提交"]), ("不是", ["要改哪一项", "1. 姓名：张三", "2. 手机号"]),
                              ("2", ["我们改一下手机号"]), ("13912345678", ["手机号：13912345678"])])
    assert turns[3].state["flow"]["fails"] == 1


def test_a_goto_outside_the_declared_jumps_is_a_programming_error(monkeypatch):
    registry = Registry()
    registry.add(a_flow(steps=(name_step(validate=lambda value, ctx: Goto("mobile")), mobile_step())))
    monkeypatch.setattr(flows, "REGISTRY", registry)
    with pytest.raises(FlowError, match="not in its jumps"):
        converse(env_at(), [("登记", []), ("张三", [])])


def test_options_are_numbered_and_picked_by_number_or_name(monkeypatch):
    colour = Step("colour", ask="选一个：", label="颜色",
                  options=lambda ctx: [Option("红", "红色", ("红色",)), Option("蓝", "蓝色", ("蓝色",))])
    registry = Registry()
    registry.add(a_flow(steps=(colour,), summary=None, finish=lambda ctx: Reply((f"选了{ctx.data['colour']}",))))
    monkeypatch.setattr(flows, "REGISTRY", registry)
    converse(env_at(), [("登记", ["选一个", "1. 红色", "2. 蓝色"]), ("3", ["请回复数字1到2", "1. 红色"]), ("2", ["选了蓝"])])
    converse(env_at(), [("登记", []), ("要蓝色的", ["选了蓝"])])


# --- from outside a turn, and stored flows that no longer fit ---------------------------------------------------

def test_the_gateway_begins_a_flow_and_sends_its_first_question():
    env = env_at()
    state = begin_flow(None, "booking", {"item": RESIDENCE}, MONDAY)
    assert state["flow"] == {"name": "booking", "step": "form", "data": {"item": RESIDENCE, "_begin": ["item"]},
                             "fails": 0}
    state, question = current_question(state, env)
    assert "请选择服务方式" in question
    converse(env, [("1", ["个人还是企业"])], state=state)


def test_begin_flow_keeps_the_rest_of_the_conversation_and_refuses_bad_input():
    before = {**fresh(MONDAY), "item": RESIDENCE, "group": "老年人"}
    after = begin_flow(before, "booking", {"item": RESIDENCE}, datetime(2026, 11, 23, 11, tzinfo=MONDAY.tzinfo))
    assert after["group"] == "老年人" and after["updated"].startswith("2026-11-23T11:00")
    with pytest.raises(FlowError, match="no flow named"):
        begin_flow(None, "nonsense", {}, MONDAY)
    with pytest.raises(FlowError, match="plain JSON"):
        begin_flow(None, "booking", {"item": object()}, MONDAY)
    with pytest.raises(FlowError, match="string keys"):
        begin_flow(None, "booking", {"_begin": []}, MONDAY)


@pytest.mark.parametrize("record", [
    {"name": "gone", "step": "x", "data": {}},
    {"name": "booking", "step": "nope", "data": {"item": RESIDENCE}},
    {"name": "booking", "step": "mobile", "data": "not a dict"},
    {"name": "booking", "step": "form", "data": {"item": "EXT-999999"}},
])
def test_a_stored_flow_that_no_longer_fits_is_dropped_politely(record):
    state = {**fresh(MONDAY), "flow": record}
    turns = converse(env_at(), [("13800138000", ["接不上了", "重新开始"])], state=state)
    assert turns[0].state["flow"] is None


def test_a_stored_count_of_failures_that_is_not_a_number_starts_again_from_zero():
    state = begin_flow(None, "booking", {"item": RESIDENCE}, MONDAY)
    state["flow"]["fails"] = "many"
    turns = converse(env_at(), [("紫色", ["请回复数字"])], state=state)
    assert turns[0].state["flow"]["fails"] == 1


def test_the_paused_note_names_the_flow_in_progress():
    assert paused_note(fresh(MONDAY)) is None
    assert "预约帮办代办" in paused_note(begin_flow(None, "booking", {"item": RESIDENCE}, MONDAY))


@pytest.mark.parametrize("text, number", [("BB20261122-0007", "BB20261122-0007"), ("bb20261122-7", "BB20261122-0007"),
                                          ("编号BB202611220007的进度", "BB20261122-0007"),
                                          ("ＢＢ２０２６１１２２－０００７", "BB20261122-0007"), ("12345", None)])
def test_case_numbers_are_found_however_they_are_typed(text, number):
    assert find_case_number(text) == number


def test_begin_is_data_and_a_start_may_answer_at_once():
    assert Begin().data == {} and Reply(("好",)).effects == ()
    assert Parsed("x").ok
