"""The Convex Task Agent's tools: the team's to-do tasks, kept in a Convex deployment.

Each tool calls one Convex function (documented in README.md beside this file; a reference
implementation is in convex/). Tasks are referred to by their number ("task 17"), by their
Convex document id, or by words from the title ("the audit task"); words are looked up
with tasks:list and must match exactly one task.

The `parse` functions let the offline path pull arguments out of a user's sentence without
a model; they are deliberately small pattern matches, and leave out what they cannot find.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from skills.backends import convex
from skills.errors import BadInput
from skills.execution.tools import ToolContext, ToolResult, tool

Status = Literal["todo", "in_progress", "done"]
SHOWN_IN_SUMMARY = 5
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_DATE_WORDS = r"today|tomorrow|" + "|".join(_WEEKDAYS) + r"|\d{4}-\d{2}-\d{2}"
_NOUN = r"(?:task|to-?do|todo item|item|action item|reminder|ticket)"
_NAME = r"([A-Z][\w'-]+(?: [A-Z][\w'-]+)?)"

# What the functions in convex/ answer, as far as these tools read it: anything else is upstream_invalid.
TASK = {"number": convex.NUMBER, "title": str, "assignee": convex.OPTIONAL_TEXT, "status": str}
TASK_LIST = {"tasks": [TASK], "total": convex.NUMBER}
COMPLETED = {"task": TASK}
STATS = {
    "total": convex.NUMBER,
    "byStatus": {str: convex.NUMBER},
    "byAssignee": {str: convex.NUMBER},
    "overdue": convex.NUMBER,
    "dueToday": convex.NUMBER,
}


# --- shared helpers ------------------------------------------------------------------------


def _describe(task: dict) -> str:
    text = f"#{task['number']} {task['title']}"
    details = [task["assignee"] or "unassigned"]
    if task.get("due"):
        details.append(f"due {task['due']}")
    if task["status"] != "todo":
        details.append(task["status"].replace("_", " "))
    return f"{text} ({', '.join(details)})"


def _normalise_due(due: str | None, today: dt.date | None = None) -> str | None:
    """A due date as YYYY-MM-DD; accepts that, 'today', 'tomorrow' or a weekday (the next one)."""
    if due is None:
        return None
    today = today or dt.date.today()
    word = due.strip().lower()
    if word == "today":
        return today.isoformat()
    if word == "tomorrow":
        return (today + dt.timedelta(days=1)).isoformat()
    if word in _WEEKDAYS:
        ahead = (_WEEKDAYS.index(word) - today.weekday()) % 7 or 7
        return (today + dt.timedelta(days=ahead)).isoformat()
    try:
        return dt.date.fromisoformat(word).isoformat()
    except ValueError:
        raise BadInput(
            f"due must be a date like 2025-06-30, 'today', 'tomorrow' or a weekday, got {due!r}", field="due"
        ) from None


def _resolve_task(ctx: ToolContext, task_id: str) -> str:
    """The task's number (or document id) from what the user called it."""
    ref = task_id.strip().lstrip("#").strip()
    number = re.fullmatch(r"(?:task\s*)?(\d+)", ref, re.IGNORECASE)
    if number:
        return number.group(1)
    if re.fullmatch(r"[a-z0-9]{20,}", ref):
        return ref  # a Convex document id
    ref = re.sub(rf"^(?:the|my|our)\s+|\s+{_NOUN}$", "", ref, flags=re.IGNORECASE).strip()
    if not ref:
        raise BadInput("task_id is empty: give the task's number, e.g. 17", field="task_id")
    found = convex.query(
        ctx.settings, "tasks:list", {"status": "all", "search": ref}, deadline=ctx.deadline, expect=TASK_LIST
    )
    matches = found["tasks"]
    open_matches = [t for t in matches if t["status"] != "done"] or matches
    if len(open_matches) == 1:
        return str(open_matches[0]["number"])
    if not open_matches:
        raise BadInput(f"no task matches {ref!r}: give the task's number (list_tasks shows them)", field="task_id")
    listed = "; ".join(_describe(t) for t in open_matches[:SHOWN_IN_SUMMARY])
    raise BadInput(f"{len(open_matches)} tasks match {ref!r}: {listed}. Give the number.", field="task_id")


