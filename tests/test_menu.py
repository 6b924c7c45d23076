"""The custom menu as data: the bundled file validates, bad files are refused, `menu push` posts exactly the file;
and `bangban worker --once` delivers the outbox, both against a local fake of WeChat."""
from __future__ import annotations

import copy
import json
from datetime import datetime, timezone

import pytest
from bot.cli import main
from bot.config import Config, ConfigError
from bot.db import create_schema, session_factory
from bot.menu import MENU_PATH, MenuError, check_menu, click_keys, load_menu
from bot.outbox import SENT, OutboxMessage, enqueue_text, note_user_message
from bot.worker import connect_database
from fake_wechat import FakeWeChat


def test_bundled_menu_validates_and_has_the_five_intents():
    menu = load_menu()
    assert click_keys(menu) == ["CONSULT", "BOOK", "MATERIALS", "PROGRESS", "HUMAN"]
    assert [button["name"] for button in menu["button"]] == ["办事咨询", "预约办理", "转人工"]
    assert [sub["name"] for sub in menu["button"][1]["sub_button"]] == ["我要预约", "材料清单", "查进度"]


def _button(name="按钮", key="K"):
    return {"type": "click", "name": name, "key": key}


@pytest.mark.parametrize("change, expected", [
    (lambda m: m["button"].append(_button(key="X4")) or m["button"].append(_button(key="X5")), "1 to 3 buttons"),
    (lambda m: m["button"][0].update(name="办事咨询服务"), "at most 16"),
    (lambda m: m["button"][1]["sub_button"].extend(_button(key=f"S{i}") for i in range(3)), "1 to 5 buttons"),
    (lambda m: m["button"][1]["sub_button"][0].update(name="我要预约办理营业执照"), "wider than 8"),
    (lambda m: m["button"][0].update(key="K" * 129), "longer than 128 bytes"),
    (lambda m: m["button"][2].update(key="CONSULT"), "also the key of button[0]"),
    (lambda m: m["button"][0].update(type="clik"), "button[0].type"),
    (lambda m: m["button"][0].pop("key"), "needs key"),
    (lambda m: m["button"][0].update(url="https://example.org"), "does not take url"),
    (lambda m: m["button"][2].update(type="view", url="ftp://x", key=None) or m["button"][2].pop("key"), "http"),
    (lambda m: m["button"][1].update(type="click"), "takes only name and sub_button"),
    (lambda m: m.update(menuid=1), 'exactly one field, "button"'),
])
def test_bad_menus_are_refused_naming_the_problem(change, expected):
    menu = copy.deepcopy(load_menu())
    change(menu)
    problems = check_menu(menu)
    assert problems and any(expected in problem for problem in problems), problems


def test_a_bad_file_raises_with_every_problem(tmp_path):
    path = tmp_path / "menu.json"
    path.write_text(json.dumps({"button": [{"type": "click", "name": "太长的菜单名字", "key": ""}]}), encoding="utf-8")
    with pytest.raises(MenuError) as caught:
        load_menu(path)
    assert len(caught.value.problems) == 2
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(MenuError, match="not UTF-8 JSON"):
        load_menu(path)


@pytest.fixture
def fake_env(monkeypatch, tmp_path):
    with FakeWeChat() as fake:
        monkeypatch.setenv("WECHAT_API_BASE", fake.url)
        monkeypatch.setenv("WECHAT_TOKEN", "testtoken")
        monkeypatch.setenv("WECHAT_APP_ID", fake.app_id)
        monkeypatch.setenv("WECHAT_APP_SECRET", fake.secret)
        monkeypatch.setenv("REDIS_URL", "")  # the token stays in this process: no fake token in a shared Redis
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
        monkeypatch.setenv("BANGBAN_DATA_DIR", str(tmp_path))
        yield fake


def test_menu_push_posts_exactly_the_file(fake_env, capsys):
    assert main(["wechat", "menu", "push"]) == 0
    assert fake_env.menus == [json.loads(MENU_PATH.read_text(encoding="utf-8"))]
    out = capsys.readouterr().out
    assert "published the menu" in out and "预约办理 ▸ 我要预约 (BOOK)" in out


def test_menu_push_reports_errcode_and_dry_run_posts_nothing(fake_env, capsys, monkeypatch):
    assert main(["wechat", "menu", "push", "--dry-run"]) == 0
    assert not fake_env.requests
    monkeypatch.setenv("WECHAT_APP_SECRET", "wrong-secret")
    assert main(["wechat", "menu", "push"]) == 1
    assert "errcode 40125: invalid appsecret" in capsys.readouterr().err
    assert not fake_env.menus


def test_menu_push_refuses_a_bad_file(fake_env, tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"button": []}), encoding="utf-8")
    assert main(["wechat", "menu", "push", "--file", str(bad)]) == 2
    assert "1 to 3 buttons" in capsys.readouterr().err
    assert not fake_env.requests


def test_worker_once_delivers_the_outbox(fake_env, capsys):
    config = Config.from_env()
    engine = connect_database(config)
    create_schema(engine)
    sessions = session_factory(engine)
    now = datetime.now(timezone.utc)
    with sessions.begin() as session:
        note_user_message(session, "oCliUser", now, "message")
        [message] = enqueue_text(session, "oCliUser", "您的材料已通过预审。", "staff")
    assert main(["worker", "--once"]) == 0
    assert fake_env.sent == [("oCliUser", "您的材料已通过预审。")]
    assert "1 sent" in capsys.readouterr().out
    with sessions() as session:
        assert session.get(OutboxMessage, message.id).status == SENT
    engine.dispose()


def test_worker_settings_are_checked():
    config = Config.from_env({"WECHAT_API_BASE": "http://127.0.0.1:8080/", "BANGBAN_WORKER_POLL_SECONDS": "0.5"})
    assert (config.wechat_api_base, config.worker_poll_seconds) == ("http://127.0.0.1:8080", 0.5)
    assert Config.from_env({}).wechat_api_base == "https://api.weixin.qq.com"
    with pytest.raises(ConfigError, match="WECHAT_API_BASE"):
        Config.from_env({"WECHAT_API_BASE": "api.weixin.qq.com"})
    with pytest.raises(ConfigError, match="BANGBAN_WORKER_POLL_SECONDS"):
        Config.from_env({"BANGBAN_WORKER_POLL_SECONDS": "soon"})
