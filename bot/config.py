"""Configuration from environment variables, with defaults that work on a laptop.

Everything a deployment changes is an environment variable; nothing here connects to anything or writes to disk
(the data directory is created by `Config.ensure_data_dir`, which the app factory calls). A malformed value
raises `ConfigError` naming the variable and what is expected, so a typo fails at start-up, not at the first
citizen's message.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping
from urllib.parse import urlsplit

# The demo hall shipped with the knowledge package. Found by path, not by importing `knowledge`, so reading the
# configuration stays cheap.
BUNDLED_HALL_DIR = Path(__file__).resolve().parent.parent / "knowledge" / "data" / "hall"

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_WECHAT_API_BASE = "https://api.weixin.qq.com"
DEFAULT_SERVE_URL = "http://127.0.0.1:5000"  # where `bangban serve` listens unless told otherwise
SIMULATOR_API_PATH = "/simulator/api"  # the simulator's fake of WeChat's HTTP API, inside the app
REDIS_SCHEMES = ("redis", "rediss", "unix")

# Development WeChat credentials: used when none of WECHAT_TOKEN / WECHAT_APP_ID / WECHAT_APP_SECRET is set, so that
# `bangban serve` and the simulator work on a laptop. They match no real account.
DEV_WECHAT_TOKEN = "bangban-dev"
DEV_WECHAT_APP_ID = "wxbangbandev0000"
DEV_WECHAT_APP_SECRET = "dev-secret"
CREDENTIAL_VARIABLES = ("WECHAT_TOKEN", "WECHAT_APP_ID", "WECHAT_APP_SECRET")

_TOKEN = re.compile(r"[\x21-\x7e]{3,64}")  # printable ASCII, no spaces (WeChat's console allows 3-32 letters/digits)
_APP_ID = re.compile(r"wx[0-9A-Za-z]{8,30}")
_SECRET = re.compile(r"[\x21-\x7e]{1,128}")
_AES_KEY = re.compile(r"[A-Za-z0-9]{43}")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class ConfigError(ValueError):
    """A configuration variable has a value the assistant cannot use."""


@dataclass(frozen=True)
class Config:
    data_dir: Path
    # The URLs may hold passwords: kept out of repr(); use redact_url() to show them.
    database_url: str = field(repr=False)
    redis_url: str | None = field(repr=False)  # None: no Redis, the embedded store is used
    catalogue_paths: tuple[Path, ...]  # extra office-guide .jsonl files, after the bundled catalogue
    hall_dir: Path
    log_level: str
    # WeChat. The secret and the keys are kept out of repr().
    wechat_token: str = field(default=DEV_WECHAT_TOKEN, repr=False)
    wechat_app_id: str = DEV_WECHAT_APP_ID
    wechat_app_secret: str = field(default=DEV_WECHAT_APP_SECRET, repr=False)
    wechat_encoding_aes_key: str | None = field(default=None, repr=False)  # set: safe (encrypted) mode
    wechat_previous_encoding_aes_key: str | None = field(default=None, repr=False)  # still accepted while rotating
    idle_minutes: int = 30  # a conversation idle this long restarts gently
    reply_budget_seconds: float = 4.0  # past this, answer "success" and deliver through the outbox
    simulator: bool = True  # /simulator; default: on only with the development credentials
    wechat_api_base: str = DEFAULT_WECHAT_API_BASE  # WeChat's HTTP API; tests point it at a local fake
    # WECHAT_API_BASE unset, development credentials, simulator on: customer-service messages go to the app's own
    # fake of WeChat's API (SIMULATOR_API_PATH), so that the simulator shows them. See api_base().
    simulated_wechat_api: bool = False
    worker_poll_seconds: float = 2.0  # `bangban worker` looks for due outbox messages this often when idle
    # 订阅通知 template for the reminder the day before a booking (None: no reminders), and its field mapping
    reminder_template_id: str | None = None
    reminder_fields: str = "thing1=item,time2=time,thing3=place,character_string4=number"
    # Signs the staff console's session cookies. None: a random key kept in the data directory (one machine).
    secret_key: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "Config":
        data_dir = Path(_get(environ, "BANGBAN_DATA_DIR") or "instance").expanduser().resolve()
        database_url = _database_url(_get(environ, "DATABASE_URL") or f"sqlite:///{data_dir / 'bangban.db'}")
        token, app_id, secret = _wechat_credentials(environ)
        aes_key = _aes_key(environ, "WECHAT_ENCODING_AES_KEY")
        previous_aes_key = _aes_key(environ, "WECHAT_PREVIOUS_ENCODING_AES_KEY")
        if previous_aes_key and not aes_key:
            raise ConfigError("WECHAT_PREVIOUS_ENCODING_AES_KEY is set but WECHAT_ENCODING_AES_KEY is not; expected the "
                              "current key in WECHAT_ENCODING_AES_KEY and the one it replaces in the previous-key variable")
        development = (token, app_id, secret) == (DEV_WECHAT_TOKEN, DEV_WECHAT_APP_ID, DEV_WECHAT_APP_SECRET)
        simulator = _switch(environ, "BANGBAN_SIMULATOR", default=development)
        api_base = _get(environ, "WECHAT_API_BASE")
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            redis_url=_redis_url(_get(environ, "REDIS_URL")),
            catalogue_paths=_catalogue_paths(_get(environ, "BANGBAN_CATALOGUE")),
            hall_dir=_hall_dir(_get(environ, "BANGBAN_HALL_DIR")),
            log_level=_log_level(_get(environ, "LOG_LEVEL")),
            wechat_token=token,
            wechat_app_id=app_id,
            wechat_app_secret=secret,
            wechat_encoding_aes_key=aes_key,
            wechat_previous_encoding_aes_key=previous_aes_key if previous_aes_key != aes_key else None,
            idle_minutes=_idle_minutes(_get(environ, "BANGBAN_IDLE_MINUTES")),
            reply_budget_seconds=_reply_budget(_get(environ, "BANGBAN_REPLY_BUDGET_SECONDS")),
            simulator=simulator,
            wechat_api_base=_api_base(api_base),
            simulated_wechat_api=development and simulator and not api_base,
            worker_poll_seconds=_poll_seconds(_get(environ, "BANGBAN_WORKER_POLL_SECONDS")),
            secret_key=_secret_key(_get(environ, "BANGBAN_SECRET_KEY")),
            reminder_template_id=_get(environ, "WECHAT_REMINDER_TEMPLATE_ID") or None,
            reminder_fields=_reminder_fields(_get(environ, "WECHAT_REMINDER_FIELDS")),
        )

    @property
    def development_credentials(self) -> bool:
        """True when the WeChat token, AppID and secret are the built-in development ones (no real account)."""
        return (self.wechat_token, self.wechat_app_id, self.wechat_app_secret) == (
            DEV_WECHAT_TOKEN, DEV_WECHAT_APP_ID, DEV_WECHAT_APP_SECRET)

    def api_base(self, server_url: str | None = None) -> str:
        """Where the WeChat HTTP API is for this configuration: WECHAT_API_BASE, or WeChat's own; with the
        development credentials and the simulator on, the simulator's fake inside the app that runs at
        `server_url` (default: where `bangban serve` listens by default)."""
        if self.simulated_wechat_api:
            return (server_url or DEFAULT_SERVE_URL).rstrip("/") + SIMULATOR_API_PATH
        return self.wechat_api_base

    @property
    def safe_mode(self) -> bool:
        """True when an EncodingAESKey is configured: replies to encrypted pushes are encrypted."""
        return self.wechat_encoding_aes_key is not None

    def ensure_data_dir(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir

    def session_secret(self) -> str:
        """BANGBAN_SECRET_KEY, or a random key made once and kept in the data directory (readable by owner only)."""
        if self.secret_key:
            return self.secret_key
        import secrets

        path = self.ensure_data_dir() / "secret_key"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text(encoding="ascii").strip()
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            key = secrets.token_hex(32)
            handle.write(key)
        return key


def redact_url(url: str) -> str:
    """The URL with any password replaced by ***, safe for logs and responses."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unreadable URL>"
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    userinfo = netloc[0].split(":", 1)[0] + ":***"
    return parts._replace(netloc=f"{userinfo}@{netloc[1]}").geturl()


