"""GET /health really asks the database and Redis, and never shows a password."""
from __future__ import annotations

import logging

import pytest

import bot
from bot.config import Config, ConfigError

PASSWORD = "pw-Zq81-never-shown"
UNREACHABLE_REDIS = f"redis://:{PASSWORD}@127.0.0.1:1/0"
UNREACHABLE_POSTGRES = f"postgresql://bangban:{PASSWORD}@127.0.0.1:1/bangban"


def get_health(environ: dict[str, str]):
    app = bot.create_app(Config.from_env(environ))
    return app.test_client().get("/health")


def test_health_is_ok_with_the_default_sqlite_database_and_no_redis(tmp_path):
    data_dir = tmp_path / "instance"

    response = get_health({"BANGBAN_DATA_DIR": str(data_dir)})

    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "redis": "not configured"}
    assert (data_dir / "bangban.db").is_file()


def test_health_is_ok_against_real_postgresql_and_real_redis(tmp_path, postgres_url, redis_url):
    response = get_health({"BANGBAN_DATA_DIR": str(tmp_path), "DATABASE_URL": postgres_url, "REDIS_URL": redis_url})

    assert response.json == {"status": "ok", "database": "ok", "redis": "ok"}
    assert response.status_code == 200


def test_unreachable_redis_gives_503_and_does_not_leak_its_password(tmp_path, caplog):
    caplog.set_level(logging.WARNING)

    response = get_health({"BANGBAN_DATA_DIR": str(tmp_path), "REDIS_URL": UNREACHABLE_REDIS})

    assert response.status_code == 503
    assert response.json["status"] == "degraded"
    assert response.json["database"] == "ok"
    assert response.json["redis"].startswith("error: ")
    assert PASSWORD not in response.get_data(as_text=True)
    assert "redis" in caplog.text and PASSWORD not in caplog.text


def test_unreachable_postgresql_gives_503_and_does_not_leak_its_password(tmp_path, caplog):
    caplog.set_level(logging.WARNING)

    response = get_health({"BANGBAN_DATA_DIR": str(tmp_path), "DATABASE_URL": UNREACHABLE_POSTGRES})

    assert response.status_code == 503
    assert response.json["database"].startswith("error: ")
    assert PASSWORD not in response.get_data(as_text=True)
    assert "database" in caplog.text and PASSWORD not in caplog.text


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "not a url"),
        ("DATABASE_URL", "mysql://user:pw@host/db"),
        ("REDIS_URL", "127.0.0.1:6379"),
        ("REDIS_URL", "http://127.0.0.1:6379/0"),
        ("LOG_LEVEL", "LOUD"),
        ("BANGBAN_CATALOGUE", "/no/such/guides.jsonl"),
        ("BANGBAN_HALL_DIR", "/no/such/hall"),
    ],
)
def test_a_malformed_variable_is_named_in_the_config_error(variable, value, tmp_path):
    with pytest.raises(ConfigError, match=variable) as error:
        Config.from_env({"BANGBAN_DATA_DIR": str(tmp_path), variable: value})

    assert "expected" in str(error.value)
    assert "pw@" not in str(error.value)


def test_a_postgresql_url_is_given_the_psycopg3_driver():
    for given in ("postgresql://u:p@db:5432/bangban", "postgres://u:p@db:5432/bangban"):
        assert Config.from_env({"DATABASE_URL": given}).database_url == "postgresql+psycopg://u:p@db:5432/bangban"


def test_defaults_need_no_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    config = Config.from_env({})

    assert config.data_dir == tmp_path / "instance"
    assert config.database_url == f"sqlite:///{tmp_path / 'instance' / 'bangban.db'}"
    assert config.redis_url is None
    assert config.catalogue_paths == ()
    assert config.log_level == "INFO"
    assert not config.data_dir.exists(), "the data directory is created on demand, not by reading the config"


def test_the_assistants_log_lines_reach_stderr_without_a_host_logging_setup(tmp_path):
    import subprocess
    import sys

    code = ("import logging; from bot.app import create_app; from bot.config import Config;"
            f"create_app(Config.from_env({{'BANGBAN_DATA_DIR': {str(tmp_path)!r}}}));"
            "logging.getLogger('bot.wechat').info('a line for the operator')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "a line for the operator" in result.stderr
