"""What a JSON input may hold beyond being valid JSON: bounded nesting and valid Unicode.

`json.loads` accepts `"\\ud800"` (a lone surrogate: not a character, cannot be written as UTF-8)
and nesting thousands of levels deep (every later walk of it hits RecursionError). Both came in
through a task and broke a server reply, the ledger or a whole `--jsonl` worker, so every entry
point (the scripts' fields, the HTTP bodies, WebSocket messages) checks its input here first.

This module is on the routing hot path: it imports nothing, and ASCII strings (nearly every
task) cost one `str.isascii()` each.
"""

MAX_DEPTH = 32  # levels of lists/objects inside one field; a real context object has two or three


def _text_problem(text: str) -> str | None:
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        code_unit = ord(text[error.start])
        if 0xDC80 <= code_unit <= 0xDCFF:  # how Python carries a command-line byte that was not UTF-8
            return f"is not UTF-8 text (byte 0x{code_unit - 0xDC00:02x} at character {error.start})"
        return f"holds an unpaired surrogate (\\u{code_unit:04x}) at character {error.start}: send valid Unicode"
    return None


def problem(value) -> str | None:
    """Why `value` (parsed JSON) cannot be used, or None; walks iteratively so depth cannot crash it."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            reason = _text_problem(item)
            if reason:
                return reason
        elif isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                return f"nests deeper than {MAX_DEPTH} levels"
            if isinstance(item, dict):
                for key, inner in item.items():
                    stack.append((key, depth + 1))
                    stack.append((inner, depth + 1))
            else:
                stack.extend((inner, depth + 1) for inner in item)
    return None


def field_problems(fields: dict):
    """(field name, reason) for the first field whose name or value cannot be used, else None."""
    for name, value in fields.items():
        reason = _text_problem(name) if isinstance(name, str) else None
        if reason:
            return "json", f"a field name {reason}"
        reason = problem(value)
        if reason:
            return name, f"field {name!r} {reason}"
    return None
