"""How the dialogue keeps to the matter a citizen is talking about, measured on whole conversations.

    python bench/conversation.py [--verbose]

Two measures, each on questions written for this script (not the labelled question files):

- Follow-ups: a question about one item ("居住证怎么办"), then an everyday follow-up ("要等几天", "老伴能替我去吗").
  Counted as kept when the answer is about that item: the item stays, and the reply is neither the general
  fallback, a decline, "我答不上来" nor a numbered list. SEEN were written first and used to choose the phrases in
  knowledge/data/lexicon/fields.txt; FRESH were written afterwards and never used to change anything, so FRESH is
  the fair figure (until someone tunes on it: then write new ones).
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

from dialogs.engine import Env, handle  # noqa: E402
from dialogs.messages import Inbound  # noqa: E402
from knowledge.hall import load_hall  # noqa: E402
from knowledge.service import load_knowledge  # noqa: E402

MONDAY_MORNING = datetime(2024, 5, 6, 10, 0, tzinfo=timezone(timedelta(hours=8)))
STARTS = ("居住证", "结婚登记", "社保卡补办", "低保怎么申请")
SEEN = ("多久能批下来 多久能拿到 什么时候能办好 办证的地方在哪 去哪个窗口 在几楼 要排队吗 排队要多久 要不要本人去 "
        "能不能让儿子去办 我儿子能替我办吗 复印件要几份 照片什么底色 要原件吗 原件要带吗 需要户口本原件吗 "
        "身份证过期了还能办吗 外地户口能办吗 没有社保能办吗 收费标准是什么 交多少钱 可以刷卡吗 可以用微信付吗 周六能办吗 "
        "中午休息吗 电话打不通怎么办 网上怎么申请 手机上怎么弄 材料不全怎么办 表格在哪下载 表格去哪拿 要填什么表 "
        "需要开什么证明 证明去哪开 居委会证明怎么开 结果怎么领 能寄到家吗 邮寄要钱吗 办好了会通知我吗 怎么知道办好了").split()
FRESH = ("一般多少天能下来 得等多长时间呀 加急的话几天 你们单位在什么位置 坐公交怎么去 停车方便吗 周日有人上班吗 "
         "早上几点可以去 要交费不 办这个贵不贵 收多少钱啊 有年龄限制吗 没工作的能办吗 需要哪些东西 带哪些证件去 "
         "结婚证要带吗 照片是什么颜色背景 能找人代办吗 我女儿帮我去行不行 一定要我自己去吗 微信上能办吗 在家能申请吗 "
         "要来几次 证下来了寄到哪 能快递给我吗 办好了去哪领 咨询电话是多少 打电话问哪个号 要提前预约吗 人多不多").split()
NOT_ABOUT_THE_ITEM = ("帮办小助手", "没有找到", "答不上来", "请回复数字")


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
    for name, questions in (("seen", SEEN), ("fresh", FRESH)):
        kept = total = 0
        for start in STARTS:
            first = ask(None, start)
            for question in questions:
                turn = ask(first.state, question)
                text = "\n".join(turn.replies)
                ok = turn.state["item"] == first.state["item"] and not any(m in text for m in NOT_ABOUT_THE_ITEM)
                kept, total = kept + ok, total + 1
                if not ok and args.verbose:
                    print(f"    not kept: {start} → {question}: {text.splitlines()[0][:50]}")
        print(f"{name:6s}  {kept:4d}/{total:<4d}  {kept / total:5.2f}")

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
