"""WeChat settings: development defaults on a laptop, every malformed value named at start-up."""
from __future__ import annotations

import pytest

from bot.config import Config, ConfigError

REAL = {"WECHAT_TOKEN": "hallToken2024", "WECHAT_APP_ID": "wx1234567890abcdef",
        "WECHAT_APP_SECRET": "0123456789abcdef0123456789abcdef"}
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
OLD_AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"


def test_without_wechat_settings_the_development_credentials_are_used_and_the_simulator_is_on():
    config = Config.from_env({})

    assert (config.wechat_token, config.wechat_app_id, config.wechat_app_secret) == (
        "bangban-dev", "wxbangbandev0000", "dev-secret")
    assert config.development_credentials
    assert config.simulator
    assert not config.safe_mode
    assert config.wechat_encoding_aes_key is None and config.wechat_previous_encoding_aes_key is None
    assert config.idle_minutes == 30
    assert config.reply_budget_seconds == 4.0


def test_real_credentials_turn_the_simulator_off_unless_asked_for():
    config = Config.from_env(REAL)

    assert not config.development_credentials
    assert not config.simulator
    assert Config.from_env({**REAL, "BANGBAN_SIMULATOR": "on"}).simulator
    assert not Config.from_env({"BANGBAN_SIMULATOR": "0"}).simulator


def test_an_aes_key_turns_on_safe_mode_and_the_previous_key_is_kept_for_rotation():
    config = Config.from_env({**REAL, "WECHAT_ENCODING_AES_KEY": AES_KEY,
                              "WECHAT_PREVIOUS_ENCODING_AES_KEY": OLD_AES_KEY})

    assert config.safe_mode
    assert config.wechat_encoding_aes_key == AES_KEY
    assert config.wechat_previous_encoding_aes_key == OLD_AES_KEY


def test_secrets_stay_out_of_the_repr():
    config = Config.from_env({**REAL, "WECHAT_ENCODING_AES_KEY": AES_KEY})

    shown = repr(config)
    assert REAL["WECHAT_APP_SECRET"] not in shown and AES_KEY not in shown and REAL["WECHAT_TOKEN"] not in shown


def test_idle_time_and_reply_budget_are_read():
    config = Config.from_env({"BANGBAN_IDLE_MINUTES": "45", "BANGBAN_REPLY_BUDGET_SECONDS": "2.5"})

    assert config.idle_minutes == 45
    assert config.reply_budget_seconds == 2.5


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"WECHAT_ENCODING_AES_KEY": AES_KEY[:-1]}, "WECHAT_ENCODING_AES_KEY"),
        ({"WECHAT_ENCODING_AES_KEY": AES_KEY[:-1] + "="}, "WECHAT_ENCODING_AES_KEY"),
        ({"WECHAT_ENCODING_AES_KEY": AES_KEY, "WECHAT_PREVIOUS_ENCODING_AES_KEY": "short"},
         "WECHAT_PREVIOUS_ENCODING_AES_KEY"),
        ({"WECHAT_PREVIOUS_ENCODING_AES_KEY": OLD_AES_KEY}, "WECHAT_PREVIOUS_ENCODING_AES_KEY"),
        ({"WECHAT_TOKEN": "only-the-token"}, "WECHAT_APP_ID"),
        ({**REAL, "WECHAT_APP_SECRET": ""}, "WECHAT_APP_SECRET"),
        ({**REAL, "WECHAT_APP_ID": "1234567890abcdef"}, "WECHAT_APP_ID"),
        ({**REAL, "WECHAT_TOKEN": "has space"}, "WECHAT_TOKEN"),
        ({"BANGBAN_IDLE_MINUTES": "half an hour"}, "BANGBAN_IDLE_MINUTES"),
        ({"BANGBAN_IDLE_MINUTES": "0"}, "BANGBAN_IDLE_MINUTES"),
        ({"BANGBAN_REPLY_BUDGET_SECONDS": "6"}, "BANGBAN_REPLY_BUDGET_SECONDS"),
        ({"BANGBAN_REPLY_BUDGET_SECONDS": "soon"}, "BANGBAN_REPLY_BUDGET_SECONDS"),
        ({"BANGBAN_SIMULATOR": "maybe"}, "BANGBAN_SIMULATOR"),
    ],
)
def test_a_malformed_wechat_setting_is_named(environ, named):
    with pytest.raises(ConfigError, match=named) as error:
        Config.from_env(environ)

    assert "expected" in str(error.value)
    for secret in (AES_KEY, OLD_AES_KEY, AES_KEY[:-1]):
        assert secret not in str(error.value)
