"""Photos citizens sent, in the console: on the case page and in the 转人工 conversation, fetched from WeChat (a
local fake of its API on loopback) by the worker's chore, shown only to staff who may see the case's personal data
or the conversation."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.cases.models import Case
from bot.db import utcnow
from bot.media import KeptMedia, PhotoFetcher, keep_media
from bot.wechat_api import WeChatAPI
from dialogs.effects import KeepMedia
from fake_wechat import FakeWeChat
from staff_helpers import record_escalation, services_of
from test_staff_cases import app, client_for, register  # noqa: F401 (app is a fixture)

JPEG = b"\xff\xd8\xff\xe0" + b"a photo of the residence permit form" * 40
CITIZEN = "oPHOTO-CITIZEN"


@pytest.fixture
def fake():
    with FakeWeChat() as server:
        yield server


def keep(app, media_id: str, case_id: int | None = None, material: str | None = None, at=None) -> int:
    with services_of(app).sessions.begin() as session:
        row = keep_media(session, CITIZEN, KeepMedia(media_id, note="材料照片", material=material), at=at,
                         case_id=case_id)
        session.flush()
        return row.id


def fetch(app, fake) -> int:
    return PhotoFetcher(services_of(app).sessions, WeChatAPI(fake.app_id, fake.secret, base_url=fake.url))()


def figures(html: str) -> dict[str, str]:
    """data-photo id → data-status of the photos on a page."""
    return dict(re.findall(r'<figure class="photo" data-photo="(\d+)" data-status="(\w+)"', html))


def test_the_case_page_shows_the_photos_to_the_units_staff_only(app, fake):
    number = register(client_for(app, "lixy"))
    with services_of(app).sessions() as session:
        case_id = session.scalar(select(Case.id).where(Case.number == number))
    fake.media["MEDIA-OK"] = (JPEG, "image/jpeg")
    fetched = keep(app, "MEDIA-OK", case_id, material="居住证申领表")
    gone = keep(app, "MEDIA-GONE", case_id)
    assert fetch(app, fake) == 1
    waiting = keep(app, "MEDIA-LATER", case_id)

    clerk = client_for(app, "lixy")
    html = clerk.get(f"/staff/cases/{number}").get_data(as_text=True)
    assert figures(html) == {str(fetched): "fetched", str(gone): "failed", str(waiting): "pending"}
    assert f'<img src="/staff/photos/{fetched}"' in html and f'src="/staff/photos/{gone}"' not in html
    assert "微信已不再保存这张照片" in html and "正在从微信取回照片" in html
    photo = clerk.get(f"/staff/photos/{fetched}")
    assert photo.status_code == 200 and photo.data == JPEG and photo.mimetype == "image/jpeg"
    assert photo.headers["X-Content-Type-Options"] == "nosniff" and "private" in photo.headers["Cache-Control"]
    not_yet = clerk.get(f"/staff/photos/{waiting}")
    assert not_yet.status_code == 404 and "正在从微信取回" in not_yet.get_data(as_text=True)
    assert clerk.get("/staff/photos/999999").status_code == 404

    other = client_for(app, "wangxy")  # another unit: the case masked, its photos counted, not shown
    html = other.get(f"/staff/cases/{number}").get_data(as_text=True)
    assert "共3张" in html and not figures(html) and "/staff/photos/" not in html
    assert other.get(f"/staff/photos/{fetched}").status_code == 403
    assert client_for(app, "admin").get(f"/staff/photos/{fetched}").status_code == 200
    assert app.test_client().get(f"/staff/photos/{fetched}").status_code in (302, 401)  # not logged in


def test_a_file_that_is_not_an_image_is_offered_as_a_download(app, fake):
    number = register(client_for(app, "lixy"))
    with services_of(app).sessions() as session:
        case_id = session.scalar(select(Case.id).where(Case.number == number))
    fake.media["MEDIA-HTML"] = (b"<script>alert(1)</script>", "text/html")
    row = keep(app, "MEDIA-HTML", case_id)
    fetch(app, fake)
    clerk = client_for(app, "lixy")
    assert f'<img src="/staff/photos/{row}"' not in clerk.get(f"/staff/cases/{number}").get_data(as_text=True)
    download = clerk.get(f"/staff/photos/{row}")
    assert download.mimetype == "application/octet-stream"
    assert download.headers["Content-Disposition"].startswith("attachment")


def test_a_photo_sent_while_waiting_for_a_person_is_shown_with_its_line(app, fake):
    from bot.cases.models import Message

    svc = services_of(app)
    started = utcnow() - timedelta(minutes=5)
    escalation = record_escalation(svc.sessions, None, CITIZEN, started, item_id="EXT-015", question="居住证怎么办",
                                   status="waiting")
    with svc.sessions.begin() as session:  # what the gateway writes for a photo while waiting (bot/wechat/effects.py)
        for minute, text in ((1, "这是我的表"), (2, "[图片]")):
            session.add(Message(openid=CITIZEN, escalation_id=escalation, direction="in", author="citizen", text=text,
                                at=started + timedelta(minutes=minute)))
    before = keep(app, "MEDIA-BEFORE", at=started - timedelta(minutes=1))  # sent before 转人工: not this conversation's
    row = keep(app, "MEDIA-OK", at=started + timedelta(minutes=2))
    fake.media.update({"MEDIA-OK": (JPEG, "image/jpeg"), "MEDIA-BEFORE": (JPEG, "image/jpeg")})
    clerk = client_for(app, "lixy")  # 区公安分局 handles 居住证: the conversation is theirs
    before_fetch = clerk.get(f"/staff/conversation/{escalation}.json").get_json()
    assert figures(before_fetch["html"]) == {str(row): "pending"}
    fetch(app, fake)
    after = clerk.get(f"/staff/conversation/{escalation}.json").get_json()
    assert after["shown"] != before_fetch["shown"] and after["count"] == before_fetch["count"]
    line = re.search(r'<li class="message in"[^>]*>(?:(?!</li>).)*\[图片\](?:(?!</li>).)*</li>', after["html"], re.S)
    assert line and f'<img src="/staff/photos/{row}"' in line.group(0)
    assert clerk.get(f"/staff/photos/{row}").data == JPEG
    assert str(before) not in figures(after["html"])

    other = client_for(app, "wangxy")  # 区民政局: neither the conversation nor its photos
    assert other.get(f"/staff/conversation/{escalation}").status_code == 403
    assert other.get(f"/staff/photos/{row}").status_code == 403
    with svc.sessions() as session:
        assert session.get(KeptMedia, row).case_id is None
