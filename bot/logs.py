"""Logging for every bangban process (web app, worker, serve, CLI)."""
from __future__ import annotations

import logging


def configure_logging(level: str) -> None:
    """The assistant's log lines (openids masked, no message content) go to stderr at `level`, also under gunicorn,
    which configures only its own loggers. A handler the host already installed is left alone."""
    logger = logging.getLogger("bot")
    logger.setLevel(level)
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s"))
        logger.addHandler(handler)
    logging.getLogger("urllib3").setLevel(logging.WARNING)  # its DEBUG lines quote URLs with the access token
