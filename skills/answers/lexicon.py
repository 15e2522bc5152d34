"""A data agent's lexicon: the other words people use for what its database holds, read from YAML.

A person writes it (registry/lexicon/<name>.yaml, named by the agent's `data.lexicon`):

    tables:  {purchase_orders: [PO, POs, purchase order, order]}
    columns: {projects.project_manager: [PM, manager], projects.budget: [budget, expensive, costly]}
    values:  {purchase_orders.status: {issued: [awaiting delivery, outstanding]}}
    totals:  {stock_movements.quantity: [stock, on hand]}   # words that mean the sum of a number column
    conditions: {projects.forecast_end > projects.planned_end: [running late]}  # two columns of one row

Table and column names and stored values need no entry: the interpreter knows them from the
schema. Read when the registry's index is built (skills/registry/loader.py keeps it, as plain
values, in the agent's entry), so a broken lexicon is a registry_invalid naming the file and the
entry to fix; checked against the database's schema once both are known (`check_against`).
"""

from __future__ import annotations

import os

from skills import lazy
from skills.answers.model import Lexicon, Schema, parse_condition
from skills.answers.vocabulary import is_date, is_numeric
from skills.errors import RegistryInvalid

SECTIONS = ("tables", "columns", "values", "totals", "conditions")


def _invalid(path: str, message: str, field: str, agent: str | None = None) -> RegistryInvalid:
    details = {"file": path, **({"agent": agent} if agent else {})}
    return RegistryInvalid(f"{path}: {message}", field=field, details=details)


def _words(path: str, where: str, words) -> tuple[str, ...]:
    if isinstance(words, str):
        words = [words]
    if not isinstance(words, list) or not words:
        raise _invalid(path, f"{where} must be a word or a non-empty list of words and phrases", where)
    for word in words:
        if not isinstance(word, str) or not word.strip():
            raise _invalid(path, f"{where} must hold only non-empty words and phrases, got {word!r}", where)
    return tuple(word.strip() for word in words)


def _column_key(path: str, section: str, key) -> str:
    parts = key.split(".") if isinstance(key, str) else []
    if len(parts) != 2 or not all(part.strip() for part in parts):
        raise _invalid(path, f"{section}: {key!r} must be table.column (e.g. projects.budget)", f"{section}.{key}")
    return key


def _condition_key(path: str, key) -> str:
    if parse_condition(key) is None:
        example = "projects.forecast_end > projects.planned_end, or sum(child.column) < table.column"
        raise _invalid(
            path, f"conditions: {key!r} must compare two columns of one table ({example})", f"conditions.{key}"
        )
    return key


def lexicon_from_document(document, path: str) -> Lexicon:
    """A parsed lexicon file as a Lexicon, or RegistryInvalid naming the entry that is wrong."""
    if document is None:
        return Lexicon()
    if not isinstance(document, dict):
        raise _invalid(
            path, "a lexicon must be a mapping with tables, columns, values, totals and conditions", "lexicon"
        )
    unknown = sorted(set(document) - set(SECTIONS))
    if unknown:
        raise _invalid(path, f"unknown section {unknown[0]!r} (known: {', '.join(SECTIONS)})", unknown[0])
    for section in SECTIONS:
        if not isinstance(document.get(section) or {}, dict):
            raise _invalid(path, f"{section} must be a mapping", section)
    tables = {}
    for table, words in (document.get("tables") or {}).items():
        if not isinstance(table, str) or not table.strip() or "." in table:
            raise _invalid(path, f"tables: {table!r} must be a table name", f"tables.{table}")
        tables[table] = _words(path, f"tables.{table}", words)
    columns = {
        _column_key(path, "columns", key): _words(path, f"columns.{key}", words)
        for key, words in (document.get("columns") or {}).items()
    }
    totals = {
        _column_key(path, "totals", key): _words(path, f"totals.{key}", words)
        for key, words in (document.get("totals") or {}).items()
    }
    conditions = {
        _condition_key(path, key): _words(path, f"conditions.{key}", words)
        for key, words in (document.get("conditions") or {}).items()
    }
    values: dict[str, dict[str, tuple[str, ...]]] = {}
    for key, by_value in (document.get("values") or {}).items():
        _column_key(path, "values", key)
        if not isinstance(by_value, dict) or not by_value:
            raise _invalid(path, f"values.{key} must map stored values to words", f"values.{key}")
        values[key] = {str(value): _words(path, f"values.{key}.{value}", words) for value, words in by_value.items()}
    return Lexicon(tables=tables, columns=columns, values=values, totals=totals, conditions=conditions)


