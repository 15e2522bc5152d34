"""What every script shares: arguments, `--json -`, `--jsonl`, JSON output and exit codes.

A script's fields are declared once in skills/contracts.py; its command gives that contract and a
handler `handle(fields, settings) -> (payload, exit_status)` to `run_script`, which does the rest,
so the contract is the same everywhere:
- `--name value` / `--flag` on the command line, or `--json -` to read the same fields as a
  JSON object from stdin (command-line values win), or `--jsonl` to read one object per line
  and write one result per line (what the HTTP server's warm workers use);
- one JSON document on stdout, compact unless `--pretty`;
- errors as {"error", "code", ...} on stdout with exit 1 (not found / no match), 2 (bad input
  or configuration) or 3 (upstream failure or timeout). Never a traceback on stdout.

argparse is not used: it costs ~7 ms of imports, and the options are simple enough to read here.
"""

import json
import logging
import os
import sys
import threading
import time

from skills.config import load_settings
from skills.contracts import FLAG, MAX_TEXT, OBJECT, TEXT, Contract, Field
from skills.errors import EXIT_STATUSES, BadInput, OrchestratorError
from skills.json_limits import field_problems
from skills.jsonout import dumps
from skills.progress import EVENTS_FIELD, event_line, sending_to

_MODES = (
    ("--json -", "read the fields as one JSON object from stdin (command-line values win)"),
    ("--jsonl", "read one JSON object per line on stdin, write one result per line"),
    ("--pretty", "indent the JSON output"),
    ("--help", "show this help and exit (it runs nothing)"),
)


def _value_word(field: Field) -> str:
    return "" if field.kind == FLAG else (" JSON" if field.kind == OBJECT else " TEXT")


def usage_text(contract: Contract) -> str:
    """`--help`: usage, what the script does, every option with its meaning, the JSON-only fields, exit statuses."""
    rows = [
        (f.flag + _value_word(f), f.help + (" (required)" if f.required else "")) for f in contract.fields if f.flag
    ]
    rows += _MODES
    width = max(len(left) for left, _ in rows) + 2
    lines = [f"usage: {contract.script} [options]", "", contract.summary, "", "options:"]
    lines += [f"  {left:<{width}}{meaning}" for left, meaning in rows]
    json_only = [f for f in contract.fields if f.flag is None]
    if json_only:
        lines += ["", "fields only in JSON input:"]
        lines += [f'  "{f.name}"  {f.help}' for f in json_only]
    return "\n".join(lines) + "\n\n" + exit_statuses_text(contract.exits)


def exit_statuses_text(exits: dict[int, str] | None = None, *, every: bool = True) -> str:
    """The `exit status:` part of every script's --help: skills/errors.py's meanings, `exits` overriding
    them (or, with `every` false, only success and `exits`: a server never answers "not found")."""
    meanings = {**(EXIT_STATUSES if every else {0: EXIT_STATUSES[0]}), **(exits or {})}
    lines = ["exit status:", *(f"  {status}  {meanings[status]}" for status in sorted(meanings))]
    lines += ["", 'Errors are JSON on stdout: {"error": what to do, "code": a stable code, "field": what to fix}.']
    return "\n".join(lines)


def run_command(name: str, work, *, pretty: bool = False, note_on_stderr: bool = True) -> int:
    """Run `work() -> exit status` for a command that is not a one-answer script (a server, the
    worker, the registry import): an OrchestratorError it raises becomes its JSON on stdout (and a
    line on stderr for whoever reads a supervisor's log), ending with the error's exit status."""
    try:
        return work()
    except OrchestratorError as error:
        try:
            _emit(error.to_json(), pretty)
        except BrokenPipeError:  # the reader went away; the exit status still says what happened
            pass
        if note_on_stderr:
            print(f"{name}: {error.message}", file=sys.stderr, flush=True)
        return error.exit_status


def _bad_input(message: str, field: str) -> Exception:
    """A BadInput to raise, blaming `field`."""
    return BadInput(message, field=field)


def _failure_reply(error: Exception) -> tuple[dict, int]:
    """(JSON, exit status) for an OrchestratorError: a failure the user can act on. Anything
    else is a bug and is raised again, unchanged."""
    if not isinstance(error, OrchestratorError):
        raise error
    return error.to_json(), error.exit_status


