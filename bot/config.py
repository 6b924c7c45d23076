"""Configuration from environment variables, with defaults that work on a laptop.

Everything a deployment changes is an environment variable; nothing here connects to anything or writes to disk
(the data directory is created by `Config.ensure_data_dir`, which the app factory calls). A malformed value
raises `ConfigError` naming the variable and what is expected, so a typo fails at start-up, not at the first
citizen's message.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping
from urllib.parse import urlsplit

# The demo hall shipped with the knowledge package. Found by path, not by importing `knowledge`, so reading the
# configuration stays cheap.
BUNDLED_HALL_DIR = Path(__file__).resolve().parent.parent / "knowledge" / "data" / "hall"

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
REDIS_SCHEMES = ("redis", "rediss", "unix")


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

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "Config":
        data_dir = Path(_get(environ, "BANGBAN_DATA_DIR") or "instance").expanduser().resolve()
        database_url = _database_url(_get(environ, "DATABASE_URL") or f"sqlite:///{data_dir / 'bangban.db'}")
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            redis_url=_redis_url(_get(environ, "REDIS_URL")),
            catalogue_paths=_catalogue_paths(_get(environ, "BANGBAN_CATALOGUE")),
            hall_dir=_hall_dir(_get(environ, "BANGBAN_HALL_DIR")),
            log_level=_log_level(_get(environ, "LOG_LEVEL")),
        )

    def ensure_data_dir(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir


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
