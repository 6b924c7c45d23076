"""What to answer to a text (or a recognised voice message), given the conversation so far.

In this order:
0. the flow in progress, if any (dialogs/flows/: booking, progress …), which has its own 取消/返回/帮助;
1. commands that always work: 帮助/菜单/你好, 取消/返回/重新开始, 转人工; then flows started by their words
   ("改约 BB20261122-0007", a case number);
2. the numbered list just shown: "1", "２", "第二个", "二", or a choice's own name. Numbers always refer to the
   list in the last message: any other turn drops it;
3. the other commands: 预约, 材料清单, 查进度, 详情, 谢谢 …;
4. a follow-up about the item being discussed (or, right after numbered choices, about one of them: which?)
   ("要带什么材料", "在哪办", "电话多少", "身份证要带吗") that does not name another item: that part of the guide,
   for that item;
5. a fresh consultation: answer (remember the item), numbered choices (remember them), or decline; a decline while
   an item is discussed says so for that item ("关于【居住证申领】，这个问题我答不上来", and what can be asked).

A question only "names another item" when the matcher answers a different item with confidence, or offers choices
that do not include the current item ("驾照在哪办" while talking about 居住证); choices for a condition do not count
("外地户口能办吗" asks who may apply). A tentative lone match does not count either: "它收费吗" stays with the
current item. Right after choices, or with no item yet, a question about a matter the catalogue does not have is
declined as such ("孩子上学要什么证明"), not taken for a follow-up about the choices.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from . import flows, wording
from .consult import (BRING, FIELD_ORDER, TENTATIVE, asked_before, asked_field, booking_text, bring_answer,
                      choices_text, facts, field_answer, full_answer, materials_list, named_besides_cues,
                      names_a_matter, not_answered_text, reply)
from .effects import EndHandoff, Escalate
from .intents import (BOOK, CANCEL, CONSULT, DETAILS, END_HUMAN, HELP, HUMAN, MATERIALS, MENU, PROGRESS, THANKS,
                      command, only_the_command)
from .outcome import Outcome  # noqa: F401  (here for the modules that import it from talk)
from .parse import choice_number, plain, without_emoticons
from .state import ASKED_CHARS, State
from .text import WECHAT_TEXT_LIMIT, clip
from .workdays import Calendar, is_open, next_opening

if TYPE_CHECKING:
    from knowledge.model import Item
    from knowledge.query import Query
    from knowledge.service import Consultation

    from .engine import Env
    from .views import HandoffOutlook


def _next(state: State, **changes) -> State:
    """The state for the next turn: the numbered list and the help menu are gone unless shown again."""
    return {**state, "choices": [], "menu": False, "want": None, **changes}


# ---------------------------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------------------------

def run_command(intent: str, state: State, env: "Env", budget: int, question: str | None = None) -> Outcome:
    """A command from a word, the numbered help menu or the custom menu."""
    hall = env.hall.hall
    item = env.catalogue.get(state["item"]) if state["item"] else None
    flow = flows.for_intent(intent)
    if flow is not None and not flow.needs_item:  # 查进度 …; a flow for an item starts in about_item
        started = flows.start(flow.name, state, env, budget, text=question)
        if started is not None:
            return started
    if intent == HELP:
        return Outcome(_next(state, menu=True), [wording.help_text(hall)])
    if intent == CANCEL:
        if state["human"] and not state["flow"]:  # waiting for a person, nothing else to cancel: leave the queue
            return Outcome(_next(state, item=None, human=None), [wording.CANCELLED_AND_LEFT_QUEUE], [EndHandoff()])
        return Outcome(_next(state, item=None), [wording.CANCELLED])
    if intent == HUMAN:
        outlook = handoff_outlook(env, green=bool(state["group"]))
        if state["human"]:  # already in the queue: no second place in it
            return Outcome(_next(state), [wording.still_queued_text(outlook)])
        waiting, effect = escalate(state, env, "asked", question)
        text = (wording.queued_text(outlook, green=bool(state["group"])) if outlook
                else wording.escalated_text(hall, item.title if item else None))
        kept = flows.paused_note(state)  # a flow in progress keeps its answers for when the citizen goes on
        return Outcome(_next(waiting), [text + "\n" + kept if kept else text], [effect])
    if intent == END_HUMAN:
        if not state["human"]:
            return Outcome(_next(state), [wording.NO_HANDOFF])
        text = wording.HANDOFF_ENDED if state["human"]["status"] == "taken" else wording.HANDOFF_LEFT
        return Outcome(_next(state, human=None), [text], [EndHandoff()])
    if intent == CONSULT:
        return Outcome(_next(state), [wording.CONSULT_INVITE])
    if intent == PROGRESS:
        return Outcome(_next(state), [wording.progress_text(hall, env.open_case)])
    if intent == THANKS:
        return Outcome(_next(state, item=state["item"]), [wording.THANKS])
    if intent in (BOOK, MATERIALS, DETAILS):
        if item and not state["choices"]:  # numbered choices just shown: the citizen has moved on from the item
            return about_item(state, item.id, intent, env, budget)
        return ask_item(state, intent, env, budget)
    return Outcome(_next(state, menu=True), [wording.help_text(hall)])


def handoff_outlook(env: "Env", green: bool = False) -> "HandoffOutlook | None":
    """Who answers 转人工 now, and when (None: the gateway did not say; the wording then names the hours).

    For a 绿色通道 citizen the gateway counts only the green-channel conversations ahead (`priority=True`).
    """
    if env.handoff_outlook is None:
        return None
    return env.handoff_outlook(priority=True) if green else env.handoff_outlook()


def escalate(state: State, env: "Env", reason: str, question: str | None = None) -> tuple[State, Escalate]:
    """Put the conversation in the staff queue: the state now waiting for a person, and the effect that does it.

    The escalation carries the item being discussed, the question (the message itself unless it says nothing but
    转人工, then the last question), the recent conversation and the 绿色通道 group.
    """
    asked = question if question and not only_the_command(question) else state["asked"]
    effect = Escalate(reason=reason, item_id=state["item"], catalogue_version=env.catalogue.version,
                      last_question=asked[:ASKED_CHARS] if asked else None,
                      history=tuple((d, t) for d, t in state["log"]), priority_group=state["group"])
    return {**state, "human": {"id": None, "status": "waiting"}, "misses": 0}, effect


def ask_item(state: State, want: str, env: "Env", budget: int) -> Outcome:
    """Which item? Re-show the numbered choices when there are some, otherwise ask for the item's name."""
    if state["choices"]:
        head = {BOOK: wording.PICK_TO_BOOK, MATERIALS: wording.PICK_FOR_MATERIALS}.get(want, wording.PICK)
        text = choices_text(_titles(state["choices"], env), budget, head=head)
        return Outcome(_next(state, choices=state["choices"], want=want), [text])
    text = {BOOK: wording.ASK_ITEM_TO_BOOK, MATERIALS: wording.ASK_ITEM_FOR_MATERIALS}.get(want, wording.ASK_ITEM)
    return Outcome(_next(state, want=want), [text])


