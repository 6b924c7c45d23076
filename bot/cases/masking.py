"""Personal data as lists, logs and other units' staff see it: enough to tell people apart, not to identify them.

    mask_name("张三丰") -> "张**"        mask_phone("13812345678") -> "138****5678"
    mask_id("11010519491231002X") -> "110105********002X"   mask_address("广州市天河区示例大道1号") -> "广州市天河区****"
"""
from __future__ import annotations


def mask_name(name: str | None) -> str:
    if not name:
        return ""
    name = name.strip()
    if len(name) <= 1:
        return "*"
    return name[0] + "*" * min(len(name) - 1, 3)


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    digits = phone.strip()
    if len(digits) >= 11:
        return digits[:3] + "****" + digits[-4:]
    if len(digits) > 4:
        return "*" * (len(digits) - 4) + digits[-4:]
    return "****"


def mask_id(number: str | None) -> str:
    """身份证号 or 统一社会信用代码: the first 6 (region / registration authority) and the last 4 characters."""
    if not number:
        return ""
    number = number.strip()
    if len(number) <= 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_address(address: str | None) -> str:
    if not address:
        return ""
    address = address.strip()
    keep = min(6, len(address) // 2)
    return address[:keep] + "****"