def _number_in(query: str) -> str | None:
    found = re.search(rf"(?:#|\b{_NOUN}\s*#?|\bnumber\s*|\bno\.?\s*)\s*(\d+)\b", query, re.IGNORECASE)
    found = found or re.search(r"\b(\d+)\b", query)
    return found.group(1) if found else None


def _due_in(query: str) -> str | None:
    """'due Friday', 'by 2025-07-01', 'change the due date ... to 2025-08-01', a trailing 'tomorrow'."""
    found = (
        re.search(rf"\b(?:due|by|on)\s+(?:date\s+)?(?:to\s+)?({_DATE_WORDS})\b", query, re.IGNORECASE)
        or re.search(rf"\bdue\b.*?\b({_DATE_WORDS})\b", query, re.IGNORECASE)
        or re.search(r"\b(\d{4}-\d{2}-\d{2}|today|tomorrow)\s*[?.!]?$", query, re.IGNORECASE)
    )
    return found.group(1).lower() if found else None


def _strip_due(text: str) -> str:
    text = re.sub(rf"[\s,]*(?:due|by|on)\s+(?:{_DATE_WORDS})\b", "", text, flags=re.IGNORECASE)
    return re.sub(r"\s+(?:today|tomorrow)\s*$", "", text, flags=re.IGNORECASE).strip()


def _status_in(query: str) -> str | None:
    lowered = query.lower()
    if re.search(r"\bin[ -]progress\b|\bstarted\b|\bworking on\b", lowered):
        return "in_progress"
    if re.search(r"\b(?:re-?open|back to (?:to-?do|todo|open)|not started)\b", lowered):
        return "todo"
    if re.search(r"\b(?:done|complete|completed|finished|closed)\b", lowered):
        return "done"
    return None


# --- list_tasks -------------------------------------------------------------------------


def parse_list(query: str) -> dict:
    lowered = query.lower()
    arguments: dict = {}
    if re.search(r"\b(?:overdue|late|past due|behind)\b", lowered):
        arguments["due"] = "overdue"
    elif re.search(r"\btoday\b", lowered):
        arguments["due"] = "today"
    elif re.search(r"\bthis week\b|\bweek\b", lowered):
        arguments["due"] = "this_week"
    if re.search(r"\ball\b.*\b(?:tasks?|to-?dos?|items)\b", lowered) and "overdue" not in lowered:
        arguments["status"] = "all"
    elif re.search(r"\bin[ -]progress\b", lowered):
        arguments["status"] = "in_progress"
    elif re.search(r"\b(?:done|completed|finished|closed)\b", lowered):
        arguments["status"] = "done"
    who = re.search(rf"\b(?:assigned to|owned by|for|of)\s+{_NAME}", query) or re.search(rf"\b{_NAME}'s\b", query)
    if who and who.group(1).lower() not in ("today", "tomorrow", "convex", "this", "the", *_WEEKDAYS):
        arguments["assignee"] = who.group(1)
    return arguments


@tool(parse=parse_list)
def list_tasks(
    ctx: ToolContext,
    status: Literal["open", "todo", "in_progress", "done", "all"] = "open",
    assignee: str | None = None,
    due: Literal["overdue", "today", "this_week"] | None = None,
) -> ToolResult:
    """List the team's tasks, soonest due first.

    Args:
        status: Which tasks: open (not done, the default), todo, in_progress, done or all.
        assignee: Only tasks assigned to this person (first name, as stored).
        due: Only tasks that are overdue, due today, or due within the next 7 days.
    """
    found = convex.query(
        ctx.settings,
        "tasks:list",
        {"status": status, "assignee": assignee, "due": due},
        deadline=ctx.deadline,
        expect=TASK_LIST,
    )
    tasks, total = found["tasks"], found["total"]
    label = " ".join(
        part
        for part in (
            {"overdue": "overdue", "today": "due today", "this_week": "due this week"}.get(due or "", ""),
            "" if status == "all" else status.replace("_", " "),
            "task" if total == 1 else "tasks",
            f"for {assignee}" if assignee else "",
        )
        if part
    )
    if not total:
        return ToolResult(f"No {label}.", {"tasks": [], "total": 0})
    shown = "; ".join(_describe(t) for t in tasks[:SHOWN_IN_SUMMARY])
    more = f"; … and {total - SHOWN_IN_SUMMARY} more" if total > SHOWN_IN_SUMMARY else ""
    return ToolResult(f"{total} {label}: {shown}{more}.", {"tasks": tasks, "total": total})


