"""The early check on free SQL: one read-only statement, refused with a clear reason otherwise.

This is the *first* line, for friendly messages; the real guard is the database itself: every
query runs in a READ ONLY transaction (skills/backends/database.py), so a write this check missed is still
refused by PostgreSQL. Two things the server cannot stop on its own are decided here:

- More than one statement. psycopg2 sends text with the simple query protocol, which runs every
  `;`-separated statement; `select 1; commit; set default_transaction_read_only = off; delete ...`
  would end our read-only transaction and start a writable one. So the text is tokenized the way
  PostgreSQL's lexer does (quotes, E'' escapes, "identifiers", $tag$ dollar quotes$tag$, -- and
  nested /* */ comments) and a `;` outside them that is followed by anything but comments or
  whitespace is refused. A regex split would be fooled by `select ';'`, a tokenizer is not.
- Functions with side effects that a read-only transaction still allows: pg_terminate_backend,
  set_config, advisory locks, pg_notify, large-object file I/O, and functions that run SQL given as
  text (query_to_xml, ts_stat), which would hide a call from this check.
"""

from __future__ import annotations

from dataclasses import dataclass

from skills.errors import BadInput, ToolRefused

READ_KEYWORDS = {"select", "with", "values", "table", "explain", "show"}
STREAMABLE_KEYWORDS = {"select", "with", "values", "table"}  # may run as a server-side cursor

WRITE_WORDS = {
    "insert",
    "update",
    "delete",
    "merge",
    "truncate",
    "drop",
    "alter",
    "create",
    "grant",
    "revoke",
    "copy",
    "vacuum",
    "reindex",
    "refresh",
    "into",
}
SIDE_EFFECT_FUNCTIONS = {
    "nextval",
    "setval",
    "set_config",
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_promote",
    "pg_switch_wal",
    "pg_create_restore_point",
    "pg_backup_start",
    "pg_backup_stop",
    "pg_start_backup",
    "pg_stop_backup",
    "pg_notify",
    "pg_file_write",
    "pg_file_rename",
    "pg_file_unlink",
    "pg_read_file",
    "pg_read_binary_file",
    "pg_ls_dir",
    "pg_drop_replication_slot",
    "pg_logical_emit_message",
    "pg_import_system_collations",
    "txid_current",
    "pg_current_xact_id",
    "query_to_xml",
    "query_to_xmlschema",
    "query_to_xml_and_xmlschema",
    "cursor_to_xml",
    "ts_stat",
}
SIDE_EFFECT_PREFIXES = (
    "pg_advisory_",
    "pg_try_advisory_",
    "lo_",
    "dblink",
    "pg_stat_reset",
    "pg_replication_",
    "pg_create_",
)
LOCK_STRENGTHS = {"update", "share", "no", "key"}  # FOR UPDATE / SHARE / NO KEY UPDATE / KEY SHARE


@dataclass(frozen=True)
class Token:
    kind: str  # word, ident (quoted), string, param, semicolon, punct
    value: str  # lowercased for words
    start: int


@dataclass(frozen=True)
class CheckedSQL:
    text: str  # the single statement, without a trailing `;`
    keyword: str  # its first keyword, lowercased

    @property
    def streamable(self) -> bool:
        return self.keyword in STREAMABLE_KEYWORDS


def _is_word_start(char: str) -> bool:
    return char.isalpha() or char == "_" or ord(char) >= 0x80


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char in "_$" or ord(char) >= 0x80


def _unterminated(what: str) -> BadInput:
    return BadInput(f"the SQL has an unterminated {what}", field="sql")


def _skip_block_comment(text: str, at: int) -> int:
    depth, at = 1, at + 2
    while depth:
        if at >= len(text):
            raise _unterminated("/* comment */")
        if text.startswith("/*", at):
            depth, at = depth + 1, at + 2
        elif text.startswith("*/", at):
            depth, at = depth - 1, at + 2
        else:
            at += 1
    return at


def _end_of_quoted(text: str, at: int, quote: str, backslashes: bool) -> int:
    """Index after the closing quote; a doubled quote (and with E'', a backslash) escapes."""
    at += 1
    while at < len(text):
        char = text[at]
        if backslashes and char == "\\":
            at += 2
            continue
        if char == quote:
            if text.startswith(quote * 2, at):
                at += 2
                continue
            return at + 1
        at += 1
    raise _unterminated("quoted identifier" if quote == '"' else "string literal")


