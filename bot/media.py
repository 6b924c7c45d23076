"""Photos a citizen sent (材料照片), kept against the citizen and their open case, and fetched from WeChat.

A push carries only a media id: WeChat keeps the photo itself for 3 days. The turn records the id (`keep_media`,
in the turn's transaction); the worker's `PhotoFetcher` chore then downloads the photo through the API
(`GET /cgi-bin/media/get`) into the database, so that staff see it on the case page and in the 转人工
conversation long after WeChat has dropped it. A fetch that fails for a passing reason (network, WeChat busy) is
tried again later, backing off, for as long as WeChat keeps the photo; one WeChat no longer has, or one over
10 MB, is marked failed with the reason, for staff to ask the citizen again. Rows stay when the citizen unfollows
(records, not conversation state).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from dialogs.effects import KeepMedia

from .db import Base
from .db import UTCDateTime, utcnow
from .outbox import mask_openid

if TYPE_CHECKING:
    from sqlalchemy.orm import sessionmaker

    from .wechat_api import WeChatAPI

log = logging.getLogger(__name__)

PENDING, FETCHED, FAILED = "pending", "fetched", "failed"
WECHAT_KEEPS = timedelta(days=3)  # a temporary medium's life at WeChat
BACKOFF = (60, 300, 1800, 7200, 21600)  # seconds before the 2nd, 3rd … attempt; then every 6 h while WeChat keeps it
LEASE = timedelta(minutes=5)  # a fetch taken by a worker that died is taken again after this
BATCH = 10  # photos at most per round of the chore
# Shown inline in the console; anything else is offered as a download.
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp"})

GONE = "微信已不再保存这张照片（只保存3天），请联系群众重新发送。"
TOO_LARGE = "照片太大（超过10MB），没有取回。请联系群众重新拍一张发送，或把材料带到窗口。"


class KeptMedia(Base):
    __tablename__ = "kept_media"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    media_id: Mapped[str] = mapped_column(String(256))
    note: Mapped[str | None] = mapped_column(Text)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    material: Mapped[str | None] = mapped_column(Text)  # the checklist's material being discussed
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Fetching the photo from WeChat: pending → fetched (its bytes in kept_media_files) or failed (why, for staff).
    fetch_status: Mapped[str] = mapped_column(String(16), default=PENDING, server_default=PENDING, index=True)
    fetch_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_fetch_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)  # None: now
    fetch_error: Mapped[str | None] = mapped_column(String(300), default=None)
    content_type: Mapped[str | None] = mapped_column(String(64), default=None)
    size: Mapped[int | None] = mapped_column(Integer, default=None)
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    def __repr__(self) -> str:  # no openid
        return f"<KeptMedia {self.id} {self.fetch_status}>"

    @property
    def shown_inline(self) -> bool:
        return self.fetch_status == FETCHED and self.content_type in IMAGE_TYPES


class KeptMediaFile(Base):
    """The photo's bytes, apart from its row so that lists of photos do not read them."""

    __tablename__ = "kept_media_files"

    media_row_id: Mapped[int] = mapped_column(ForeignKey("kept_media.id"), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)


def keep_media(session: Session, openid: str, effect: KeepMedia, at: datetime | None = None,
               case_id: int | None = None) -> KeptMedia:
    """Add the media row to the caller's transaction (the caller commits); the worker fetches the photo."""
    row = KeptMedia(openid=openid, media_id=effect.media_id, note=effect.note, case_id=case_id,
                    material=effect.material, received_at=at or utcnow(), fetch_status=PENDING, fetch_attempts=0)
    session.add(row)
    return row


# ---- what staff see ------------------------------------------------------------------------------------------------

def case_photos(session: Session, case_id: int) -> list[KeptMedia]:
    return list(session.scalars(select(KeptMedia).where(KeptMedia.case_id == case_id)
                                .order_by(KeptMedia.received_at, KeptMedia.id)))


def photos_since(session: Session, openid: str, since: datetime) -> list[KeptMedia]:
    """The citizen's photos received at or after `since` (a 转人工 conversation's start)."""
    return list(session.scalars(select(KeptMedia).where(KeptMedia.openid == openid, KeptMedia.received_at >= since)
                                .order_by(KeptMedia.received_at, KeptMedia.id)))


def photo_file(session: Session, row: KeptMedia) -> bytes | None:
    return session.scalar(select(KeptMediaFile.content).where(KeptMediaFile.media_row_id == row.id))


def status_text(row: KeptMedia) -> str:
    """For staff: where the photo is, when it is not shown."""
    if row.fetch_status == FETCHED:
        return "" if row.shown_inline else "不是图片，可下载查看"
    if row.fetch_status == FAILED:
        return row.fetch_error or "未能取回照片"
    return row.fetch_error or "正在从微信取回照片，请稍后刷新"


