"""Recognisers for what a citizen types in answer to a question: each returns a `Parsed`.

A `Parsed` holds the value, or a reason: one short polite Chinese sentence telling the citizen what is wrong and
what to type instead, ready to send back as it is. Input is folded with NFKC first, so full-width digits, colons
and spaces count as ordinary ones ("１３８ ００１３ ８０００" is a mobile number).

Nothing here reads the clock: recognisers that need "today" take it as an argument.

The `valid_*` functions check an already clean string (as stored in the database: no spaces, upper case) and
answer True or False; the `parse_*` functions are the forgiving ones that clean what a person typed.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

from dialogs.parse import chinese_number, choice_number, plain


@dataclass(frozen=True)
class Parsed:
    """What a recogniser made of the text: a value, or a reason (Chinese, for the citizen) why there is none."""

    value: Any = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None


def _ok(value: Any) -> Parsed:
    return Parsed(value=value)


def _fail(reason: str) -> Parsed:
    return Parsed(reason=reason)


def _fold(text: str | None) -> str:
    """NFKC (full-width to half-width), ends stripped."""
    return unicodedata.normalize("NFKC", text or "").strip()


def _squeeze(text: str | None) -> str:
    """Folded, without any spaces: "１２ 月 ３ 日" -> "12月3日"."""
    return re.sub(r"\s+", "", _fold(text))


# --- dates --------------------------------------------------------------------------------------------------

WEEKDAY_NAMES = "一二三四五六日"

_CN_NUM = "零〇一二两三四五六七八九十"
_NUM = rf"(\d{{1,2}}|[{_CN_NUM}]{{1,3}})"  # a month, day or hour: "12", "十二", "三"

# Shorthand that names a day and a part of it at once; expanded before anything else is matched.
_SHORTHAND = {"今早": "今天上午", "今晚": "今天晚上", "明早": "明天上午", "明晚": "明天晚上", "明儿": "明天",
              "今儿": "今天", "后儿": "后天"}

_RELATIVE_DAYS = {"今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2, "大后天": 3}
_WEEK_OFFSET = {"上": -1, "上个": -1, "这": 0, "这个": 0, "本": 0, "下": 1, "下个": 1, "下下": 2, "下下个": 2}

# Tried in this order; each match is blanked out so a shorter pattern cannot match inside it again.
_FULL_DATE = re.compile(  # 2026年12月3日, 2026-12-03, 2026/12/3, 2026.12.3, 二〇二六年十二月三日
    rf"(?<!\d)(\d{{4}}|[〇零一二三四五六七八九]{{4}})[年\-/.]{_NUM}[月\-/.]{_NUM}(?!\d)[日号]?")
_MONTH_DAY = re.compile(rf"(今年|明年)?(?<!\d){_NUM}月{_NUM}(?!\d)[日号]?")  # 12月3日, 十二月三号, 明年1月5日
_SHORT_DATE = re.compile(r"(?<![\d.:/])(\d{1,2})[./](\d{1,2})(?![\d.:/])")  # 12.3, 12/3 (month first)
_RELATIVE = re.compile("|".join(sorted(_RELATIVE_DAYS, key=len, reverse=True)))  # 大后天 before 后天
_WEEKDAY = re.compile(r"(下下个|下下|下个|下|这个|这|本|上个|上)?(?:周|星期|礼拜)([一二三四五六日天1-7])")
_DAY_ONLY = re.compile(rf"(?<![\d月]){_NUM}[号日](?![楼栋线码])")  # 3号, 三日, 二十五号


def _year_number(text: str) -> int:
    if text.isdigit():
        return int(text)
    return int("".join(str("〇一二三四五六七八九".index(c)) if c != "零" else "0" for c in text))


def _number(text: str) -> int | None:
    return int(text) if text.isdigit() else chinese_number(text)


def _make_date(year: int, month: int | None, day: int | None) -> date | None:
    try:
        return date(year, month, day) if month and day else None
    except ValueError:
        return None


def date_text(d: date) -> str:
    """How a date is said back to the citizen: "12月3日（周三）"."""
    return f"{d.month}月{d.day}日（周{WEEKDAY_NAMES[d.weekday()]}）"


def _past(d: date) -> str:
    return f"{d.month}月{d.day}日已经过去了，请说今天或以后的日期，比如：明天、下周三。"


def _no_such_day(month: int | None, day: int | None) -> str:
    if month and day:
        return f"没有{month}月{day}日这一天，请再看一下日期。"
    return "这个日期不对，请这样输入：12月3日。"


def _dated(year: int, month: int | None, day: int | None, today: date) -> date | str:
    found = _make_date(year, month, day)
    if found is None:
        return _no_such_day(month, day)
    return _past(found) if found < today else found


def _nearest(month: int | None, day: int | None, today: date) -> date | str:
    """A month and day without a year: the nearest such date, this year or next.

    "1月5日" said in December is next January; "12月3日" said on 10 December is a week ago, which is more likely
    a slip than a booking eleven months ahead, so the citizen is told it has passed.
    """
    this_year = _make_date(today.year, month, day)
    next_year = _make_date(today.year + 1, month, day)
    if this_year is None and next_year is None:
        return _no_such_day(month, day)
    if this_year is not None and this_year >= today:
        return this_year
    if next_year is None or (this_year is not None and today - this_year < next_year - today):
        return _past(this_year)  # type: ignore[arg-type]
    return next_year


def _day_of_month(day: int | None, today: date) -> date | str:
    """"3号": this month unless that is past, then the next month that has such a day."""
    if not day or day > 31:
        return _no_such_day(None, None)
    year, month = today.year, today.month
    for _ in range(3):
        found = _make_date(year, month, day)
        if found is not None and found >= today:
            return found
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return _no_such_day(None, None)


def _weekday(prefix: str | None, name: str, today: date) -> date | str:
    """周五 is the next Friday after today; 这周五 / 下周五 / 下下周五 are that day of this or a later week
    (weeks run Monday to Sunday, as on a Chinese calendar)."""
    wanted = 6 if name in "日天7" else (int(name) - 1 if name.isdigit() else WEEKDAY_NAMES.index(name))
    if prefix is None:
        return today + timedelta(days=(wanted - today.weekday() - 1) % 7 + 1)
    monday = today - timedelta(days=today.weekday())
    found = monday + timedelta(weeks=_WEEK_OFFSET[prefix], days=wanted)
    return _past(found) if found < today else found


def _resolve(pattern: re.Pattern[str], match: re.Match[str], today: date) -> date | str:
    if pattern is _FULL_DATE:
        return _dated(_year_number(match[1]), _number(match[2]), _number(match[3]), today)
    if pattern is _MONTH_DAY:
        month, day = _number(match[2]), _number(match[3])
        if match[1]:
            return _dated(today.year + (match[1] == "明年"), month, day, today)
        return _nearest(month, day, today)
    if pattern is _SHORT_DATE:
        return _nearest(int(match[1]), int(match[2]), today)
    if pattern is _RELATIVE:
        return today + timedelta(days=_RELATIVE_DAYS[match[0]])
    if pattern is _WEEKDAY:
        return _weekday(match[1], match[2], today)
    return _day_of_month(_number(match[1]), today)


def _expand(text: str) -> str:
    text = _squeeze(text)
    for short, long in _SHORTHAND.items():
        text = text.replace(short, long)
    return text


def _take_dates(text: str, today: date) -> tuple[list[date | str], str]:
    """Every date named in the text (a date, or the reason it is not one) and the text with them blanked out."""
    found: list[date | str] = []
    for pattern in (_FULL_DATE, _MONTH_DAY, _SHORT_DATE, _RELATIVE, _WEEKDAY, _DAY_ONLY):
        for match in pattern.finditer(text):
            found.append(_resolve(pattern, match, today))
        text = pattern.sub(lambda m: "\0" * len(m[0]), text)
    return found, text


def _example_day(today: date) -> str:
    """A date to show in an example: ten days ahead, never one in the past ("12月16日")."""
    ahead = today + timedelta(days=10)
    return f"{ahead.month}月{ahead.day}日"


def _date_help(today: date) -> str:
    return f"没看懂是哪一天，请这样输入：明天、下周三、{_example_day(today)}。"


def _one_date(found: list[date | str]) -> date | str | None:
    if not found:
        return None
    reasons = [f for f in found if isinstance(f, str)]
    if reasons:
        return reasons[0]
    if len(set(found)) > 1:
        return "请只说一个日期，比如：下周三。"
    return found[0]


def parse_date(text: str, today: date) -> Parsed:
    """A day: 今天, 明天, 后天, 大后天, 周五 (the next one, not today), 这周五, 下周三, 下下周一, 12月3日, 12.3,
    12/3, 3号 (this month, or next month if past), 2026年12月3日, 2026-12-03, 十二月三日. Value: `datetime.date`.

    A part of the day or a time in the same message ("明天下午") is allowed and left for `parse_when`.
    """
    found = _one_date(_take_dates(_expand(text), today)[0])
    if found is None:
        return _fail(_date_help(today))
    return _fail(found) if isinstance(found, str) else _ok(found)


# --- times of day -------------------------------------------------------------------------------------------

MORNING, AFTERNOON, EVENING = "上午", "下午", "晚上"
_NOON = "中午"
_PART_WORDS = {"上午": MORNING, "早上": MORNING, "早晨": MORNING, "一早": MORNING, "一大早": MORNING,
               "清早": MORNING, "上半天": MORNING, "中午": _NOON, "晌午": _NOON, "下午": AFTERNOON,
               "下半天": AFTERNOON, "傍晚": EVENING, "晚上": EVENING, "夜里": EVENING}
_PART = re.compile("|".join(_PART_WORDS))
_CLOCK = re.compile(r"(?<!\d)(\d{1,2}):(\d{2})(?!\d)")  # 14:30
# 9点, 九点半, 3点15分, 两点一刻, 14时30分; 分 optional, 整 ("10点整") ignored. Not "早一点" (a bit earlier).
_HOUR = re.compile(rf"(?<![\d早晚快慢多少好差有]){_NUM}[点时](半|一刻|三刻|整|{_NUM}分?)?")
_QUARTERS = {"半": 30, "一刻": 15, "三刻": 45, "整": 0}

_TIME_HELP = "没看懂是什么时间，请这样说：上午、下午，或者具体几点，比如：下午3点。"


def _part_of(t: time) -> str:
    return MORNING if t.hour < 12 else AFTERNOON if t.hour < 18 else EVENING


def _clock_time(match: re.Match[str], part: str | None) -> time | str:
    """The time a clock match names, read with the part of the day said beside it.

    Without 上午/下午, 1点 to 6点 mean the afternoon: a service hall is not open at 3 in the morning.
    """
    if match.re is _CLOCK:
        hour, minute = int(match[1]), int(match[2])
    else:
        hour = _number(match[1])
        extra = match[2] or ""
        minute = _QUARTERS[extra] if extra in _QUARTERS else _number(extra.rstrip("分")) if extra else 0
    if hour is None or minute is None or hour > 23 or minute > 59:
        return "没有这个时间，请再说一次，比如：上午9点、14:30。"
    if part == MORNING and hour > 12:
        return f"上午没有{hour}点，请再说一次时间。"
    if part in (AFTERNOON, EVENING) and 1 <= hour <= 11:
        hour += 12
    elif part == _NOON and 1 <= hour <= 2:
        hour += 12
    elif part is None and 1 <= hour <= 6:
        hour += 12
    return time(hour, minute)


def _take_time(text: str) -> tuple[str | None, time | None, str | None]:
    """(part of day, clock time, reason) from text that no longer holds a date."""
    parts = {_PART_WORDS[m[0]] for m in _PART.finditer(text)}
    clocks = [*_CLOCK.finditer(text), *_HOUR.finditer(_CLOCK.sub("\0", text))]
    if len(parts) > 1:
        return None, None, "请只说一个时间段：上午还是下午？"
    part = next(iter(parts), None)
    if len(clocks) > 1:
        return None, None, "请只说一个时间，比如：上午9点。"
    if clocks:
        clock = _clock_time(clocks[0], part)
        if isinstance(clock, str):
            return None, None, clock
        return _part_of(clock), clock, None
    if part == _NOON:
        return None, None, "请说上午还是下午，或者具体几点，比如：中午12点。"
    return part, None, None


def parse_time_of_day(text: str) -> Parsed:
    """"上午" / "下午" / "晚上" (早上 counts as 上午, 傍晚 as 晚上), or a `datetime.time` when a clock time is said:
    "9点", "九点半", "下午3点" (15:00), "14:30", "上午10点", "3点15分"."""
    part, clock, reason = _take_time(_expand(text))
    if reason:
        return _fail(reason)
    if clock is not None:
        return _ok(clock)
    return _ok(part) if part else _fail(_TIME_HELP)


@dataclass(frozen=True)
class When:
    """A day and/or a time: "明天下午" -> (date, "下午", None); "12月3日上午9点" -> (date, "上午", 09:00).

    `part` is "上午", "下午" or "晚上", as said or as implied by the clock time (15:00 is 下午).
    """

    date: date | None = None
    part: str | None = None
    time: time | None = None

    @property
    def text(self) -> str:
        """Said back to the citizen: "12月3日（周三）上午9:00"."""
        day = date_text(self.date) if self.date else ""
        clock = f"{self.time.hour}:{self.time.minute:02d}" if self.time else ""
        return f"{day}{self.part or ''}{clock}"


def parse_when(text: str, today: date) -> Parsed:
    """A day, a time, or both: "明天下午", "下周三上午", "12月3日上午9点", "周五", "下午3点". Value: `When`."""
    dates, rest = _take_dates(_expand(text), today)
    day = _one_date(dates)
    if isinstance(day, str):
        return _fail(day)
    part, clock, reason = _take_time(rest)
    if reason:
        return _fail(reason)
    if day is None and part is None:
        return _fail(f"没看懂是什么时候，请这样说：明天下午、下周三上午、{_example_day(today)}上午9点。")
    return _ok(When(day, part, clock))


# --- yes / no and choices -----------------------------------------------------------------------------------

# With the words older people use in the regions (中, 要得, 得行, 对头, 成; 不中, 要不得, 不得行).
_YES = {"是", "是的", "好", "好的", "对", "对的", "嗯", "嗯嗯", "可以", "行", "确认", "确定", "没问题", "没错", "同意",
        "要", "需要", "ok", "okay", "yes", "y", "妥", "中", "要得", "得行", "对头", "成", "没得问题", "当然"}
_NO = {"不", "不是", "不用", "不要", "算了", "没有", "否", "no", "n", "不对", "错了", "不需要", "不行", "不可以",
       "不好", "不同意", "不确认", "别", "不了", "没", "不必", "不中", "要不得", "不得行", "不成", "不对头"}
_TRAILING_PARTICLES = "啊呀吧呢哦噢了的哈嘛嘞呐哪滴"
_CLAUSES = re.compile(r"[\s,，。.!！?？;；、~]+")


def _yes_or_no(word: str) -> bool | None:
    word = re.sub(r"(.)\1+", r"\1", word) if word not in _YES | _NO else word  # 好好好 -> 好, 对对对 -> 对
    for candidate in (word, word.rstrip(_TRAILING_PARTICLES)):
        if candidate in _YES:
            return True
        if candidate in _NO:
            return False
    return None


def parse_yes_no(text: str) -> Parsed:
    """True for 是/好的/对/嗯/可以/行/确认/没问题/ok/要…, False for 不/不是/不用/算了/没有/否/no/错了….

    The first clause decides, so "好的，谢谢" is yes and "不用了，谢谢" is no. Numbers are not yes or no: in a
    conversation full of numbered choices, "1" is a choice.
    """
    folded = _fold(text).lower()
    clauses = [c for c in _CLAUSES.split(folded) if c]
    if clauses:
        answer = _yes_or_no(plain(folded)) if len(clauses) == 1 else _yes_or_no(clauses[0])
        if answer is not None:
            return _ok(answer)
    return _fail("请回复“是”或“不是”。")


def _numbers_help(count: int) -> str:
    return "请回复数字1。" if count == 1 else f"请回复数字1到{count}中的一个。"


def parse_choice(text: str, options: Sequence[str]) -> Parsed:
    """The 0-based index of the option chosen: by number (1, ２, 二, 第二个, 选2; see `choice_number`) or by its
    text (the whole option, an option named inside the text, or a unique option containing the text)."""
    if not options:
        raise ValueError("parse_choice needs at least one option")
    numbered = choice_number(text)
    if numbered is not None:
        number = numbered[0]
        return _ok(number - 1) if 1 <= number <= len(options) else _fail(_numbers_help(len(options)))
    said = plain(text)
    names = [plain(o) for o in options]
    if not said:
        return _fail(_numbers_help(len(options)))
    if said in names:
        return _ok(names.index(said))
    # Options named inside the text; one naming a longer option ("临时身份证" holds "身份证") loses to it.
    inside = [i for i, n in enumerate(names) if n and n in said]
    inside = [i for i in inside if not any(names[i] != names[j] and names[i] in names[j] for j in inside)]
    if len(inside) == 1:
        return _ok(inside[0])
    holding = [i for i, n in enumerate(names) if said in n] if len(said) >= 2 else []
    candidates = inside or holding
    if len(candidates) == 1:
        return _ok(candidates[0])
    if len(candidates) > 1:
        numbers = "、".join(str(i + 1) for i in candidates)
        return _fail(f"有几项都符合，请回复数字：{numbers}。")
    return _fail(_numbers_help(len(options)))


_NUMBER_SEPARATORS = re.compile(r"[\s,，、;；/.。+]+|和|跟|与|以及|及|还有")
_NUMBER_RANGE = re.compile(r"^(.+?)(?:到|至|~|-)(.+)$")  # 2到5, 2-5
_NUMBERS_HELP = "请输入材料前面的序号，比如：1、3、5。"


def parse_numbers(text: str, maximum: int | None = None) -> Parsed:
    """Several 1-based numbers, sorted and without repeats: "第2、5个", "2和5", "2,5", "二、五", "2 5", "2到4".

    With `maximum`, a number above it gets a reason naming the valid range.
    """
    folded = _fold(text)
    folded = re.sub(r"第|[个项条份号种]", " ", folded)
    numbers: set[int] = set()
    for token in filter(None, _NUMBER_SEPARATORS.split(folded)):
        span = _NUMBER_RANGE.match(token)
        low, high = (_number(span[1]), _number(span[2])) if span else (_number(token), _number(token))
        if low is None or high is None or low < 1 or high < low or high > 999:
            return _fail(_NUMBERS_HELP)
        numbers.update(range(low, high + 1))
    if not numbers:
        return _fail(_NUMBERS_HELP)
    if maximum is not None and max(numbers) > maximum:
        return _fail(f"序号只有1到{maximum}，请再看一下。")
    return _ok(sorted(numbers))


# --- numbers and codes --------------------------------------------------------------------------------------

_MOBILE = re.compile(r"1[3-9]\d{9}")
_MOBILE_HELP = "手机号应为11位数字，以1开头，请再输一次。"


def valid_mobile(s: str) -> bool:
    """An 11-digit mainland mobile number, digits only: "13800138000"."""
    return isinstance(s, str) and _MOBILE.fullmatch(s) is not None


def parse_mobile(text: str) -> Parsed:
    """A mainland mobile number as 11 digits. Spaces, dashes, "+86"/"86" and full-width digits are tolerated;
    words around it ("手机号是…") are ignored. A landline gets a reason asking for a mobile."""
    compact = re.sub(r"[\s\-()—.]", "", _fold(text))
    runs = re.findall(r"\+?\d+", compact)
    if len(runs) != 1:
        return _fail(_MOBILE_HELP if not runs else "请只输入一个手机号，11位数字。")
    digits = re.sub(r"^(\+86|0086|86)(?=1\d{10}$)", "", runs[0]).lstrip("+")
    if valid_mobile(digits):
        return _ok(digits)
    if digits.startswith("0") or len(digits) in (7, 8):
        return _fail("这像是固定电话，请留一个手机号，11位数字，以1开头。")
    return _fail(_MOBILE_HELP)


def _code_in(text: str) -> str:
    """The code a person typed, upper case, without spaces, dashes, punctuation or Chinese words around it:
    "身份证号：110105 19491231 002x" -> "11010519491231002X"."""
    return re.sub(r"[\s\-:,;。，、；\u4e00-\u9fff]", "", _fold(text)).upper()


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_check_digit(first17: str) -> str:
    """The 18th character of a 居民身份证号 (ISO 7064 MOD 11-2) for its first 17 digits."""
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS)) % 11]


def _id_problem(s: str, today: date | None) -> str | None:
    """Why an upper-case string is not a 居民身份证号, or None when it is one."""
    if len(s) == 15 and s.isdigit():
        return "这是15位的老身份证号，请输入18位的新号码。"
    if len(s) != 18:
        return f"身份证号应为18位，您输入的是{len(s)}位，请核对后再输一次。"
    if not (s[:17].isdigit() and (s[17].isdigit() or s[17] == "X")):
        return "身份证号前17位是数字，最后一位是数字或X，请核对后再输一次。"
    if s[0] == "0":
        return "身份证号开头不对，请核对后再输一次。"
    born = _make_date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    if born is None or born.year < 1900 or (today is not None and born > today):
        return "身份证号里的出生日期不对（第7到14位），请核对后再输一次。"
    if id_check_digit(s[:17]) != s[17]:
        return "身份证号最后一位校验不对，请核对后再输一次。"
    return None


def valid_id_number(s: str, today: date | None = None) -> bool:
    """An 18-character 居民身份证号 as stored: digits, upper-case X last, a real birth date, a right check digit."""
    return isinstance(s, str) and _id_problem(s, today) is None


def parse_id_number(text: str, today: date | None = None) -> Parsed:
    """A 居民身份证号, 18 characters with an upper-case X. Checks length, characters, region (not starting with
    0), birth date (a real day, not after `today` when given) and the check digit."""
    code = _code_in(text)
    if not code:
        return _fail("请输入18位身份证号。")
    if not code.isalnum() or not code.isascii():
        return _fail("身份证号前17位是数字，最后一位是数字或X，请核对后再输一次。")
    problem = _id_problem(code, today)
    return _fail(problem) if problem else _ok(code)


_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015: no I, O, Z, S, V
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17: str) -> str:
    """The 18th character of a 统一社会信用代码 for its first 17 (GB 32100-2015, modulus 31)."""
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS))
    return _USCC_CHARS[(31 - total % 31) % 31]


def _uscc_problem(s: str) -> str | None:
    """Why an upper-case string is not a 统一社会信用代码, or None when it is one."""
    if len(s) == 15 and s.isdigit():
        return "这是15位的老营业执照注册号，请输入营业执照上18位的统一社会信用代码。"
    if len(s) != 18:
        return f"统一社会信用代码应为18位，您输入的是{len(s)}位，请核对后再输一次。"
    wrong = sorted({c for c in s if c not in _USCC_CHARS})
    if wrong:
        return (f"统一社会信用代码里不会有{'、'.join(wrong)}（也没有字母I、O、Z、S、V），"
                "请核对后再输一次。")
    if not s[2:8].isdigit():
        return "统一社会信用代码第3到8位是数字（地区代码），请核对后再输一次。"
    if uscc_check_char(s[:17]) != s[17]:
        return "统一社会信用代码最后一位校验不对，请核对后再输一次。"
    return None


def valid_uscc(s: str) -> bool:
    """An 18-character 统一社会信用代码 as stored: upper case, allowed characters, a right check character."""
    return isinstance(s, str) and _uscc_problem(s) is None


def parse_uscc(text: str) -> Parsed:
    """A 统一社会信用代码 (18 characters, upper case); lower case, spaces and dashes are tolerated."""
    code = _code_in(text)
    if not code:
        return _fail("请输入营业执照上18位的统一社会信用代码。")
    if not code.isalnum() or not code.isascii():
        return _fail("统一社会信用代码只有数字和大写字母，请核对后再输一次。")
    problem = _uscc_problem(code)
    return _fail(problem) if problem else _ok(code)


# --- names and addresses ------------------------------------------------------------------------------------

_LEADING_LABEL = re.compile(r"^(?:我的名字是|我的名字叫|名字是|名字叫|我叫|我是|姓名是|姓名|名字|叫)[:：\s]*")
_CHINESE_NAME = re.compile(r"[\u4e00-\u9fff]+(?:·[\u4e00-\u9fff]+)*")  # 张三, 买买提·艾力
_LATIN_NAME = re.compile(r"[A-Za-z]+(?:[ .'\-][A-Za-z]+)*")  # John Smith, O'Neil
_NOT_IN_NAMES = set("我你他她吗呢吧啊么怎什哪谁想办")  # a sentence, not a name
_NOT_A_NAME = re.compile(r"多少|多久|几[点天号个次]|电话|号码|材料|地址|时间|预约|要带|收费|为啥|为什么"  # "电话多少"
                         r"|开门|上班|下班|周[六日末]|星期|礼拜|[能可要行]不|不$")  # "周六开门不", "能不能网上办"
_NAME_HELP = "请只输入姓名，比如：张三。"


_TIME_SAID = re.compile(r"上午|下午|中午|晚上|早上|今天|明天|后天|下周|这周|本周|点")


def _only_a_time(text: str) -> bool:
    """Nothing but a day and a time of day ("明天上午", "下周三下午"), which no name is; "周一" alone may be one."""
    if not _TIME_SAID.search(text):
        return False
    rest = _take_dates(_expand(text), date.today())[1]  # any day will do: only what is blanked out counts
    rest = _HOUR.sub("", _CLOCK.sub("", _PART.sub("", rest)))
    return not rest.replace("\0", "").strip()


def parse_name(text: str) -> Parsed:
    """A person's name: 2 to 15 Chinese characters (with · in minority names), or 2 to 40 Latin letters with
    spaces (foreign names on permanent residence cards are often longer than 15). "我叫张三" gives "张三"."""
    name = _fold(text).rstrip("。.!！")
    name = _LEADING_LABEL.sub("", name).strip()
    name = re.sub(r"[・•‧．.](?=[\u4e00-\u9fff])", "·", name)  # the dots people type in 买买提・艾力
    name = re.sub(r"\s+", " ", name)
    if any(c.isdigit() for c in name):
        return _fail("姓名里不会有数字，" + _NAME_HELP)
    if _only_a_time(name):  # "明天上午": the answer to another question
        return _fail("这里要填姓名，" + _NAME_HELP)
    if _CHINESE_NAME.fullmatch(name):
        if set(name) & _NOT_IN_NAMES or _NOT_A_NAME.search(name):
            return _fail(_NAME_HELP)
        return _ok(name) if 2 <= len(name) <= 15 else _fail("姓名应为2到15个字，" + _NAME_HELP)
    if _LATIN_NAME.fullmatch(name):
        return _ok(name) if 2 <= len(name) <= 40 else _fail("姓名太短或太长了，请按证件上的写法输入。")
    return _fail(_NAME_HELP)


_ADDRESS_MARKERS = ("省", "市", "区", "县", "镇", "乡", "街道", "路", "街", "村", "号", "小区", "栋", "楼", "室", "组",
                    "巷", "弄", "苑", "大道", "单元")
_ADDRESS_LABEL = re.compile(r"^(?:我的地址是|地址是|地址|我住在|住在|住址是|住址)[:：\s]*")
_ADDRESS_HELP = "请写详细地址，到门牌号，比如：某某市某某区某某路12号3栋201室。"


def parse_address(text: str) -> Parsed:
    """A postal address: at least 6 characters with at least one place word (省, 市, 区, 路, 号, 室 …)."""
    address = _ADDRESS_LABEL.sub("", re.sub(r"\s+", " ", _fold(text))).strip(" 。")
    if len(address) < 6:
        return _fail("地址太短了，" + _ADDRESS_HELP)
    if not any(marker in address for marker in _ADDRESS_MARKERS):
        return _fail(_ADDRESS_HELP)
    return _ok(address)


_COMPANY_MARKERS = ("公司", "厂", "店", "中心", "合作社", "事务所", "部", "院", "所", "协会", "集团", "商行",
                    "工作室", "馆", "社", "站", "场", "学校", "幼儿园", "诊所", "药房", "超市", "酒店", "银行",
                    "门市", "商店", "商贸", "基金会", "联合会", "委员会", "办公室", "局")
_COMPANY_LABEL = re.compile(r"^(?:公司名称是|公司名字是|公司名称|单位名称是|单位名称|单位是|名称是|名称|公司是)[:：\s]*")
_COMPANY_HELP = "请输入营业执照上的完整名称，比如：某某市某某商贸有限公司。"


def parse_company_name(text: str) -> Parsed:
    """The name of a company or other organisation, at least 4 characters, with a word such as 公司, 厂, 店,
    中心, 合作社, 事务所. Brackets come back full-width, as printed on a 营业执照: "某某（深圳）有限公司"."""
    name = _COMPANY_LABEL.sub("", re.sub(r"\s+", " ", _fold(text))).strip(" 。")
    name = name.replace("(", "（").replace(")", "）")
    if len(name) < 4 or name.isdigit():
        return _fail("名称太短了，" + _COMPANY_HELP)
    if not any(marker in name for marker in _COMPANY_MARKERS):
        return _fail(_COMPANY_HELP)
    return _ok(name)