def load_lexicon(registry_path: str, relative: str, agent: str | None = None) -> Lexicon:
    """The lexicon file `relative` to the registry file, read and checked."""
    path = lexicon_path(registry_path, relative)
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as error:
        raise _invalid(path, f"cannot read the lexicon: {error.strerror}", "data.lexicon", agent) from None
    try:
        document = lazy.yaml.safe_load(text)
    except lazy.yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise _invalid(path, f"is not valid YAML{where}", "data.lexicon", agent) from None
    return lexicon_from_document(document, path)


def lexicon_path(registry_path: str, relative: str) -> str:
    return os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(registry_path)), relative))


def to_json(lexicon: Lexicon) -> dict:
    """Plain lists and dicts (kept in the agent's registry entry, marshal-able)."""
    return {
        "tables": {key: list(words) for key, words in lexicon.tables.items()},
        "columns": {key: list(words) for key, words in lexicon.columns.items()},
        "values": {key: {v: list(w) for v, w in by.items()} for key, by in lexicon.values.items()},
        "totals": {key: list(words) for key, words in lexicon.totals.items()},
        "conditions": {key: list(words) for key, words in lexicon.conditions.items()},
    }


def from_json(data: dict | None) -> Lexicon:
    data = data or {}
    return Lexicon(
        tables={key: tuple(words) for key, words in (data.get("tables") or {}).items()},
        columns={key: tuple(words) for key, words in (data.get("columns") or {}).items()},
        values={key: {v: tuple(w) for v, w in by.items()} for key, by in (data.get("values") or {}).items()},
        totals={key: tuple(words) for key, words in (data.get("totals") or {}).items()},
        conditions={key: tuple(words) for key, words in (data.get("conditions") or {}).items()},
    )


def check_against(lexicon: Lexicon, schema: Schema, path: str, agent: str | None = None) -> None:
    """RegistryInvalid for the first table, column or stored value the lexicon names that the schema
    does not hold (a renamed column would otherwise make its words silently mean nothing)."""
    known = [table.name for table in schema.tables]

    def fail(message: str, field: str) -> RegistryInvalid:
        return _invalid(path, f"{message}; the agent's tables are: {', '.join(known) or 'none'}", field, agent)

    for table in lexicon.tables:
        if schema.table(table) is None:
            raise fail(f"tables: no table {table!r} in the agent's database", f"tables.{table}")
    for section, keys in (("columns", lexicon.columns), ("values", lexicon.values), ("totals", lexicon.totals)):
        for key in keys:
            table_name, column_name = key.split(".")
            table = schema.table(table_name)
            if table is None:
                raise fail(f"{section}: no table {table_name!r} in the agent's database", f"{section}.{key}")
            if table.column(column_name) is None:
                columns = ", ".join(column.name for column in table.columns)
                raise _invalid(
                    path,
                    f"{section}: table {table_name} has no column {column_name!r} (its columns: {columns})",
                    f"{section}.{key}",
                    agent,
                )
    for key in lexicon.conditions:
        condition = parse_condition(key)
        kinds = []
        for table_name, name in (
            (condition.summed or condition.table, condition.column),
            (condition.table, condition.other),
        ):
            table = schema.table(table_name)
            if table is None:
                raise fail(f"conditions: no table {table_name!r} in the agent's database", f"conditions.{key}")
            column = table.column(name)
            if column is None:
                columns = ", ".join(c.name for c in table.columns)
                message = f"conditions: table {table_name} has no column {name!r} (its columns: {columns})"
                raise _invalid(path, message, f"conditions.{key}", agent)
            kinds.append("number" if is_numeric(column) else "date" if is_date(column) else column.type)
        if kinds[0] != kinds[1] or kinds[0] not in ("number", "date") or (condition.summed and kinds[0] != "number"):
            message = f"conditions: {key} compares {kinds[0]} with {kinds[1]}: two numbers or two dates"
            raise _invalid(path, message, f"conditions.{key}", agent)
        if condition.summed and not any(
            key.ref_table == condition.table for key in schema.table(condition.summed).foreign_keys
        ):
            message = (
                f"conditions: {condition.summed} holds no foreign key to {condition.table}: whose rows would it add up"
            )
            raise _invalid(path, message, f"conditions.{key}", agent)
    for key in lexicon.totals:
        table_name, column_name = key.split(".")
        column = schema.table(table_name).column(column_name)
        if not is_numeric(column):
            raise _invalid(path, f"totals: {key} is {column.type}, not a number to add up", f"totals.{key}", agent)
    for key, by_value in lexicon.values.items():
        table_name, column_name = key.split(".")
        column = schema.table(table_name).column(column_name)
        for value in by_value:
            if column.values and value not in column.values:
                raise _invalid(
                    path,
                    f"values: {key} holds no value {value!r} (it holds: {', '.join(column.values)})",
                    f"values.{key}.{value}",
                    agent,
                )