def _dollar_tag(text: str, at: int) -> str | None:
    """`$tag$` (or `$$`) starting at `at`, or None when this `$` is something else ($1, a$b)."""
    end = at + 1
    if end < len(text) and _is_word_start(text[end]):
        end += 1
        while end < len(text) and (text[end].isalnum() or text[end] == "_" or ord(text[end]) >= 0x80):
            end += 1
    return text[at : end + 1] if end < len(text) and text[end] == "$" else None


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    at = 0
    while at < len(text):
        char = text[at]
        if char.isspace():
            at += 1
        elif text.startswith("--", at):
            newline = text.find("\n", at)
            at = len(text) if newline < 0 else newline + 1
        elif text.startswith("/*", at):
            at = _skip_block_comment(text, at)
        elif char == "'":
            end = _end_of_quoted(text, at, "'", backslashes=False)
            tokens.append(Token("string", text[at:end], at))
            at = end
        elif char == '"':
            end = _end_of_quoted(text, at, '"', backslashes=False)
            tokens.append(Token("ident", text[at + 1 : end - 1].replace('""', '"').lower(), at))
            at = end
        elif char == "$" and (tag := _dollar_tag(text, at)):
            close = text.find(tag, at + len(tag))
            if close < 0:
                raise _unterminated(f"dollar-quoted string {tag}")
            tokens.append(Token("string", text[at : close + len(tag)], at))
            at = close + len(tag)
        elif char == "$" and at + 1 < len(text) and text[at + 1].isdigit():
            end = at + 1
            while end < len(text) and text[end].isdigit():
                end += 1
            tokens.append(Token("param", text[at:end], at))
            at = end
        elif _is_word_start(char):
            end = at + 1
            while end < len(text) and _is_word_char(text[end]):
                end += 1
            word = text[at:end]
            if word.lower() == "e" and end < len(text) and text[end] == "'":  # E'...' takes backslash escapes
                close = _end_of_quoted(text, end, "'", backslashes=True)
                tokens.append(Token("string", text[at:close], at))
                at = close
                continue
            tokens.append(Token("word", word.lower(), at))
            at = end
        elif char == ";":
            tokens.append(Token("semicolon", ";", at))
            at += 1
        else:
            tokens.append(Token("punct", char, at))
            at += 1
    return tokens


def _single_statement(text: str, tokens: list[Token]) -> tuple[str, list[Token]]:
    semicolons = [index for index, token in enumerate(tokens) if token.kind == "semicolon"]
    if not semicolons:
        return text.strip(), tokens
    first = semicolons[0]
    if any(token.kind != "semicolon" for token in tokens[first:]):
        count = 1 + sum(1 for index in semicolons if any(t.kind != "semicolon" for t in tokens[index + 1 :]))
        raise ToolRefused(
            f"one statement per query: this SQL has {count} statements separated by ';'; send them one at a time",
            field="sql",
        )
    return text[: tokens[first].start].strip(), tokens[:first]


def _function_name(tokens: list[Token], index: int) -> str | None:
    token = tokens[index]
    following = tokens[index + 1] if index + 1 < len(tokens) else None
    if token.kind in ("word", "ident") and following is not None and following.value == "(":
        return token.value
    return None


def _refuse_side_effects(tokens: list[Token]) -> None:
    for index, token in enumerate(tokens):
        name = _function_name(tokens, index)
        if name and (name in SIDE_EFFECT_FUNCTIONS or name.startswith(SIDE_EFFECT_PREFIXES)):
            raise ToolRefused(
                f"{name}() has side effects (it changes state or runs other SQL) and is not allowed "
                "in a read-only query",
                field="sql",
            )
        if token.kind != "word":
            continue
        following = tokens[index + 1].value if index + 1 < len(tokens) and tokens[index + 1].kind == "word" else ""
        if token.value == "for" and following in LOCK_STRENGTHS:
            raise ToolRefused(
                "SELECT ... FOR UPDATE/SHARE takes row locks for a write and is not allowed: remove the locking clause",
                field="sql",
            )
        if token.value in WRITE_WORDS:
            raise ToolRefused(
                f"{token.value.upper()} changes the database; only read-only queries (SELECT, WITH, "
                "VALUES, TABLE, EXPLAIN, SHOW) are allowed",
                field="sql",
            )


def check_sql(text: str) -> CheckedSQL:
    """The statement to run if `text` is one read-only query; ToolRefused/BadInput otherwise."""
    if not isinstance(text, str) or not text.strip():
        raise BadInput("give one SQL query, e.g. SELECT count(*) FROM contractors", field="sql")
    tokens = tokenize(text)
    statement, tokens = _single_statement(text, tokens)
    words = [t for t in tokens if t.kind != "punct" or t.value != "("]
    if not words:
        raise BadInput("the SQL has no statement in it, only comments", field="sql")
    keyword = words[0].value
    if words[0].kind != "word" or keyword not in READ_KEYWORDS:
        raise ToolRefused(
            f"{keyword.upper()} is not a read-only query; only SELECT, WITH, VALUES, TABLE, EXPLAIN "
            "and SHOW are allowed",
            field="sql",
        )
    _refuse_side_effects(tokens)
    return CheckedSQL(statement, keyword)
