"""Photos a citizen sent (材料照片), kept by WeChat media id against the citizen and their open case.

Only the id and the time are stored here: WeChat keeps a temporary medium for 3 days, and fetching it is the job
of whoever works on the case. Rows stay when the citizen unfollows (records, not conversation state).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from dialogs.effects import KeepMedia

from .db import Base
from .db import UTCDateTime, utcnow


class KeptMedia(Base):
    __tablename__ = "kept_media"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    media_id: Mapped[str] = mapped_column(String(256))
    note: Mapped[str | None] = mapped_column(Text)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    material: Mapped[str | None] = mapped_column(Text)  # the checklist's material being discussed
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:  # no openid
        return f"<KeptMedia {self.id}>"


def keep_media(session: Session, openid: str, effect: KeepMedia, at: datetime | None = None,
               case_id: int | None = None) -> KeptMedia:
    """Add the media row to the caller's transaction (the caller commits)."""
    row = KeptMedia(openid=openid, media_id=effect.media_id, note=effect.note, case_id=case_id,
                    material=effect.material, received_at=at or utcnow())
    session.add(row)
    return row
