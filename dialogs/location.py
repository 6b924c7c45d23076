"""A location the citizen sent: how far the service hall is, and how to get there."""
from __future__ import annotations

from math import asin, cos, radians, sin, sqrt
from typing import TYPE_CHECKING

from .text import clip

if TYPE_CHECKING:
    from knowledge.model import Hall

EARTH_RADIUS_M = 6_371_000.0
FAR_KM = 30  # further than this, suggest a phone call or 上门服务 before setting out


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance in metres."""
    p1, p2 = radians(lat1), radians(lat2)
    dp, dl = p2 - p1, radians(lon2 - lon1)
    a = sin(dp / 2) ** 2 + cos(p1) * cos(p2) * sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * asin(min(1.0, sqrt(a)))


def distance_text(metres: float) -> str:
    """'2.0公里' from 1 km up, '350米' below (to 10 m; '不到50米' when it is right there)."""
    if metres >= 1000:
        return f"{metres / 1000:.1f}公里"
    if metres < 50:
        return "不到50米"
    return f"{int(round(metres, -1))}米"


def _valid(lat: float | None, lon: float | None) -> bool:
    return (isinstance(lat, (int, float)) and isinstance(lon, (int, float))
            and -90 <= lat <= 90 and -180 <= lon <= 180)


def nearest_hall_text(hall: "Hall", latitude: float | None, longitude: float | None) -> str:
    """The hall with its distance from the citizen (when both places are known), address, hours and phone.

    There is one hall per assistant today; when several are configured, this is where the nearest is chosen.
    """
    lines = [f"离您最近的服务大厅：{hall.name}"]
    far = False
    if _valid(latitude, longitude) and _valid(hall.latitude, hall.longitude):
        metres = distance_m(latitude, longitude, hall.latitude, hall.longitude)
        lines.append(f"距离您约{distance_text(metres)}（直线距离）")
        far = metres > FAR_KM * 1000
    lines += [f"地址：{hall.address}", f"办公时间：{hall.hours}", f"电话：{hall.phone}"]
    if far:
        lines.append("离您比较远，出发前可以先打电话问清楚。行动不便的老人等可以回复“预约”问问上门服务。")
    else:
        lines.append("出发前可以先问我要带什么材料，免得白跑。")
    return clip("\n".join(lines))
