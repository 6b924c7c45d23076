"""The day before a booking, the citizen gets a subscription-message reminder (when a template is configured)."""
from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, select

from bot.cases.models import Appointment
from bot.cases.service import ApplicantDetails, open_case
from bot.chores import make_chores
from bot.config import Config
from bot.db import create_schema, session_factory
from bot.outbox import SUBSCRIPTION, OutboxMessage
from bot.reminders import parse_fields, queue_reminders
from bot.wechat_api import WeChatAPI
from bot.worker import Worker
from dialogs.workdays import Calendar
from fake_wechat import FakeWeChat
from knowledge.catalogue import load_catalogue
from knowledge.hall import load_hall

SHANGHAI = ZoneInfo("Asia/Shanghai")
CITIZEN = "oReminderCitizen0000000000001"
FIELDS = parse_fields("thing1=item,time2=time,thing3=place,character_string4=number")


@pytest.fixture
def sessions(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'r.db'}")
    create_schema(engine)
    yield session_factory(engine)
    engine.dispose()


def book(sessions, day: date, openid: str = CITIZEN) -> str:
    with sessions.begin() as session:
        case = open_case(session, applicant=ApplicantDetails(kind="个人", name="张三", phone="13812345678"),
                         openid=openid, item_id=None, item_title="居民身份证申领", catalogue_version="v1",
                         unit_name="区公安分局", form="现场帮办", promised_limit=None, calendar=Calendar(),
                         now=datetime(2026, 11, 20, 10, tzinfo=SHANGHAI))
        session.add(Appointment(case_id=case.id, day=day, start=time(9), end=time(9, 30), place="示例中心1楼",
                                status="booked", created_at=datetime(2026, 11, 20, 2, tzinfo=ZoneInfo("UTC"))))
        return case.number


def subscriptions(sessions) -> list[OutboxMessage]:
    with sessions() as session:
        return session.scalars(select(OutboxMessage).where(OutboxMessage.kind == SUBSCRIPTION)).all()


def test_a_booking_tomorrow_gets_one_reminder_after_nine_and_none_before(sessions):
    number = book(sessions, date(2026, 11, 24))
    book(sessions, date(2026, 11, 25), openid="oSomeoneBookedTheDayAfter000001")
    with sessions.begin() as session:
        assert queue_reminders(session, "TPL", FIELDS, datetime(2026, 11, 23, 8, 30, tzinfo=SHANGHAI)) == 0
    with sessions.begin() as session:
        assert queue_reminders(session, "TPL", FIELDS, datetime(2026, 11, 23, 9, 5, tzinfo=SHANGHAI)) == 1
    with sessions.begin() as session:
        assert queue_reminders(session, "TPL", FIELDS, datetime(2026, 11, 23, 15, 0, tzinfo=SHANGHAI)) == 0
    [row] = subscriptions(sessions)
    assert row.openid == CITIZEN and number in row.payload and "2026年11月24日 09:00" in row.payload


def test_a_cancelled_booking_or_a_closed_case_gets_no_reminder(sessions):
    book(sessions, date(2026, 11, 24))
    with sessions.begin() as session:
        session.execute(Appointment.__table__.update().values(status="cancelled"))
    with sessions.begin() as session:
        assert queue_reminders(session, "TPL", FIELDS, datetime(2026, 11, 23, 10, tzinfo=SHANGHAI)) == 0


def test_the_worker_sends_the_reminder_as_a_subscription_message_outside_any_chat_window(sessions):
    number = book(sessions, date(2026, 11, 24))
    hall = load_hall(None, load_catalogue())
    config = Config.from_env({"WECHAT_REMINDER_TEMPLATE_ID": "TPL-123"})
    chores = make_chores(config, sessions, None, hall, clock=lambda: datetime(2026, 11, 23, 10, tzinfo=SHANGHAI))
    with FakeWeChat() as fake:
        worker = Worker(sessions, WeChatAPI(fake.app_id, fake.secret, base_url=fake.url), chores=chores)
        worker._run_chores()
        done = worker.run_once()
    assert done.sent == 1
    [(openid, template, data)] = fake.subscriptions
    assert (openid, template) == (CITIZEN, "TPL-123")
    assert data["character_string4"]["value"] == number and data["thing1"]["value"] == "居民身份证申领"


def test_without_a_template_there_are_no_reminder_chores(sessions):
    hall = load_hall(None, load_catalogue())
    assert "remind" not in [chore.__name__ for chore in make_chores(Config.from_env({}), sessions, None, hall)]


def test_a_wrong_field_mapping_is_a_configuration_error_naming_the_variable():
    from bot.config import ConfigError

    with pytest.raises(ConfigError, match="WECHAT_REMINDER_FIELDS"):
        Config.from_env({"WECHAT_REMINDER_FIELDS": "thing1=itme"})
