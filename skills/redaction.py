"""Keeping secrets out of output, logs and the ledger."""

from __future__ import annotations

import re

_URL_START = re.compile(r"\b[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_PATTERNS = [
    (re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{8,}"), "sk-ant-***"),  # Anthropic keys
    (re.compile(r"(?i)(authorization:\s*(?:bearer|convex)\s+)\S+"), r"\1***"),
    (re.compile(r"(?i)\b(password|passwd|pwd)=([^\s&]+)"), r"\1=***"),
]


def url_userinfo(url: str) -> tuple[str, str | None]:
    """(user, password) of `scheme://user:password@host/...`, the password None when absent.

    Parsed the way a person writes it, not the way libpq reads it: the credentials run to the
    *last* `@` before the host, so a raw `@` or `/` in a password stays inside it (libpq would
    take `p@ss@host` as password `p` on host `ss@host` and quote that host in its error).
    """
    start = _URL_START.match(url)
    rest = url[start.end() :] if start else url
    head = rest.split("?", 1)[0]
    userinfo, at, _ = head.rpartition("@")
    if not at:
        return "", None
    user, colon, password = userinfo.partition(":")
    return user, password if colon else None


def mask_urls(text: str) -> str:
    """Every `scheme://user:password@` in `text` with the password replaced by ***."""
    parts, at = [], 0
    for start in _URL_START.finditer(text):
        if start.start() < at:
            continue
        end = start.end()
        while end < len(text) and not text[end].isspace() and text[end] not in "'\"<>":
            end += 1
        scheme, rest = start.group(), text[start.end() : end]
        head, question, query = rest.partition("?")
        userinfo, at_sign, host_and_path = head.rpartition("@")
        if at_sign and ":" in userinfo:
            user = userinfo.partition(":")[0]
            parts.append(text[at : start.start()] + f"{scheme}{user}:***@{host_and_path}{question}{query}")
            at = end
    parts.append(text[at:])
    return "".join(parts)


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
    text = mask_urls(text)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
