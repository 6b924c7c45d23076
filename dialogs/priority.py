"""绿色通道: does the citizen say that they (or the person they are applying for) are elderly, disabled, pregnant or
a serving or retired soldier?

Only a statement about a person counts, never a question about an item: "我70岁了", "我是残疾人", "我老婆怀孕了",
"帮我爸办，他80岁了", "本人退伍军人" do; "残疾人证怎么办", "老年人优待证要带什么", "60岁以上可以免费坐车吗",
"我想办残疾人证", "孕妇可以优先吗" do not. So a group word counts only right after a subject (我, 本人, 我爸, 他 …,
with a few fillers such as 是/今年/已经 between), and a negation (不是, 没有) in between rules it out. Two statements
are common enough without a subject to count at the start of a clause: an age ("八十多岁了，…") and "怀孕了" /
"年纪大了".

The applicant being helped counts as the applicant: a child applying for an elderly parent gets the elderly
parent's green channel, which is what the hall does at the window.
"""
from __future__ import annotations

import re
import unicodedata

from .parse import chinese_number

ELDERLY, DISABLED, PREGNANT, SOLDIER = "老年人", "残疾人", "孕妇", "军人"
OLD_AGE = 60

_FAMILY = ("爸爸", "妈妈", "爸", "妈", "父亲", "母亲", "爷爷", "奶奶", "外公", "外婆", "姥姥", "姥爷", "公公", "婆婆",
           "岳父", "岳母", "老伴", "老公", "老婆", "丈夫", "妻子", "爱人", "媳妇", "儿子", "女儿", "孩子", "家人",
           "家里老人", "家里人", "家中老人", "老人家", "哥哥", "姐姐", "弟弟", "妹妹", "亲戚", "父母", "对象")
_SUBJECT = ("(?:我们?(?:的|家)?(?:" + "|".join(_FAMILY) + ")|我们?|本人|俺|咱|自己|"
            + "|".join(f for f in _FAMILY if f in ("家里老人", "家中老人", "老人家", "老伴")) + "|(?<!其)他|(?<!其)她)")
_FILLER = r"(?:今年|已经|已|都|也|就|本身|现在|快|都快|是|属于|算|一个|一名|一位|个|名|位|有)*"

_AGE_NUMBER = r"(\d{2,3}|[一二三四五六七八九十]{1,3})(多|来)?"
# "我70岁了", "他今年八十多岁", "我爸85了" (a subject, then an age); "八十多岁了" at the start of a clause
_AGE_AFTER_SUBJECT = re.compile(_SUBJECT + _FILLER + _AGE_NUMBER
                                + r"(?:周?岁(?!以上|以下|以内|之前|之后|前|后)|了|(?=[，,。；;！!？?\s]|$))")
_AGE_ALONE = re.compile(r"(?:^|[，,。；;！!？?\s])" + _AGE_NUMBER + r"(?:周?岁了|岁啦|岁的人了|(?<=多)岁(?![的以]))")

_PREDICATES: tuple[tuple[str, str], ...] = (
    (ELDERLY, r"(?:老年人|老人家|老人|年纪大|岁数大|年龄大|上了年纪|年纪也大|老了)"),
    (DISABLED, r"(?:残疾人|残疾|残障人士|残障|残疾人证|残疾证|盲人|失明|视障|眼睛看不见|看不见|聋哑人|聋哑|聋人|"
               r"耳聋|听障|听不见|坐轮椅|瘫痪|截肢|肢残|肢体残疾|智力残疾|精神残疾)"),
    (PREGNANT, r"(?:孕妇|怀孕|怀着孕|有身孕|怀了孕|在孕期|孕期)"),
    (SOLDIER, r"(?:退伍军人|退役军人|现役军人|复员军人|转业军人|军人|老兵|当过兵|当兵的|退伍的|退役的|复员的)"),
)
_NOT_THE_PERSON = r"(?!家属|优待|补贴|津贴)"  # "我是军人家属", "我是老年人优待…" speak of someone else or a benefit
_STATEMENTS = tuple((group, re.compile(_SUBJECT + _FILLER + predicate + _NOT_THE_PERSON))
                    for group, predicate in _PREDICATES)
# Without a subject, at the start of a clause: "怀孕了，…", "怀孕五个月", "年纪大了，…"
_ALONE = ((PREGNANT, re.compile(r"(?:^|[，,。；;！!？?\s])(?:怀孕了|怀孕\S{1,3}个月|已经怀孕)")),
          (ELDERLY, re.compile(r"(?:^|[，,。；;！!？?\s])(?:年纪大了|岁数大了|上了年纪)")),
          # "家里老人行动不便", "帮我家老人问一下": the applicant is the elderly relative
          (ELDERLY, re.compile(r"(?:家里|家中|我家|我们家)的?(?:老人|老人家)(?!证|卡|优待)")))


def _age_of(match: re.Match[str]) -> int | None:
    text = match.group(1)
    return int(text) if text.isdigit() else chinese_number(text)


def _elderly_age(text: str) -> int | None:
    for pattern in (_AGE_AFTER_SUBJECT, _AGE_ALONE):
        for match in pattern.finditer(text):
            age = _age_of(match)
            if age is not None and OLD_AGE <= age <= 130:
                return match.start()
    return None


def _statement(pattern: re.Pattern[str], text: str) -> int | None:
    """Where the first statement is. "我有残疾人证" counts (having one says who you are); "我要办残疾人证" does not
    (办 is no filler, so the subject is not followed by the group word)."""
    match = pattern.search(text)
    return match.start() if match else None


def group_of(text: str | None) -> str | None:
    """The 绿色通道 group the message says the applicant belongs to, or None. When several are said, the first."""
    if not text:
        return None
    folded = unicodedata.normalize("NFKC", text).strip()
    found: list[tuple[int, str]] = []
    age_at = _elderly_age(folded)
    if age_at is not None:
        found.append((age_at, ELDERLY))
    for group, pattern in (*_STATEMENTS, *_ALONE):
        at = _statement(pattern, folded)
        if at is not None:
            found.append((at, group))
    return min(found)[1] if found else None
