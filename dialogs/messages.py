"""What a citizen sent, as plain data: the gateway turns each WeChat push into one `Inbound`."""
from __future__ import annotations

from dataclasses import dataclass

TEXT, VOICE, IMAGE, LOCATION, VIDEO, LINK, FILE, EVENT, OTHER = (
    "text", "voice", "image", "location", "video", "link", "file", "event", "other")

# Events (lower case, as wechatpy names them)
SUBSCRIBE, SUBSCRIBE_SCAN, SCAN, UNSUBSCRIBE, CLICK, VIEW, LOCATION_REPORT = (
    "subscribe", "subscribe_scan", "scan", "unsubscribe", "click", "view", "location")


@dataclass(frozen=True)
class Inbound:
    user: str  # the citizen's OpenID
    kind: str  # TEXT, VOICE, IMAGE, LOCATION, VIDEO, LINK, FILE, EVENT or OTHER
    text: str | None = None  # TEXT content; VOICE: WeChat's speech recognition, when present and not empty
    media_id: str | None = None  # IMAGE / VOICE / VIDEO
    latitude: float | None = None  # LOCATION
    longitude: float | None = None
    label: str | None = None  # LOCATION place text
    event: str | None = None  # EVENT: SUBSCRIBE, SUBSCRIBE_SCAN, SCAN, UNSUBSCRIBE, CLICK, VIEW, LOCATION_REPORT, other
    key: str | None = None  # CLICK menu key, SCAN / SUBSCRIBE_SCAN scene, VIEW url
