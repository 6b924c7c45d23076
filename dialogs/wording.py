"""The assistant's fixed sentences. Short and plain (many users are elderly); where there is a choice, numbered.

Kept together so whoever words them for the hall sees them all at once.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .intents import MENU
from .text import numbered, shorten

if TYPE_CHECKING:
    from datetime import datetime

    from knowledge.model import Hall

    from .views import HandoffOutlook

EXAMPLES = ("身份证丢了怎么补办", "居住证要带什么材料")
ITEM_EXAMPLES = "比如“居住证”“结婚登记”“社保卡补办”"

MENU_LINES = numbered([line for _, line in MENU])
HOW_TO_REPLY = f"回复数字，或直接打字、发语音说您要办的事，比如“{EXAMPLES[0]}”。"

IDLE_RESTART = "刚才的对话已超时，我们重新开始。"
ASK_AGAIN = f"刚才列出的选项已经失效了。请重新说一下您要办的事，比如“{EXAMPLES[0]}”。"
NO_LIST = f"现在没有要选的编号。请直接说您要办的事，比如“{EXAMPLES[0]}”；回复“帮助”看我能做什么。"
MISS_OFFER = "抱歉，我好像没能听懂。请回复“转人工”，请工作人员帮您。"
CANCELLED = "好的，已取消，我们重新开始。\n请直接说您要办的事，回复“帮助”查看我能做什么。"
THANKS = "不客气！还有别的事可以直接问我，回复“帮助”查看我能做什么。"
EMOTICONS_ONLY = "收到。有要办的事可以直接问我，回复“帮助”查看我能做什么。"
VOICE_NOT_HEARD = "抱歉，这条语音我没听清。请再说一遍，或者直接打字告诉我您要办的事。"
ONLY_TEXT_AND_VOICE = ("抱歉，我只能看懂文字和语音消息。\n请打字或发语音告诉我您要办的事，"
                       "回复“帮助”查看我能做什么。")
CONSULT_INVITE = (f"请直接打字或发语音说您要办的事，比如：\n“{EXAMPLES[0]}”\n“{EXAMPLES[1]}”\n"
                  "我会告诉您要带什么材料、在哪办、要多久。")
ASK_ITEM = f"您问的是哪件事？请告诉我事项名称，{ITEM_EXAMPLES}。"
ASK_ITEM_TO_BOOK = f"您想预约哪件事的帮办代办？请告诉我事项名称，{ITEM_EXAMPLES}。"
ASK_ITEM_FOR_MATERIALS = f"您要看哪件事的材料清单？请告诉我事项名称，{ITEM_EXAMPLES}。"
PICK_TO_BOOK = "您想预约的是哪一项？请回复数字："
PICK_FOR_MATERIALS = "您要看哪一项的材料清单？请回复数字："
PICK = "您想问的是哪一项？请回复数字："


def voice_echo(recognised: str) -> str:
    return f"您说的是：“{shorten(recognised, 60)}”"


def help_text(hall: "Hall") -> str:
    return f"我是{hall.name}的帮办小助手，可以帮您：\n{MENU_LINES}\n{HOW_TO_REPLY}"


def welcome_text(hall: "Hall") -> str:
    return (f"您好，欢迎关注{hall.name}！\n我是帮办小助手，有事您尽管问，打字或发语音都可以。我能帮您：\n"
            f"{MENU_LINES}\n{HOW_TO_REPLY}")


def menu_reask(count: int, hall: "Hall") -> str:
    return f"请回复1到{count}之间的数字。\n{help_text(hall)}"


def escalated_text(hall: "Hall", item_title: str | None) -> str:
    lines = ["好的，已为您转给工作人员。工作人员会在办公时间内在这里回复您。",
             f"办公时间：{hall.hours}",
             f"着急的话可以直接打电话：{hall.phone}"]
    if item_title:
        lines.insert(1, f"您问的事项：{shorten(item_title, 40)}")
    return "\n".join(lines)


def progress_text(hall: "Hall", open_case: str | None) -> str:
    if not open_case:
        return ("您现在还没有在本中心办理中的帮办代办，所以查不到进度。\n"
                "要办事请回复“预约”；有疑问请回复“转人工”。")
    return (f"您的办件编号：{open_case}。\n网上查进度的功能正在开通中，"
            f"请回复“转人工”，工作人员会告诉您进度；也可以打电话：{hall.phone}。")


def image_kept_text(open_case: str) -> str:
    return (f"照片已收到，已放入您的办件 {open_case}，工作人员核对材料时会看到。\n"
            "还有别的材料可以接着拍照发来。")


def image_without_case_text() -> str:
    return ("照片收到了，不过您现在还没有办件，这张照片暂时没法保存。\n"
            "请先回复“预约”申请帮办代办，或回复“转人工”问工作人员。")


# --- 转人工 ------------------------------------------------------------------------------------------------------

HANDOFF_ENDED = "已结束人工服务，有问题可以继续问我。"
HANDOFF_LEFT = "好的，已退出人工排队，有问题可以继续问我。"
CANCELLED_AND_LEFT_QUEUE = "好的，已取消，也已退出人工排队。\n有问题可以继续问我，回复“帮助”查看我能做什么。"
NO_HANDOFF = "现在没有在等工作人员，有问题可以直接问我；要找工作人员请回复“转人工”。"
IMAGE_FOR_STAFF = "照片已收到，工作人员会看到。"
# Said instead of "I did not understand" while the citizen waits for a person: what they wrote went to staff.
PASSED_TO_STAFF = ("您说的已转给工作人员，请耐心等待回复。\n办事问题也可以直接问我，比如“身份证丢了怎么补办”。"
                   "不用人工了请回复“结束人工”。")
_WEEKDAYS = "一二三四五六日"
_GREEN_EXTRA = {"老年人": "，行动不便的还可以预约上门服务", "残疾人": "，行动不便的还可以预约上门服务",
                "孕妇": "，行动不便的还可以预约上门服务", "军人": ""}


def moment_text(moment: "datetime") -> str:
    """A deadline as the citizen reads it: "5月7日（周二）9点", "5月7日（周二）9:30"."""
    clock = f"{moment.hour}点" if moment.minute == 0 else f"{moment.hour}:{moment.minute:02d}"
    return f"{moment.month}月{moment.day}日（周{_WEEKDAYS[moment.weekday()]}）{clock}"


def hall_hours_text(hall: "Hall", open_now: bool, opens: "datetime | None") -> str:
    """"几点上班", "周六上班吗" with no matter named: the hall's hours, whether it is open now, where and the phone."""
    if open_now:
        now_line = "现在正在办公。"
    else:
        now_line = "现在不在办公时间" + (f"，下次开门：{moment_text(opens)}。" if opens else "。")
    return "\n".join([hall.name, f"办公时间：{hall.hours}", now_line, f"地址：{hall.address}", f"电话：{hall.phone}"])


