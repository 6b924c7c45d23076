"""How the dialogue keeps to the matter a citizen is talking about, measured on whole conversations.

    python bench/conversation.py [--verbose]

Four measures, each on questions written for this script (not the labelled question files):

- Follow-ups: a question about one item ("居住证怎么办"), then an everyday follow-up ("要等几天", "老伴能替我去吗").
  Counted as kept when the answer is about that item: the item stays, and the reply is neither the general
  fallback, a decline, "我答不上来" nor a numbered list. SEEN were written in four rounds, each used to choose
  phrases in knowledge/data/lexicon/fields.txt and cue words in field_cues.txt (the fourth, once called FRESH, was
  tuned on on 2026-12-07); the fair figures are now the labelled sets' held-out ones.
- Labelled follow-ups (bench/followups/*.tsv; each file's first line says whether it was tuned on or is held out,
  and its figure when it was measured first): each line is a follow-up and the part of the guide that answers it
  (place, time, fee, …; bring: whether one named thing is among the materials; process: the whole guide), or
  "new" for a message about another matter. A follow-up counts as kept as above, and as answered when the reply
  is that part of the guide for the item (the reply the dialogue gives when that part is asked of the item, or for
  materials the checklist); a "new" line counts when it is not answered as a follow-up of the item at hand.
- The same labelled follow-ups asked while a booking (waiting at its first step) or a material check (at its first
  batch) waits: answered as above, with the flow still at its step.
- Topic switches: every ordered pair of bench/gateway.py's everyday questions that name a matter, the first
  answered with an item, asked one after the other. Counted as a switch when the second gets what it gets in a
  fresh conversation (same item or same choices, or the same reply).

Prints tables; asserts nothing.
"""
from __future__ import annotations

import argparse
import itertools
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from dialogs.consult import FIELD_ORDER  # noqa: E402
from dialogs.engine import Env, handle  # noqa: E402
from dialogs.intents import BOOK, MATERIALS  # noqa: E402
from dialogs.talk import about_item  # noqa: E402
from dialogs.messages import Inbound  # noqa: E402
from knowledge.hall import load_hall  # noqa: E402
from knowledge.service import load_knowledge  # noqa: E402

MONDAY_MORNING = datetime(2024, 5, 6, 10, 0, tzinfo=timezone(timedelta(hours=8)))
STARTS = ("居住证", "结婚登记", "社保卡补办", "低保怎么申请")
SEEN = ("多久能批下来 多久能拿到 什么时候能办好 办证的地方在哪 去哪个窗口 在几楼 要排队吗 排队要多久 要不要本人去 "
        "能不能让儿子去办 我儿子能替我办吗 复印件要几份 照片什么底色 要原件吗 原件要带吗 需要户口本原件吗 "
        "身份证过期了还能办吗 外地户口能办吗 没有社保能办吗 收费标准是什么 交多少钱 可以刷卡吗 可以用微信付吗 周六能办吗 "
        "中午休息吗 电话打不通怎么办 网上怎么申请 手机上怎么弄 材料不全怎么办 表格在哪下载 表格去哪拿 要填什么表 "
        "需要开什么证明 证明去哪开 居委会证明怎么开 结果怎么领 能寄到家吗 邮寄要钱吗 办好了会通知我吗 怎么知道办好了 "
        "一般多少天能下来 得等多长时间呀 加急的话几天 你们单位在什么位置 坐公交怎么去 停车方便吗 周日有人上班吗 "
        "早上几点可以去 要交费不 办这个贵不贵 收多少钱啊 有年龄限制吗 没工作的能办吗 需要哪些东西 带哪些证件去 "
        "结婚证要带吗 照片是什么颜色背景 能找人代办吗 我女儿帮我去行不行 一定要我自己去吗 微信上能办吗 在家能申请吗 "
        "要来几次 证下来了寄到哪 能快递给我吗 办好了去哪领 咨询电话是多少 打电话问哪个号 要提前预约吗 人多不多 "
        "这个得多久 几号能拿到 最慢要多久 在哪个楼 办事大厅在哪条路 几号窗口办 周末开门吗 中午能办吗 今天还能去吗 "
        "要给钱吗 费用多少 贵吗 我这种情况能办吗 外地的能不能办 超过六十岁能办吗 要拿什么过去 还要别的吗 需要交照片吗 "
        "我没空能让同事去吗 我爸能替我办吗 不去现场行吗 能网上提交吗 可以线上办吗 办完寄给我行吗 多久通知我去拿 "
        "怎么领证 有电话吗 联系方式给一个 能预约吗 现在排队的人多吗 "
        "审批要几个工作日 一周能办好吗 当天能拿吗 地点在哪儿 办公室在几层 从地铁站怎么过去 星期六上午有人吗 几点前要到 "
        "下班前能办完吗 需不需要交钱 有没有费用 工本费要交吗 学生可以办吗 退休的人能办吗 什么情况下不能办 要准备哪些资料 "
        "资料要复印吗 照片几张 我妈能帮我跑一趟吗 委托别人要什么 一定得我到场吗 手机上怎么申请 网上能不能弄 线上提交可以吗 "
        "结果会寄过来吗 做好了怎么通知 证去哪里取 热线是多少 能不能先约个时间 去了要等很久吗").split()