def about_item(state: State, item_id: str, want: str | None, env: "Env", budget: int,
               tentative: bool = False, before: Sequence[str] = ()) -> Outcome:
    """Answer about one item what the citizen wants of it (and the parts of the guide asked `before` it in the same
    question), and make it the item being discussed."""
    item = env.catalogue.get(item_id)
    f = facts(item, env.hall)
    if tentative:
        budget -= len((TENTATIVE + "\n").encode("utf-8"))
    flow = flows.for_intent(BOOK if want == "booking" else want)
    started = flows.start(flow.name, _next(state, item=item_id), env, budget) if flow and flow.needs_item else None
    if started is not None:
        if tentative:
            started.replies[0] = TENTATIVE + "\n" + started.replies[0]
        return started
    if want == BOOK or want == "booking":
        replies = [booking_text(f, env.hall, budget)]
    elif want == MATERIALS:
        replies = materials_list(f, budget)
    else:
        replies = [(field_answer(f, want, budget, before) if want in FIELD_ORDER else None)
                   or full_answer(f, limit=budget)]
    if tentative:
        replies[0] = TENTATIVE + "\n" + replies[0]
    return Outcome(_next(state, item=item_id), replies)


# ---------------------------------------------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------------------------------------------

def _picked(state: State, text: str, env: "Env", budget: int) -> Outcome | None:
    """The item the citizen picked from the numbered choices, by number ("2", "2要带什么") or by name."""
    choices = state["choices"]
    pick = choice_number(text)
    if pick and 1 <= pick[0] <= len(choices):
        want = _want_of(pick[1], env) if pick[1] else state["want"]
        return about_item(state, choices[pick[0] - 1], want, env, budget)
    named = _named_choice(text, choices, env) if not pick else None
    return about_item(state, named, state["want"], env, budget) if named else None


def _titles(ids: list[str], env: "Env") -> list[str]:
    return [env.catalogue.get(i).title for i in ids]


