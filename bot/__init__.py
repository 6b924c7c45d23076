"""The outside world: Flask app, WeChat endpoint, staff console, storage, command line.

`create_app` is imported lazily so that `import bot.config` (or the command line) does not pull in Flask,
SQLAlchemy and Redis; `gunicorn 'bot:create_app()'` still finds it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