def _not_json(name: str):
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):  # 1e999: no float holds it, and no JSON reply could say it
        raise ValueError(f"the number {text[:40]} is too large")
    return value


def _load_json(text: str | bytes, where: str, field: str = "json"):
    """Parsed JSON, or BadInput blaming `field` (the option's field for --context, "json" for stdin)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise _bad_input(f"{where} is not UTF-8 text (byte {error.start})", field=field) from None
    try:
        return json.loads(text, parse_constant=_not_json, parse_float=_finite_float)
    except RecursionError:  # thousands of nested brackets: refuse the line, keep the process
        raise _bad_input(f"{where} nests too deeply", field=field) from None
    except ValueError as error:
        raise _bad_input(f"{where} is not valid JSON: {error}", field=field) from None


def parse_argv(argv: list[str], options: tuple[Field, ...]) -> tuple[dict, dict]:
    """(fields, modes) from the command line; modes holds json/jsonl/pretty/help."""
    by_flag = {option.flag: option for option in options if option.flag}
    fields: dict = {}
    modes = {"json": False, "jsonl": False, "pretty": False, "help": False}
    position = 0
    while position < len(argv):
        arg = argv[position]
        flag, has_value, inline = arg.partition("=")
        if flag in ("--pretty", "--jsonl", "--help", "-h"):
            modes["help" if flag == "-h" else flag[2:]] = True
        elif flag == "--json":
            value = inline if has_value else (argv[position + 1] if position + 1 < len(argv) else None)
            position += 0 if has_value else 1
            if value != "-":
                raise _bad_input("--json takes '-' (read the JSON object from stdin)", field="json")
            modes["json"] = True
        elif flag in by_flag:
            option = by_flag[flag]
            if option.kind == FLAG:
                fields[option.name] = True
            else:
                if has_value:
                    value = inline
                elif position + 1 < len(argv):
                    position += 1
                    value = argv[position]
                else:
                    raise _bad_input(f"{flag} needs a value", field=option.name)
                fields[option.name] = _load_json(value, flag, option.name) if option.kind == OBJECT else value
        else:
            known = ", ".join([o.flag for o in options if o.flag] + ["--json -", "--jsonl", "--pretty"])
            raise _bad_input(f"unknown argument {arg!r}; known: {known}", field=arg.lstrip("-") or arg)
        position += 1
    return fields, modes


def check_fields(fields: dict, options: tuple[Field, ...]) -> dict:
    """Type-check fields that came as JSON; unknown fields are refused, as unknown flags are.

    A script that accepts other shapes (execute_agent takes a piped route result) reshapes
    them in its `prepare` step first, so what reaches here is only the script's own fields.
    """
    known = {option.name: option for option in options}
    for name, value in fields.items():
        option = known.get(name)
        if option is None:
            names = ", ".join(repr(o.name) for o in options)
            raise _bad_input(f"unknown field {name!r}; known fields: {names}", field=name)
        if option.kind == FLAG and not isinstance(value, bool):
            raise _bad_input(f"field {name!r} must be true or false", field=name)
        if option.kind == TEXT and value is not None and not isinstance(value, str):
            raise _bad_input(f"field {name!r} must be a string", field=name)
        if option.kind == OBJECT and value is not None and not isinstance(value, dict):
            raise _bad_input(f"field {name!r} must be a JSON object", field=name)
    return fields


def require_text(fields: dict, spec: Field, *, limit: int | None = None) -> str:
    """The declared field's text, stripped; BadInput saying whether it is missing, empty or longer
    than `limit` (default: the declared max_len)."""
    name = spec.name
    limit = limit or spec.max_len or MAX_TEXT
    value = fields.get(name)
    if isinstance(value, str) and not value.strip():
        raise _bad_input(f"field {name!r} is empty: give the {name} in words", field=name)
    if not isinstance(value, str):
        raise _bad_input(
            f'field {name!r} is required: give --{name.replace("_", "-")} TEXT or {{"{name}": ...}}', field=name
        )
    if len(value) > limit:
        raise _bad_input(f"field {name!r} is {len(value)} characters; the limit is {limit}", field=name)
    return value.strip()


def _emit(payload, pretty: bool) -> None:
    text = dumps(payload, pretty) + "\n"
    # Pretty output keeps non-ASCII text as is; a lone surrogate (from a mangled argv) cannot be
    # UTF-8, and backslashreplace writes it as "\udcff", which is that same JSON string escape.
    sys.stdout.buffer.write(text.encode("utf-8", "backslashreplace"))
    sys.stdout.flush()


def _emit_event(event: str, data: dict) -> None:
    """One progress event as its own line on stdout, before the result line (skills/progress.py)."""
    _emit(event_line(event, data), False)


def _handle_one(handle, fields: dict, options: tuple[Field, ...], settings, prepare=None) -> tuple[object, int]:
    if fields.get(EVENTS_FIELD) is True:  # the server streams this request: print its steps as they happen
        fields = {name: value for name, value in fields.items() if name != EVENTS_FIELD}
        with sending_to(_emit_event):
            return _handle_one(handle, fields, options, settings, prepare)
    if fields.get(EVENTS_FIELD) is False:
        fields = {name: value for name, value in fields.items() if name != EVENTS_FIELD}
    try:
        refused = field_problems(fields)
        if refused:
            raise _bad_input(refused[1], field=refused[0])
        if prepare is not None:
            fields = prepare(fields)
        return handle(check_fields(fields, options), settings)
    except Exception as error:  # a bug must cost one answer, never the --jsonl worker and its queue
        if isinstance(error, OrchestratorError):
            return error.to_json(), error.exit_status
        # no handler configured: the traceback goes to stderr, never stdout
        logging.getLogger("skills.cli").exception("the script failed on one input")
        failure = OrchestratorError(f"the script failed on this input ({type(error).__name__}); see its stderr")
        return failure.to_json(), failure.exit_status


PARENT_CHECK_S = 0.25


def _exit_with_parent() -> None:
    """A --jsonl worker stops as soon as the process that started it is gone.

    A server or orchestrator_worker killed with SIGKILL cannot stop its workers, and one left
    running would finish its async task after another claimer has taken it over (a second run,
    a second ledger row). Polling the parent id is simple and, unlike PR_SET_PDEATHSIG, does not
    fire when merely the thread that started the worker ends."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_S)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _run_jsonl(handle, options: tuple[Field, ...], settings, base_fields: dict, prepare=None) -> int:
    _exit_with_parent()
    worst = 0
    for line in sys.stdin.buffer:  # bytes: a line that is not UTF-8 is refused, not fatal
        if not line.strip():
            continue
        try:
            fields = _load_json(line, "input line")
            if not isinstance(fields, dict):
                raise _bad_input("each input line must be a JSON object", field="json")
        except Exception as error:  # noqa: BLE001 - _failure_reply raises anything but our own errors again
            payload, status = _failure_reply(error)
        else:
            payload, status = _handle_one(handle, {**fields, **base_fields}, options, settings, prepare)
        _emit(payload, False)
        worst = max(worst, status)
    return worst


def run_script(contract: Contract, handle, argv: list[str] | None = None, prepare=None) -> int:
    """Parse `contract`'s fields, dispatch to `handle`, print; returns the exit status.

    `prepare(fields) -> fields` may reshape input first (execute_agent accepts a piped routing result).
    """
    argv = sys.argv[1:] if argv is None else argv
    pretty = "--pretty" in argv
    options = contract.fields
    try:
        fields, modes = parse_argv(argv, options)
        if modes["help"]:
            sys.stdout.write(usage_text(contract) + "\n")
            return 0
        settings = load_settings()
        if modes["jsonl"]:
            return _run_jsonl(handle, options, settings, fields, prepare)
        if modes["json"]:
            piped = _load_json(sys.stdin.buffer.read(), "stdin")
            if not isinstance(piped, dict):
                raise _bad_input("stdin must hold one JSON object", field="json")
            fields = {**piped, **fields}
        payload, status = _handle_one(handle, fields, options, settings, prepare)
    except Exception as error:  # noqa: BLE001 - _failure_reply raises anything but our own errors again
        payload, status = _failure_reply(error)
    try:
        _emit(payload, pretty)
    except BrokenPipeError:  # the reader went away (e.g. `| head`); nothing left to tell it
        return status
    return status