def _want_of(text: str, env: "Env") -> str | None:
    """What a short request asks of an item: BOOK, MATERIALS, DETAILS or a guide field ("要带什么" -> materials)."""
    intent = command(text)
    if intent in (BOOK, MATERIALS, DETAILS):
        return intent
    return _field(env.consult(text))


def _field(consultation: "Consultation") -> str | None:
    fields = consultation.query.fields
    return asked_field(fields) or ("booking" if "booking" in fields else None)


def _named_choice(text: str, choices: list[str], env: "Env") -> str | None:
    """The choice the citizen typed by name: its whole name, or a part no other choice shares."""
    words = plain(text)
    if len(words) < 2:
        return None
    names = {i: plain(env.catalogue.get(i).title) for i in choices}
    exact = [i for i, name in names.items() if name == words or plain(env.catalogue.get(i).name) == words]
    if len(exact) == 1:
        return exact[0]
    inside = [i for i, name in names.items() if words in name or (len(name) >= 4 and name in words)]
    return inside[0] if len(inside) == 1 else None


def _names_an_item(consultation: "Consultation") -> bool:
    decision = consultation.decision
    return decision.kind == "clarify" or (decision.kind == "answer" and not decision.tentative)


def _names_another_item(consultation: "Consultation", item_id: str, env: "Env") -> bool:
    decision = consultation.decision
    current = env.catalogue.get(item_id)
    if not named_besides_cues(consultation.query):  # "要等几天", "补办要多久", "学生可以办吗": nothing named but how it asks
        return False
    if decision.kind == "answer":  # tentative only when it names the whole item ("…想办个低保能不能上门来办")
        other = decision.choices[0]
        return (not decision.tentative or other.coverage >= 1.0) and other.id != item_id \
            and other.name not in (current.name, current.title)
    if decision.kind == "clarify":  # "外地户口能办吗", "没有社保能办吗": who may apply, not another matter
        return item_id not in {h.id for h in decision.choices} and _field(consultation) != "condition"
    return False


def _cued_field(state: State, consultation: "Consultation", env: "Env") -> str | None:
    """A follow-up in words fields.txt does not list ("要等几天", "要花钱吗", "老伴能替我去吗"): the part of the guide
    its last cue word points at (knowledge/data/lexicon/field_cues.txt; failing those, field_hints.txt), unless it
    names an action on a thing ("出生证明丢了能补吗"; asking to book is about the item at hand), something the
    matcher found ("婚姻登记处在哪"), or how to do a thing it names ("小孩上幼儿园报名咋弄")."""
    query = consultation.query
    found = next((f for f in query.cued_fields if f in FIELD_ORDER or f in ("booking", "process", BRING)), None)
    if found == "hours" and any(field == "booking" for field, _ in query.cues):
        found = "booking"  # "帮我约个明天上午的号": when is said to book, not to ask the opening hours
    cue = "materials" if found == BRING else found
    if cue is None or _names_another_item(consultation, state["item"], env):
        return None
    # what it names besides the words it asks with ("流程复杂不", "具体步骤说下": 复杂 and 具体步骤 ask how it is done)
    named = named_besides_cues(query, found)
    if query.actions and named_besides_cues(query) and not (cue == "booking" and query.actions == {"预约"}):
        return None  # "出生证明丢了能补吗": an action on a thing; "审批要几个工作日", "去之前要预约不": this item's
    if cue == "process" and named:  # "孙子上小学报名咋弄": how to do what it names
        return None
    if named and consultation.decision.kind != "decline":
        return None  # "婚姻登记处在哪": the matcher found what it names, let the question be answered as asked
    return cue


def _strays(consultation: "Consultation", item_ids: list[str], env: "Env") -> bool:
    """The question names a matter of its own: words the matcher placed nowhere and that the guides of the items at
    hand never mention ("孩子上学要什么证明" right after the 护照 choices). It is a new question, not a follow-up."""
    if consultation.decision.kind != "decline" or not names_a_matter(consultation.query):
        return False
    words = consultation.query.topic_words
    guides = [_guide_text(env.catalogue.get(i)) for i in item_ids]
    return not any(word in guide for word in words for guide in guides)


def _around_the_phrase(query: "Query", wanted: str) -> str | None:
    """The part of the guide a longer cue word asks about when it holds the phrase that named `wanted` ("去哪拿"
    holds 去哪, "约个时间" holds 时间): the longer words say more precisely what is asked."""
    phrases = [t.text for run in query.runs for t in run if t.field and asked_field((t.field,)) == wanted]
    for field, word in query.cues:
        part = "materials" if field == BRING else field
        if part != wanted and (part in FIELD_ORDER or part in ("booking", "process")) \
                and any(phrase in word and phrase != word for phrase in phrases):
            return part
    return None