def _after_hours(outlook: "HandoffOutlook") -> str:
    if outlook.answer_by is None:
        return "工作人员上班后会尽快回复您"
    return f"工作人员会在{moment_text(outlook.answer_by)}前回复您"


def queued_text(outlook: "HandoffOutlook", green: bool = False) -> str:
    """转人工 accepted: the place in the queue during working hours, the deadline of the answer outside them."""
    if not outlook.open_now:
        return f"现在是下班时间，您的留言已登记，{_after_hours(outlook)}。"
    place = f"前面还有{outlook.ahead}位" if outlook.ahead > 0 else "马上为您安排"
    lane = "（绿色通道，优先安排）" if green else ""
    return (f"已为您转人工{lane}，{place}，请稍等（约{outlook.wait_minutes}分钟内有工作人员回复）。"
            "等待时您也可以继续问我。")


def still_queued_text(outlook: "HandoffOutlook | None") -> str:
    """转人工 again while already waiting: no second place in the queue."""
    if outlook is None:
        head = "您已经在等工作人员了，工作人员会在办公时间内在这里回复您。"
    elif not outlook.open_now:
        head = f"您的留言已登记，{_after_hours(outlook)}。"
    else:  # no count: the gateway's count would hold this citizen's own place
        head = "您已经在排队了，工作人员会尽快回复您，请稍等。"
    return head + "\n等待时您也可以继续问我；不需要了请回复“结束人工”。"


def misunderstood_text(hall: "Hall", outlook: "HandoffOutlook | None", green: bool = False) -> str:
    """The fourth message in a row not understood: a person is asked for without waiting to be told."""
    head = "抱歉，我还是没能听懂，已请工作人员来帮您。"
    if outlook is None:
        return f"{head}\n工作人员会在办公时间内在这里回复您。\n着急的话可以直接打电话：{hall.phone}"
    if not outlook.open_now:
        return f"{head}\n现在是下班时间，{_after_hours(outlook)}。"
    place = f"前面还有{outlook.ahead}位，" if outlook.ahead > 0 else ""
    lane = "绿色通道优先安排，" if green else ""
    return f"{head}\n{lane}{place}请稍等（约{outlook.wait_minutes}分钟内有工作人员回复）。"


def green_channel_note(group: str) -> str:
    """Said once, when the citizen first says they are elderly, disabled, pregnant or a (retired) soldier."""
    return f"（已记下：{group}可走绿色通道优先办理{_GREEN_EXTRA.get(group, '')}。）"
