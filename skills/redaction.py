"""Keeping secrets out of output, logs and the ledger."""

from __future__ import annotations

import re

_PATTERNS = [
    (re.compile(r"(postgres(?:ql)?://[^:/@\s]+:)[^@\s]+@"), r"\1***@"),  # password in a connection URL
    (re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{8,}"), "sk-ant-***"),  # Anthropic keys
    (re.compile(r"(?i)(authorization:\s*(?:bearer|convex)\s+)\S+"), r"\1***"),
    (re.compile(r"(?i)\b(password|passwd|pwd)=([^\s&]+)"), r"\1=***"),
]


def mask_secret(text: str, secret: str | None) -> str:
    """`text` with every occurrence of one known secret replaced by a visible marker."""
    return text.replace(secret, "[redacted]") if secret and text else text


def secret_values(settings) -> list[str]:
    """The configured secrets themselves, so they are masked wherever they appear."""
    values = [settings.anthropic_api_key, settings.convex_deploy_key, settings.api_key]
    return [v for v in values if v and len(v) >= 6]


def redact(text: str, settings=None) -> str:
    if not text:
        return text
    for secret in secret_values(settings) if settings is not None else []:
        text = text.replace(secret, "***")
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