# --- add_task ---------------------------------------------------------------------------


def parse_add(query: str) -> dict:
    text = query.strip().rstrip("?.!").strip()
    text = re.sub(r"^(?:please\s+|can you\s+|could you\s+)+", "", text, flags=re.IGNORECASE)
    remind = re.match(r"remind (?:me|us)\s+(?:to\s+)?(.+)$", text, re.IGNORECASE)
    arguments: dict = {}
    if remind:
        rest = remind.group(1)
    else:
        lead = re.match(
            rf"(?:add|create|make|log|new|put in|open)\s+(?:a\s+|an\s+|another\s+)?(?:new\s+)?{_NOUN}s?\b\s*(.*)$",
            text,
            re.IGNORECASE,
        ) or re.match(r"(?:add|create|log)\s+(.+)$", text, re.IGNORECASE)
        if not lead:
            return {}
        rest = lead.group(1)
        owner = re.match(rf"for\s+{_NAME}\s+to\s+(.+)$", rest)
        if owner:
            arguments["assignee"], rest = owner.group(1), owner.group(2)
        rest = re.sub(r"^(?:to|that|about|:|-)\s*", "", rest, flags=re.IGNORECASE)
    assigned = re.search(rf"[\s,]*(?:and\s+)?assign(?:ed)?\s+(?:it\s+)?to\s+{_NAME}\s*$", rest)
    if assigned:
        arguments["assignee"], rest = assigned.group(1), rest[: assigned.start()]
    due = _due_in(rest)
    if due:
        arguments["due"], rest = due, _strip_due(rest)
    if rest.strip():
        arguments["title"] = rest.strip()
    return arguments


@tool(parse=parse_add)
def add_task(ctx: ToolContext, title: str, assignee: str | None = None, due: str | None = None) -> ToolResult:
    """Add a new to-do task (status todo).

    Args:
        title: What has to be done, as a short sentence.
        assignee: Who should do it (first name), if known.
        due: Due date as YYYY-MM-DD (also accepts today, tomorrow or a weekday name).
    """
    title = title.strip()
    if not title:
        raise BadInput("a task needs a title: say what has to be done", field="title")
    task = convex.mutation(
        ctx.settings,
        "tasks:add",
        {"title": title, "assignee": assignee, "due": _normalise_due(due)},
        deadline=ctx.deadline,
        expect=TASK,
    )
    return ToolResult(f"Added task {_describe(task)}.", {"task": task})


# --- update_task ------------------------------------------------------------------------


def parse_update(query: str) -> dict:
    arguments: dict = {}
    reassign = re.search(
        rf"\b(?:re-?assign|assign|give|hand over|move)\s+(?:the\s+)?(.+?)\s+(?:{_NOUN}\s+)?to\s+{_NAME}\s*[?.!]?$",
        query,
        re.IGNORECASE,
    )
    if reassign and reassign.group(2)[0].isupper():
        ref = re.sub(rf"^(?:{_NOUN})\s*", "", reassign.group(1), flags=re.IGNORECASE)
        arguments["task_id"] = _number_in(ref) or ref
        arguments["assignee"] = reassign.group(2)
        return arguments
    rename = re.search(r"\brename\s+(.+?)\s+to\s+[\"']?(.+?)[\"']?\s*$", query, re.IGNORECASE)
    if rename:
        arguments["task_id"] = _number_in(rename.group(1)) or rename.group(1).removeprefix("the ").strip()
        arguments["title"] = rename.group(2)
        return arguments
    number = _number_in(query)
    if number:
        arguments["task_id"] = number
    due = _due_in(query)
    if due:
        arguments["due"] = due
    status = _status_in(query)
    if status:
        arguments["status"] = status
    return arguments


@tool(parse=parse_update)
def update_task(
    ctx: ToolContext,
    task_id: str,
    title: str | None = None,
    assignee: str | None = None,
    status: Status | None = None,
    due: str | None = None,
) -> ToolResult:
    """Change a task: rename it, (re)assign it, move it to another status or change its due date.

    Args:
        task_id: The task's number (e.g. 17), its Convex id, or words from its title.
        title: The new title.
        assignee: The new assignee (first name).
        status: The new status: todo, in_progress or done.
        due: The new due date as YYYY-MM-DD (also today, tomorrow or a weekday name).
    """
    changes = {"title": title, "assignee": assignee, "status": status, "due": _normalise_due(due)}
    if all(value is None for value in changes.values()):
        raise BadInput("nothing to change: give a title, assignee, status or due date", field="task_id")
    task = convex.mutation(
        ctx.settings,
        "tasks:update",
        {"task": _resolve_task(ctx, task_id), **changes},
        deadline=ctx.deadline,
        expect=TASK,
    )
    changed = ", ".join(f"{name} {value}" for name, value in changes.items() if value is not None)
    return ToolResult(f"Updated task #{task['number']} ({changed}): {_describe(task)}.", {"task": task})