NOT_ABOUT_THE_ITEM = ("帮办小助手", "没有找到", "答不上来", "请回复数字")
LABELLED = sorted((ROOT / "bench" / "followups").glob("*.tsv"), key=lambda path: (len(path.stem), path.stem))
# What else answers a label: the whole materials list answers "is X among them" when no line names X.
ALSO_ANSWERS = {"bring": {"materials"}, "materials": {MATERIALS}}
FLOW_WORDS = {BOOK: "预约", MATERIALS: "材料清单"}


def labelled(path: Path) -> list[tuple[str, str]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip() and not line.startswith("#"):
            question, sep, label = line.partition("\t")
            if not sep or label.strip() not in (*FIELD_ORDER, "bring", "process", "booking", "new"):
                sys.exit(f"{path}:{number}: expected 'question<TAB>label', label a guide part or new")
            rows.append((question.strip(), label.strip()))
    return rows


def parts_of(state, env) -> dict[str, str]:
    """The first lines of the reply that gives each part of the guide of the item in `state`."""
    wants = {**{f: f for f in FIELD_ORDER}, "process": None, "booking": BOOK, MATERIALS: MATERIALS}
    return {name: _head(about_item(state, state["item"], want, env, 2048).replies[0]) for name, want in wants.items()}


def kept_with_item(first, turn) -> bool:
    """The follow-up's answer is about the item of the first turn: not another item, a decline or a list."""
    text = "\n".join(turn.replies)
    return turn.state["item"] == first.state["item"] and not any(m in text for m in NOT_ABOUT_THE_ITEM)


def gives_the_part(turn, label: str, parts: dict[str, str]) -> bool:
    """The reply is the part of the guide the label names (or, for "bring", the material line asked about)."""
    accepted = {label} | ALSO_ANSWERS.get(label, set())
    return any(parts.get(a) == _head(turn.replies[0]) for a in accepted) or \
        (label == "bring" and "材料里" in turn.replies[0])


def _head(reply: str) -> str:
    return "\n".join(reply.splitlines()[:2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verbose", "-v", action="store_true", help="list every follow-up not kept")
    args = parser.parse_args()
    knowledge = load_knowledge()
    env = Env(now=MONDAY_MORNING, consult=knowledge.consult, catalogue=knowledge.catalogue,
              hall=load_hall(None, knowledge.catalogue))

    def ask(state, text):
        return handle(state, Inbound(user="bench", kind="text", text=text), env)

    print("# Follow-ups after a question about one item\n")
    print(f"{'set':6s}  {'kept':>9s}  {'share':>5s}")
    for name, questions in (("seen", SEEN),):
        kept = total = 0
        for start in STARTS:
            first = ask(None, start)
            for question in questions:
                turn = ask(first.state, question)
                text = "\n".join(turn.replies)
                ok = kept_with_item(first, turn)
                kept, total = kept + ok, total + 1
                if not ok and args.verbose:
                    print(f"    not kept: {start} → {question}: {text.splitlines()[0][:50]}")
        print(f"{name:6s}  {kept:4d}/{total:<4d}  {kept / total:5.2f}")

    print("\n# Labelled follow-ups (bench/followups): kept, and answered with the part asked\n")
    print(f"{'set':10s}  {'kept':>9s}  {'answered':>9s}  {'new matter':>10s}")
    for path in LABELLED:
        rows = labelled(path)
        kept = right = new = news = 0
        for start in STARTS:
            first = ask(None, start)
            parts = parts_of(first.state, env)
            for question, label in rows:
                turn = ask(first.state, question)
                text = "\n".join(turn.replies)
                same = turn.state["item"] == first.state["item"]
                if label == "new":
                    ok = not (same and text.startswith(f"【{env.catalogue.get(first.state['item']).title}】"))
                    new, news = new + ok, news + 1
                else:
                    held = kept_with_item(first, turn)
                    ok = held and gives_the_part(turn, label, parts)
                    kept, right = kept + held, right + ok
                if not ok and args.verbose:
                    print(f"    {label}: {start} → {question}: {text.splitlines()[0][:50]}")
        total = len(STARTS) * sum(label != "new" for _, label in rows)
        print(f"{path.stem:10s}  {kept:4d}/{total:<4d}  {right:4d}/{total:<4d}  {new:5d}/{news:<4d}")

    print("\n# The same follow-ups asked while a booking (at its first step) or a material check waits: answered\n"
          "# with the part asked and the flow kept (asking to book is left out: it is another flow)\n")
    print(f"{'set':10s}  {'booking':>9s}  {'checklist':>9s}")
    for path in LABELLED:
        rows = [(question, label) for question, label in labelled(path) if label not in ("new", "booking")]
        counts = []
        for flow in (BOOK, MATERIALS):
            right = total = 0
            for start in STARTS:
                first = ask(None, start)
                parts, waiting = parts_of(first.state, env), ask(first.state, FLOW_WORDS[flow])
                if not waiting.state.get("flow"):  # not offered for this item
                    continue
                total += len(rows)
                for question, label in rows:
                    turn = ask(waiting.state, question)
                    ok = (turn.state.get("flow") or {}).get("step") == waiting.state["flow"]["step"] \
                        and gives_the_part(turn, label, parts)
                    right += ok
                    if not ok and args.verbose:
                        print(f"    {flow} {label}: {start} → {question}: {turn.replies[0].splitlines()[0][:50]}")
            counts.append(f"{right:4d}/{total:<4d}")
        print(f"{path.stem:10s}  {counts[0]}  {counts[1]}")

    from gateway import EVERYDAY  # noqa: E402  (bench/gateway.py's everyday questions)

    fresh = {q: ask(None, q) for q in EVERYDAY}
    # "能不能帮我代办" names no matter (a fresh start asks which): after an item it is a follow-up, not a switch
    questions = [q for q in EVERYDAY if "哪件事" not in fresh[q].replies[0]]
    switched = pairs = 0
    for first, second in itertools.permutations(questions, 2):
        if not fresh[first].state["item"]:
            continue
        turn, alone = ask(fresh[first].state, second), fresh[second]
        same = (turn.state["item"], turn.state["choices"]) == (alone.state["item"], alone.state["choices"]) \
            or turn.replies[:1] == alone.replies[:1]
        switched, pairs = switched + same, pairs + 1
        if not same and args.verbose:
            print(f"    not switched: {first} → {second}")
    print(f"\n# Topic switches (bench/gateway.py's everyday questions, ordered pairs)\n\n"
          f"switched as in a fresh conversation: {switched}/{pairs} ({switched / pairs:.2f})")


if __name__ == "__main__":
    main()