# ---- the worker's chore ---------------------------------------------------------------------------------------------

class PhotoFetcher:
    """A chore for the worker (bot/chores.py): fetch the photos not fetched yet, a few per call."""

    __name__ = "fetch_photos"  # the worker names a failing chore by it
    each_round = True  # every round of the worker (one indexed SELECT), not every 30 s: staff wait for the photo

    def __init__(self, sessions: "sessionmaker", api: "WeChatAPI", clock=utcnow) -> None:
        self.sessions, self.api, self.clock = sessions, api, clock

    def __call__(self, now: datetime | None = None) -> int:
        """Fetches what is due; returns how many photos were stored."""
        now = now or self.clock()
        with self.sessions() as session:
            due = list(session.scalars(
                select(KeptMedia.id).where(KeptMedia.fetch_status == PENDING,
                                           or_(KeptMedia.next_fetch_at.is_(None), KeptMedia.next_fetch_at <= now))
                .order_by(KeptMedia.received_at, KeptMedia.id).limit(BATCH)))
        return sum(self._fetch(row_id, now) for row_id in due)

    def _claim(self, row_id: int, now: datetime) -> KeptMedia | None:
        """The row, taken for LEASE by this worker (a conditional UPDATE: two workers never fetch one photo)."""
        with self.sessions.begin() as session:
            taken = session.execute(
                update(KeptMedia).where(KeptMedia.id == row_id, KeptMedia.fetch_status == PENDING,
                                        or_(KeptMedia.next_fetch_at.is_(None), KeptMedia.next_fetch_at <= now))
                .values(next_fetch_at=now + LEASE, fetch_attempts=KeptMedia.fetch_attempts + 1)
                .execution_options(synchronize_session=False)).rowcount
            if not taken:
                return None
            row = session.get(KeptMedia, row_id)
            session.expunge(row)
            return row

    def _fetch(self, row_id: int, now: datetime) -> bool:
        from .wechat_api import INVALID_MEDIA_ERRCODE, MediaTooLarge, WeChatAPIError, WeChatUnavailable

        row = self._claim(row_id, now)
        if row is None:
            return False
        if now - row.received_at > WECHAT_KEEPS:
            self._fail(row, GONE, "older than WeChat keeps media")
            return False
        try:
            media = self.api.get_media(row.media_id)
        except WeChatAPIError as exc:
            if exc.errcode == INVALID_MEDIA_ERRCODE:
                self._fail(row, GONE, f"errcode {exc.errcode}")
            else:
                self._retry(row, now, f"errcode {exc.errcode}")
            return False
        except MediaTooLarge as exc:
            self._fail(row, TOO_LARGE, str(exc))
            return False
        except WeChatUnavailable as exc:
            self._retry(row, now, str(exc))
            return False
        with self.sessions.begin() as session:
            stored = session.execute(update(KeptMedia).where(KeptMedia.id == row.id, KeptMedia.fetch_status == PENDING)
                                     .values(fetch_status=FETCHED, content_type=media.content_type[:64],
                                             size=len(media.content), fetched_at=self.clock(), fetch_error=None,
                                             next_fetch_at=None)
                                     .execution_options(synchronize_session=False)).rowcount
            if not stored:  # a slow fetch whose lease ran out: another worker stored the photo meanwhile
                return False
            session.add(KeptMediaFile(media_row_id=row.id, content=media.content))
        log.info("media: photo %d of %s fetched (%d bytes, %s)", row.id, mask_openid(row.openid),
                 len(media.content), media.content_type)
        return True

    def _retry(self, row: KeptMedia, now: datetime, why: str) -> None:
        wait = BACKOFF[min(row.fetch_attempts, len(BACKOFF)) - 1]
        with self.sessions.begin() as session:
            session.execute(update(KeptMedia).where(KeptMedia.id == row.id).values(
                next_fetch_at=now + timedelta(seconds=wait), fetch_error="暂时未能从微信取回，稍后自动再试"))
        log.warning("media: photo %d of %s not fetched (%s); trying again in %d s", row.id, mask_openid(row.openid),
                    why, wait)

    def _fail(self, row: KeptMedia, text: str, why: str) -> None:
        with self.sessions.begin() as session:
            session.execute(update(KeptMedia).where(KeptMedia.id == row.id).values(
                fetch_status=FAILED, fetch_error=text, next_fetch_at=None))
        log.warning("media: photo %d of %s cannot be fetched (%s)", row.id, mask_openid(row.openid), why)