_OF_A_MATTER = frozenset({"materials", BRING, "place", "time", "fee", "result", "process"})  # not who applies or goes


def _strays_from_item(consultation: "Consultation", item_id: str, env: "Env", asked: str | None) -> bool:
    """A follow-up that asks where, what to bring, how long, how much or how, of a matter of its own no item was
    found for, or only guessed at: what an item's name calls it, and the guide of the item at hand never mentions
    ("公积金贷款在哪办", "房子过户要啥手续" while 居住证 is discussed). It is a new question, not one about this
    item's place or materials. Who may apply and who may go are asked with the citizen's own circumstances
    ("我家里有套房子，还符合要求吗", "我住院了，家里人替我去行不行"), which are no matter of their own."""
    decision = consultation.decision
    guessed = decision.kind == "answer" and decision.tentative
    if asked not in _OF_A_MATTER or not (decision.kind == "decline" or guessed):
        return False
    query = consultation.query
    asking = [word for _, word in query.cues]  # 窗口 in "去哪个窗口": how it asks, not what
    guide = _guide_text(env.catalogue.get(item_id))
    return any(word not in guide and not any(cue in word or word in cue for cue in asking)
               for word in query.catalogue_words)


def _still_about(item_id: str, consultation: "Consultation", env: "Env") -> bool:
    """A message not understood is still about the item being discussed when it names nothing its guide does not
    ("然后呢", "那怎么办"), not when it names something else ("户口本丢了", "新房子装水表找谁")."""
    if names_a_matter(consultation.query):
        return False
    guide = _guide_text(env.catalogue.get(item_id))
    return all(word in guide for word in consultation.query.topic_words)


def _guide_text(item: "Item") -> str:
    return "\n".join([item.title, item.catalogue_name or "", item.conditions or "", item.faq or "", item.location or "",
                      *item.materials, *item.audience])


def handle_text(state: State, text: str, env: "Env", budget: int = WECHAT_TEXT_LIMIT) -> Outcome:
    said = without_emoticons(text)
    if not said:  # "[微笑]", "[强]": nothing to act on, nothing misunderstood either
        kept = flows.paused_note(state)
        return Outcome(_next(state, item=state["item"]),
                       [wording.EMOTICONS_ONLY + ("\n" + kept if kept else "")])
    text = said
    if state["choices"] and state.get("flow"):  # choices offered for a question asked in the middle of a flow
        picked = _picked(state, text, env, budget)
        if picked is not None:
            return flows.with_paused_note(picked, budget)
    in_flow = flows.continue_flow(state, text, env, budget)  # a flow in progress answers first (not 转人工)
    if in_flow is not None:
        return in_flow
    intent = command(text)
    if intent in (HELP, CANCEL, HUMAN, END_HUMAN):
        return run_command(intent, state, env, budget, question=text)
    worded = flows.triggered(state, text, env, budget)  # "改约 BB20261122-0007", a case number …
    if worded is not None:
        return worded

    pick = choice_number(text)
    if state["choices"]:
        picked = _picked(state, text, env, budget)
        if picked is not None:
            return picked
        choices = state["choices"]
        if pick:
            head = f"没有第{pick[0]}项。请回复1到{len(choices)}之间的数字："
            return Outcome(_next(state, choices=choices, want=state["want"]),
                           [choices_text(_titles(choices, env), budget, head=head)], miss=True)
    elif state["menu"] and pick and not pick[1]:
        number = pick[0]
        if 1 <= number <= len(MENU):
            return run_command(MENU[number - 1][0], state, env, budget)
        return Outcome(_next(state, menu=True), [wording.menu_reask(len(MENU), env.hall.hall)], miss=True)
    elif pick and not pick[1]:  # "2" with no list shown: nothing to pick from
        return Outcome(_next(state, item=state["item"]), [wording.NO_LIST], miss=True)

    if intent is not None:
        return run_command(intent, state, env, budget, question=text)

    consultation = env.consult(text)
    asked = text.strip()[:ASKED_CHARS]
    wanted = _field(consultation)
    item_id = state["item"]
    if wanted and item_id:  # "去哪拿": the cue around 去哪 asks where to collect, not where to apply
        wanted = _around_the_phrase(consultation.query, wanted) or wanted
    if wanted == "condition" and item_id:  # "网上能不能直接办": a bare 能不能 yields to what the cue words ask
        wanted = _cued_field(state, consultation, env) or wanted
    brings = BRING in consultation.query.fields or consultation.query.cued_fields[:1] == (BRING,)  # "要拿过去不"
    if brings and (item_id or state["choices"]):  # "结婚证要带吗": for the item at hand
        return _bring(state, consultation, asked, env, budget)
    part = wanted or ("process" if "process" in consultation.query.fields else None) \
        or next(iter(consultation.query.cued_fields), None)
    strays = bool(item_id) and _strays_from_item(consultation, item_id, env, part)
    cued = _cued_field(state, consultation, env) if item_id and not wanted and not state["choices"] and not strays \
        else None
    if cued == "materials" and consultation.query.topic_words:  # "要带户口本吗"
        return _bring(state, consultation, asked, env, budget)
    if cued:
        outcome = about_item(state, item_id, cued, env, budget)
        outcome.state["asked"] = asked
        return outcome
    if wanted == "hours" and not item_id and not _names_an_item(consultation):  # the hall's hours, for every matter
        return Outcome(_next(state, choices=state["choices"], asked=asked), [hall_hours(env, budget)])
    if wanted and state["choices"] and not _names_an_item(consultation) \
            and not _strays(consultation, state["choices"], env):
        return ask_item({**state, "asked": asked}, wanted, env, budget)  # "在哪办" right after choices: which one?
    if item_id and wanted and not strays and not _names_another_item(consultation, item_id, env):
        outcome = about_item(state, item_id, wanted, env, budget, before=asked_before(consultation.query))
        outcome.state["asked"] = asked
        return outcome
    return _consult(state, consultation, asked, wanted, env, budget)