# --- complete_task ----------------------------------------------------------------------


def parse_complete(query: str) -> dict:
    number = _number_in(query)
    if number:
        return {"task_id": number}
    named = re.search(
        rf"\b{_NOUN}\s+(?:to|for|about)\s+(.+?)(?:\s+(?:as\s+)?(?:done|complete|finished))?\s*[?.!]?$",
        query,
        re.IGNORECASE,
    ) or re.search(
        rf"\b(?:mark|complete|finish|close|tick(?: off)?|done with)\s+(?:the\s+|my\s+|our\s+)?(.+?)\s+{_NOUN}\b",
        query,
        re.IGNORECASE,
    )
    return {"task_id": named.group(1)} if named else {}


@tool(parse=parse_complete)
def complete_task(ctx: ToolContext, task_id: str) -> ToolResult:
    """Mark a task as done.

    Args:
        task_id: The task's number (e.g. 17), its Convex id, or words from its title.
    """
    result = convex.mutation(
        ctx.settings, "tasks:complete", {"task": _resolve_task(ctx, task_id)}, deadline=ctx.deadline, expect=COMPLETED
    )
    task = result["task"]
    if result.get("alreadyDone"):
        return ToolResult(f"Task #{task['number']} was already done: {task['title']}.", result)
    return ToolResult(f"Marked task #{task['number']} as done: {task['title']}.", result)


# --- task_stats -------------------------------------------------------------------------


def parse_nothing(query: str) -> dict:
    return {}


@tool(parse=parse_nothing)
def task_stats(ctx: ToolContext) -> ToolResult:
    """Count the team's tasks: by status, overdue, due today, and open tasks per person."""
    stats = convex.query(ctx.settings, "tasks:stats", {}, deadline=ctx.deadline, expect=STATS)
    by_status = stats["byStatus"]
    people = sorted(stats["byAssignee"].items(), key=lambda item: (-item[1], item[0]))
    per_person = ", ".join(f"{name} {count}" for name, count in people)
    summary = (
        f"{stats['total']} tasks: {by_status.get('todo', 0)} to do, {by_status.get('in_progress', 0)} in progress, "
        f"{by_status.get('done', 0)} done; {stats['overdue']} overdue, {stats['dueToday']} due today."
    )
    if per_person:
        summary += f" Open per person: {per_person}."
    return ToolResult(summary, stats)


# --- sync_status ------------------------------------------------------------------------


def _when(ms: float | None) -> str:
    if not ms:
        return "unknown time"
    moment = dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
    minutes = int((dt.datetime.now(dt.UTC) - moment).total_seconds() // 60)
    ago = "just now" if minutes < 1 else f"{minutes} min ago" if minutes < 120 else f"{minutes // 60} h ago"
    return f"{moment:%Y-%m-%d %H:%M} UTC, {ago}"


@tool(parse=parse_nothing)
def sync_status(ctx: ToolContext) -> ToolResult:
    """Report the last Convex sync run: when it ran, whether it succeeded, and how many records it synced."""
    sync = convex.query(ctx.settings, "sync:status", {}, deadline=ctx.deadline, expect=dict)
    state = sync.get("status", "never")
    source = sync.get("source") or "the source"
    if state == "never":
        return ToolResult("Convex has never synced.", sync)
    if state == "running":
        return ToolResult(f"A sync from {source} is running (started {_when(sync.get('startedAt'))}).", sync)
    if state == "failed":
        return ToolResult(
            f"The last sync from {source} failed ({_when(sync.get('finishedAt'))}): {sync.get('error')}.", sync
        )
    return ToolResult(
        f"The last sync from {source} succeeded ({_when(sync.get('finishedAt'))}): "
        f"{sync.get('recordsSynced', 0)} records.",
        sync,
    )
