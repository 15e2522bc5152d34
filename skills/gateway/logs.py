"""The server's log file, in the guide's line format, rotated, with task text cut short.

    2025-01-10 14:23:45 - INFO - Routed task in 23ms | Status: routed | Task: Check server health...

Only what an operator needs goes in: timings, statuses, agent ids and the first words of a
task. Never request bodies in full, never headers (the Authorization header holds the key).
"""

from __future__ import annotations

import logging
import os
from logging.handlers import RotatingFileHandler

LOGGER_NAME = "orchestrator.http"
TASK_EXCERPT = 50  # characters of a task written to the log
MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 3

_CONTROL = {code: " " for code in range(32)}


def excerpt(text: str, limit: int = TASK_EXCERPT) -> str:
    """The first `limit` characters, on one line (no forged log lines), with the guide's '...'."""
    return str(text)[:limit].translate(_CONTROL) + "..."


class RedactSecrets(logging.Filter):
    """Last line of defence: configured keys and connection-string passwords become ***."""

    def __init__(self, settings):
        super().__init__()
        self.settings = settings

    def filter(self, record: logging.LogRecord) -> bool:
        from skills.redaction import redact

        record.msg = redact(record.getMessage(), self.settings)
        record.args = None
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info), self.settings)
            record.exc_info = None
        return True


def setup_logging(log_path: str, settings=None, *, also_stderr: bool = False) -> logging.Logger:
    """Log to `log_path` (rotated), and to stderr too when asked (a worker under systemd: the journal)."""
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    os.makedirs(os.path.dirname(os.path.abspath(log_path)), exist_ok=True)
    handlers = [RotatingFileHandler(log_path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")]
    if also_stderr:
        handlers.append(logging.StreamHandler())
    for handler in handlers:
        handler.setFormatter(logging.Formatter("%(asctime)s - %(levelname)s - %(message)s", "%Y-%m-%d %H:%M:%S"))
        handler.addFilter(RedactSecrets(settings))
        logger.addHandler(handler)
    return logger


def get_logger() -> logging.Logger:
    return logging.getLogger(LOGGER_NAME)