def _bring(state: State, consultation: "Consultation", asked: str, env: "Env", budget: int) -> Outcome:
    """Whether to bring a thing is asked of the item at hand, never of the item the thing names ("结婚证要带吗"
    while 离婚登记 is discussed is not about 补领婚姻登记证); right after choices: for which of them?"""
    if state["choices"]:
        return ask_item({**state, "asked": asked}, "materials", env, budget)
    item = env.catalogue.get(state["item"])
    things = [t for t in _things(consultation.query) if t not in item.title]  # 离婚 in "离婚协议书要带吗"
    answer = bring_answer(facts(item, env.hall), things, budget)
    return Outcome(_next(state, item=state["item"], asked=asked), [answer])


_AROUND_A_THING = "我你他的还也都又要需用得吗呢啊嘛吧呀那这个些，,。？?！! "


def _things(query: "Query") -> list[str]:
    """What "…要带吗" asks about, in the citizen's words (户口本) and in the catalogue's (户口簿)."""
    rest = query.original
    for token in (t for run in query.runs for t in run if t.field == BRING):
        rest = rest.replace(token.text, " ")
    said = [part.strip(_AROUND_A_THING) for part in rest.split()]
    return [word for word in said if len(word) > 1] + list(query.subject_words)


def hall_hours(env: "Env", budget: int) -> str:
    hall, calendar = env.hall.hall, env.calendar or Calendar()
    opens = next_opening(hall.schedule.periods, calendar, env.now)
    return clip(wording.hall_hours_text(hall, is_open(hall.schedule, calendar, env.now), opens), budget)


def _consult(state: State, consultation: "Consultation", asked: str, wanted: str | None, env: "Env",
             budget: int) -> Outcome:
    decision = consultation.decision
    want = wanted or state["want"]
    if decision.kind == "answer":
        item_id = decision.choices[0].id
        if state["want"] and not wanted:  # asked for 预约 / 材料清单 / a field first, named the item now
            outcome = about_item(state, item_id, state["want"], env, budget, tentative=decision.tentative)
        else:
            outcome = Outcome(_next(state, item=item_id), [reply(consultation, env.catalogue, env.hall, budget)])
        outcome.state["asked"] = asked
        return outcome
    if decision.kind == "clarify":
        ids = [h.id for h in decision.choices]
        head = {BOOK: wording.PICK_TO_BOOK, MATERIALS: wording.PICK_FOR_MATERIALS}.get(want, wording.PICK)
        text = choices_text([h.name for h in decision.choices], budget, head=head)
        return Outcome(_next(state, choices=ids, want=want, asked=asked), [text])
    if wanted and not state["item"] and not names_a_matter(consultation.query):
        # "要带什么材料" before saying which item: ask, this is not a failure
        return ask_item({**state, "asked": asked}, wanted, env, budget)
    if state["item"] and _still_about(state["item"], consultation, env):  # "然后呢": about the item still
        text = not_answered_text(facts(env.catalogue.get(state["item"]), env.hall), budget)
    else:
        text = reply(consultation, env.catalogue, env.hall, budget)
    return Outcome(_next(state, item=state["item"], asked=asked), [clip(text, budget)], miss=True)