def _get(environ: Mapping[str, str], name: str) -> str:
    return environ.get(name, "").strip()


def _database_url(value: str) -> str:
    from sqlalchemy.engine import make_url  # here, so that importing the configuration stays light
    from sqlalchemy.exc import ArgumentError

    expected = "expected sqlite:///path/to/file.db or postgresql://user:password@host:5432/database"
    try:
        url = make_url(value)
    except (ArgumentError, ValueError):
        raise ConfigError(f"DATABASE_URL is not a database URL SQLAlchemy can read; {expected}") from None
    backend = url.get_backend_name()
    if url.drivername in ("postgresql", "postgres"):
        # psycopg 3 is the installed driver; SQLAlchemy's default for a bare postgresql:// would be psycopg2.
        # "postgres://" is the spelling some hosting platforms use. An explicitly named driver is kept.
        return url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if backend in ("postgresql", "sqlite"):
        return value
    raise ConfigError(f"DATABASE_URL names the unsupported database {backend!r}; {expected}")


def _redis_url(value: str) -> str | None:
    if not value:
        return None
    scheme = urlsplit(value).scheme if "://" in value else ""
    if scheme not in REDIS_SCHEMES:
        raise ConfigError(
            "REDIS_URL has no redis://, rediss:// or unix:// scheme; expected for example redis://127.0.0.1:6379/0, "
            "or leave it empty to use the embedded store"
        )
    return value


