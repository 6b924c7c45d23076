"""Words that mean a command rather than a question, and the custom menu's keys.

A command is recognised when the whole message (without spaces, punctuation and a polite 请/我要/我想 in front) is
one of its words, so "帮助" is a command but "帮助老年人办身份证" is a question. Asking for a person is the exception:
"转人工" anywhere in a message counts, because someone who wants a person must never be stuck with the machine.
Ending it ("结束人工", "不用人工了") is checked before that, since "结束人工服务" holds "人工服务".
"""
from __future__ import annotations

import re

from .parse import plain

HELP, CANCEL, HUMAN, CONSULT, BOOK, MATERIALS, PROGRESS, DETAILS, THANKS = (
    "help", "cancel", "human", "consult", "book", "material_list", "progress", "details", "thanks")
END_HUMAN = "end_human"  # 结束人工: leave the staff queue, or end the conversation with a person

_WORDS: dict[str, frozenset[str]] = {
    HELP: frozenset({"帮助", "菜单", "主菜单", "你好", "您好", "你好啊", "您好啊", "在吗", "在么", "在不在", "有人吗",
                     "hello", "hi", "help", "功能", "你能做什么", "你会什么", "能做什么", "怎么用", "使用说明",
                     "说明", "开始", "哈喽", "嗨"}),
    CANCEL: frozenset({"取消", "返回", "重新开始", "重来", "从头开始", "退出", "算了", "不要了", "不问了", "不用了"}),
    HUMAN: frozenset({"转人工", "人工", "人工服务", "人工客服", "客服", "找人工", "工作人员", "找工作人员",
                      "真人", "找真人", "转工作人员"}),
    CONSULT: frozenset({"办事咨询", "咨询", "我要咨询", "问问题"}),
    BOOK: frozenset({"预约", "预约帮办", "预约代办", "预约帮办代办", "帮办代办", "申请帮办", "申请代办",
                     "申请帮办代办", "帮我预约", "预约一下", "帮办", "代办", "上门服务", "预约上门"}),
    MATERIALS: frozenset({"材料清单", "清单", "材料单", "全部材料", "所有材料", "完整材料", "查看全部"}),
    PROGRESS: frozenset({"查进度", "进度", "办理进度", "查询进度", "进度查询", "办到哪了", "办得怎么样了", "办好了吗",
                         "办到哪一步了", "办到哪步了", "到哪一步了", "进展", "进展怎么样了", "有进展吗"}),
    DETAILS: frozenset({"详情", "详细", "详细信息", "办事指南", "完整指南", "全部", "完整"}),
    THANKS: frozenset({"谢谢", "谢谢你", "谢谢您", "多谢", "感谢", "好的", "好", "好的谢谢", "知道了", "明白了", "收到",
                       "ok", "嗯", "嗯嗯", "哦", "行", "可以了", "没有了", "没了", "再见", "拜拜"}),
}
_END_HUMAN_WORDS = frozenset({"结束人工", "结束人工服务", "人工结束", "退出人工", "取消人工", "取消转人工",
                              "不用人工了", "不用人工", "不要人工了", "不要人工", "不需要人工了", "不需要人工",
                              "不转人工了", "不转人工", "不用转人工了", "不用转人工", "不找人工了"})
_HUMAN_ANYWHERE = ("转人工", "人工客服", "人工服务", "找工作人员", "找人工", "转工作人员", "真人")
_POLITE_FRONT = re.compile(r"^(?:请问|请|麻烦|我要|我想|我想要|帮我|给我)")
_POLITE_BACK = re.compile(r"(?:吧|啊|呀|呢|哈|一下|谢谢)$")


def command(text: str) -> str | None:
    """The command a text message gives (HELP, CANCEL, HUMAN, …), or None for a question."""
    words = plain(text)
    if not words:
        return None
    if words in _END_HUMAN_WORDS or _POLITE_BACK.sub("", _POLITE_FRONT.sub("", words)) in _END_HUMAN_WORDS:
        return END_HUMAN
    if any(w in words for w in _HUMAN_ANYWHERE):
        return HUMAN
    for candidate in (words, _POLITE_BACK.sub("", _POLITE_FRONT.sub("", words))):
        for intent, vocabulary in _WORDS.items():
            if candidate in vocabulary:
                return intent
    return None


def only_the_command(text: str) -> bool:
    """True when the message says nothing but a command word ("转人工"), so it is not worth passing on to staff."""
    words = plain(text)
    return any(words in vocabulary or _POLITE_FRONT.sub("", words) in vocabulary for vocabulary in _WORDS.values())


# The custom menu (CLICK event keys) and the numbered help menu offer the same five things.
MENU_KEYS = {"CONSULT": CONSULT, "BOOK": BOOK, "MATERIALS": MATERIALS, "PROGRESS": PROGRESS, "HUMAN": HUMAN}
MENU = ((CONSULT, "办事咨询：问办事要带什么、在哪办、要多久"),
        (BOOK, "预约帮办代办"),
        (MATERIALS, "材料清单：逐项核对要带的材料"),
        (PROGRESS, "查进度"),
        (HUMAN, "转人工：找工作人员"))


def menu_intent(key: str | None) -> str | None:
    """The intent of a menu key ("BOOK", also "book" or " BOOK "), None for a key the menu does not have."""
    return MENU_KEYS.get((key or "").strip().upper())