def _catalogue_paths(value: str) -> tuple[Path, ...]:
    paths = tuple(Path(part).expanduser() for part in value.split(os.pathsep) if part.strip())
    for path in paths:
        if not path.is_file():
            raise ConfigError(
                f"BANGBAN_CATALOGUE lists {str(path)!r}, which is not a file; expected office-guide .jsonl files "
                f"separated by {os.pathsep!r}"
            )
    return paths


def _hall_dir(value: str) -> Path:
    if not value:
        return BUNDLED_HALL_DIR
    path = Path(value).expanduser()
    if not path.is_dir():
        raise ConfigError(
            f"BANGBAN_HALL_DIR is {value!r}, which is not a directory; expected the directory holding the hall's "
            "事项清单 and contacts, or unset it to use the bundled demo hall"
        )
    return path


def _log_level(value: str) -> str:
    level = (value or "INFO").upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL is {value!r}; expected one of {', '.join(LOG_LEVELS)}")
    return level


def _wechat_credentials(environ: Mapping[str, str]) -> tuple[str, str, str]:
    given = {name: _get(environ, name) for name in CREDENTIAL_VARIABLES}
    if not any(given.values()):
        return DEV_WECHAT_TOKEN, DEV_WECHAT_APP_ID, DEV_WECHAT_APP_SECRET
    missing = [name for name, value in given.items() if not value]
    if missing:
        raise ConfigError(
            f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set while "
            f"{', '.join(name for name in CREDENTIAL_VARIABLES if given[name])} is; expected all of "
            f"{', '.join(CREDENTIAL_VARIABLES)} from the account's 基本配置 page, or none of them for the development "
            "credentials")
    token, app_id, secret = (given[name] for name in CREDENTIAL_VARIABLES)
    if not _TOKEN.fullmatch(token):
        raise ConfigError("WECHAT_TOKEN has spaces or is not 3 to 64 printable ASCII characters; expected the Token "
                          "entered on the account's 基本配置 page (3 to 32 letters and digits)")
    if not _APP_ID.fullmatch(app_id):
        raise ConfigError(f"WECHAT_APP_ID is {app_id!r}; expected the account's AppID, wx followed by letters and "
                          "digits (for example wx1234567890abcdef)")
    if not _SECRET.fullmatch(secret):
        raise ConfigError("WECHAT_APP_SECRET has spaces or non-ASCII characters; expected the AppSecret from the "
                          "account's 基本配置 page")
    return token, app_id, secret


def _aes_key(environ: Mapping[str, str], name: str) -> str | None:
    value = _get(environ, name)
    if not value:
        return None
    if not _AES_KEY.fullmatch(value):
        # The key itself is a secret: say what is wrong with it, not what it is.
        raise ConfigError(f"{name} has {len(value)} characters; expected the EncodingAESKey from the account's 基本配置 "
                          "page: exactly 43 letters and digits")
    return value


def _idle_minutes(value: str) -> int:
    if not value:
        return 30
    try:
        minutes = int(value)
    except ValueError:
        minutes = 0
    if not 1 <= minutes <= 24 * 60:
        raise ConfigError(f"BANGBAN_IDLE_MINUTES is {value!r}; expected whole minutes from 1 to 1440 (default 30)")
    return minutes


def _reply_budget(value: str) -> float:
    if not value:
        return 4.0
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0.05 <= seconds <= 4.5:
        raise ConfigError(f"BANGBAN_REPLY_BUDGET_SECONDS is {value!r}; expected seconds from 0.05 to 4.5 (WeChat "
                          "gives up after 5; default 4)")
    return seconds


def _reminder_fields(value: str) -> str:
    from .reminders import DEFAULT_FIELDS, parse_fields

    if not value:
        return DEFAULT_FIELDS
    try:
        parse_fields(value)
    except ValueError as exc:
        raise ConfigError(f"WECHAT_REMINDER_FIELDS: {exc}; e.g. {DEFAULT_FIELDS}") from None
    return value


def _secret_key(value: str) -> str | None:
    if not value:
        return None
    if len(value) < 16:
        raise ConfigError("BANGBAN_SECRET_KEY is too short; expected at least 16 random characters "
                          "(e.g. python3 -c 'import secrets; print(secrets.token_hex(32))')")
    return value


def _switch(environ: Mapping[str, str], name: str, default: bool) -> bool:
    value = _get(environ, name).lower()
    if not value:
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} is {value!r}; expected one of {', '.join(_TRUE + _FALSE)}, or unset for the default")


def _api_base(value: str) -> str:
    if not value:
        return DEFAULT_WECHAT_API_BASE
    parts = urlsplit(value) if "://" in value else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(f"WECHAT_API_BASE is {value!r}; expected an http(s) address without a query, for "
                          f"example {DEFAULT_WECHAT_API_BASE} (the default)")
    return value.rstrip("/")


def _poll_seconds(value: str) -> float:
    if not value:
        return 2.0
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0.1 <= seconds <= 300:
        raise ConfigError(f"BANGBAN_WORKER_POLL_SECONDS is {value!r}; expected seconds from 0.1 to 300 (default 2)")
    return seconds
