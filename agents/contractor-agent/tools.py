"""Contractor Management Agent: FibreFlow's contractors, subcontractors, vendors and suppliers.

Parameterised queries only (values go as %s parameters, never into the SQL text), each in a
read-only transaction (skills/backends/database.py). "Contractors" in a user's words means every company
on record; `kind` narrows it to one kind.
"""

from __future__ import annotations

import re
from typing import Literal

from skills.answers.entities import closest, resolve
from skills.answers.offline_plans import plan_contractors
from skills.answers.places import canonical_place, find_place
from skills.answers.reading import listing, statuses_said
from skills.backends.database import ReadOnlySession
from skills.errors import BadInput, NotFound
from skills.execution.tools import ToolContext, ToolResult, tool

STATUSES = ("active", "inactive", "suspended")
KINDS = ("contractor", "subcontractor", "vendor", "supplier")
KIND_WORDS = {"subcontractor": "subcontractor", "subbie": "subcontractor", "vendor": "vendor", "supplier": "supplier"}
LIST_COLUMNS = "name, kind, specialty, status, province, city, contact_person, crew_count, rating, bbbee_level"


# -- reading the user's words (offline fast path) ---------------------------------------------------


def _words(query: str) -> list[str]:
    return re.findall(r"[a-z0-9-]+", query.lower())


def _filters(query: str) -> dict:
    words = _words(query)
    found: dict = {}
    status = next((w for w in words if w in STATUSES), None)
    if status:
        found["status"] = status
    for word in words:
        stem = word.removesuffix("s")
        if stem in KIND_WORDS:
            found["kind"] = KIND_WORDS[stem]
            break
    place = find_place(query)
    if place:
        found["region"] = place
    return found


def parse_list(query: str) -> dict:
    found = _filters(query)
    top = re.search(r"\b(?:top|best|first)\s+(\d{1,3})\b", query.lower())
    if top:
        found["limit"] = int(top.group(1))
    return found


_NAME_AFTER = re.compile(r"\b(?:at|for|of|from|with|about)\s+(?:the\s+)?(.+?)\s*(?:[?.!]|$)", re.IGNORECASE)
_NAME_NOISE = re.compile(
    r"\b(?:company|contractor|details|please|contact|person|number|email|phone)\b\s*$", re.IGNORECASE
)


def parse_details(query: str) -> dict:
    """ "who is the contact person at Gauteng Trenching" -> name="Gauteng Trenching"."""
    matches = _NAME_AFTER.findall(query)
    if not matches:
        return {}
    name = matches[-1].strip()
    name = _NAME_NOISE.sub("", name).strip(" ,")
    return {"name": name} if len(name) >= 3 else {}


# -- SQL -------------------------------------------------------------------------------------------


def _choice(value: str | None, allowed: tuple[str, ...], field: str) -> str | None:
    if value is None or value == "":
        return None
    normal = value.strip().lower()
    if normal.endswith("s") and normal[:-1] in allowed:
        normal = normal[:-1]
    if normal not in allowed:
        raise BadInput(f"{field} must be one of {', '.join(allowed)}; got {value!r}", field=field)
    return normal


def _like(value: str) -> str:
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _where(status: str | None, region: str | None, kind: str | None, specialty: str | None = None) -> tuple[str, list]:
    clauses, params = [], []
    if specialty:
        clauses.append("specialty ILIKE %s")
        params.append(_like(specialty.strip()))
    status, kind = _choice(status, STATUSES, "status"), _choice(kind, KINDS, "kind")
    if status:
        clauses.append("status = %s")
        params.append(status)
    if kind:
        clauses.append("kind = %s")
        params.append(kind)
    if region:
        clauses.append("(province ILIKE %s OR city ILIKE %s)")
        params += [_like(canonical_place(region))] * 2
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _noun(kind: str | None, count: int) -> str:
    noun = kind or "contractor"
    return noun if count == 1 else noun + "s"


def _described(
    status: str | None, kind: str | None, region: str | None, count: int, specialty: str | None = None
) -> str:
    text = f"{_choice(status, STATUSES, 'status') + ' ' if status else ''}{specialty + ' ' if specialty else ''}"
    text += _noun(_choice(kind, KINDS, "kind"), count)
    return text + (f" in {canonical_place(region)}" if region else "")


# -- tools -------------------------------------------------------------------------------------


@tool(parse=_filters)
def count_contractors(
    ctx: ToolContext,
    status: Literal["active", "inactive", "suspended"] | None = None,
    region: str | None = None,
    kind: Literal["contractor", "subcontractor", "vendor", "supplier"] | None = None,
    specialty: str | None = None,
) -> ToolResult:
    """Count contractor companies, optionally filtered; also gives the breakdown by kind and status.

    Args:
        status: active, inactive or suspended; omit for all.
        region: province or city, e.g. Gauteng, KZN, Durban.
        kind: contractor, subcontractor, vendor or supplier; omit for every company.
        specialty: e.g. trenching, aerial, splicing, installation, poles.
    """
    where, params = _where(status, region, kind, specialty)
    with ReadOnlySession(ctx.settings, deadline=ctx.deadline) as db:
        count = db.query(f"SELECT count(*) AS n FROM contractors{where}", params).rows[0]["n"]
        total = db.query("SELECT count(*) AS n FROM contractors").rows[0]["n"]
        breakdown = db.query(
            f"SELECT kind, status, count(*) AS n FROM contractors{where} GROUP BY 1, 2 ORDER BY 1, 2", params
        ).rows
    verb = "is" if count == 1 else "are"
    described = _described(status, kind, region, count, specialty)
    summary = f"There {verb} {count} {described} (of {total} companies on record)"
    by_status: dict[str, int] = {}
    for row in breakdown:
        by_status[row["status"]] = by_status.get(row["status"], 0) + row["n"]
    if not status and len(by_status) > 1:
        summary += ": " + ", ".join(f"{n} {s}" for s, n in sorted(by_status.items()))
    return ToolResult(
        summary + ".", {"count": count, "total": total, "breakdown": breakdown}, checks={"any": count > 0}
    )


@tool(parse=parse_list)
def list_contractors(
    ctx: ToolContext,
    status: Literal["active", "inactive", "suspended"] | None = None,
    region: str | None = None,
    kind: Literal["contractor", "subcontractor", "vendor", "supplier"] | None = None,
    specialty: str | None = None,
    project: str | None = None,
    limit: int = 20,
) -> ToolResult:
    """List contractor companies, best rated first, with specialty, place, status, contact person and crews.

    Args:
        status: active, inactive or suspended; omit for all.
        region: province or city where the company is based, e.g. Limpopo, Soweto.
        kind: contractor, subcontractor, vendor or supplier; omit for every company.
        specialty: e.g. trenching, aerial, splicing, installation, poles.
        project: only companies working on this project (code, name or place).
        limit: at most this many rows (1-100).
    """
    if not 1 <= limit <= 100:
        raise BadInput(f"limit must be between 1 and 100; got {limit}", field="limit")
    where, params = _where(status, region, kind, specialty)
    with ReadOnlySession(ctx.settings, deadline=ctx.deadline) as db:
        if project:
            on_project = _on_project(db, project)
            where += (" AND " if where else " WHERE ") + "id = ANY(%s)"
            params = params + [on_project["ids"]]
        rows = db.query(
            f"SELECT {LIST_COLUMNS} FROM contractors{where} ORDER BY rating DESC NULLS LAST, name LIMIT %s",
            params + [limit],
        ).rows
        total = db.query(f"SELECT count(*) AS n FROM contractors{where}", params).rows[0]["n"]
    described = _described(status, kind, region, total, specialty)
    if project:
        described += f" on {listing(on_project['names'], shown=3)}"
    if not rows:
        return ToolResult(f"There are no {described}.", [], checks={"any": False})
    shown = [_listed(r, status) for r in rows]
    head = f"{total} {described}" if total == len(rows) else f"{total} {described}, best {len(rows)} shown"
    flagged = "" if status else statuses_said(rows)
    return ToolResult(f"{head}{flagged}: {listing(shown)}.", rows, checks={"any": True})


def _on_project(db, project: str) -> dict:
    """The ids of the companies on the projects `project` names; NotFound when it names none."""
    like = _like(project.strip())
    projects = db.query(
        "SELECT id, code, name FROM projects WHERE code ILIKE %s OR name ILIKE %s OR area ILIKE %s OR city ILIKE %s",
        [like] * 4,
    ).rows
    if not projects:
        known = [r["name"] for r in db.query("SELECT name FROM projects ORDER BY code").rows]
        raise NotFound("project", project, closest(project, known), field="project")
    ids = db.query(
        "SELECT DISTINCT contractor_id AS id FROM project_contractors WHERE project_id = ANY(%s)",
        [[p["id"] for p in projects]],
    ).rows
    return {"ids": [r["id"] for r in ids], "names": [f"{p['name']} ({p['code']})" for p in projects]}


def _listed(row: dict, status_asked: str | None) -> str:
    flag = f", {row['status'].upper()}" if row["status"] != "active" and not status_asked else ""
    return f"{row['name']} ({row['specialty']}, {row['city']}, rating {row['rating']}{flag})"


@tool(parse=parse_details)
def contractor_details(ctx: ToolContext, name: str) -> ToolResult:
    """Status, contact person, phone, email, crews, rating, B-BBEE level, onboarding date and projects of a company.

    Args:
        name: the company's name or part of it, or words like "pole supplier" (matched on name, kind and specialty).
    """
    if not name or not name.strip():
        raise BadInput("name is empty: give part of the company's name", field="name")
    with ReadOnlySession(ctx.settings, deadline=ctx.deadline) as db:
        rows = _matching(db, name.strip())
        for row in rows[:3]:
            row["projects"] = db.query(
                "SELECT p.code, p.name, pc.role FROM project_contractors pc JOIN projects p ON p.id = pc.project_id "
                "WHERE pc.contractor_id = %s ORDER BY p.code",
                [row["id"]],
            ).rows
    first = rows[0]
    checks = {status: first["status"] == status for status in STATUSES}
    return ToolResult(_details_summary(rows), rows, checks=checks)


def _matching(db, name: str) -> list[dict]:
    """The companies `name` means; a proper name that matches none is NotFound with the closest names."""
    names = [r["name"] for r in db.query("SELECT name FROM contractors ORDER BY name").rows]
    try:
        found = resolve("contractor", name, names, field="name")
    except NotFound:
        descriptive = name[:1].islower()  # "pole supplier", "trenching company in Pretoria": words, not a name
        rows = _by_words(db, name) if descriptive else []
        if rows:
            return rows
        raise NotFound("contractor", name, closest(name, names), field="name") from None
    return db.query("SELECT * FROM contractors WHERE name = ANY(%s) ORDER BY name LIMIT 10", [found]).rows


def _by_words(db, name: str) -> list[dict]:
    """Every word (plural or not) found in the name, kind, specialty or place: "trenching company in Pretoria"."""
    words = [w[:-1] if len(w) > 3 and w.endswith("s") else w for w in re.findall(r"[a-z0-9]+", name.lower())]
    words = [w for w in words if len(w) > 2 and w not in ("the", "and", "our", "company", "firm", "outfit")]
    if not words:
        return []
    haystack = "(name || ' ' || kind || ' ' || specialty || ' ' || city || ' ' || province)"
    where = " AND ".join(f"{haystack} ILIKE %s" for _ in words)
    return db.query(
        f"SELECT * FROM contractors WHERE {where} ORDER BY status, rating DESC LIMIT 10", [_like(w) for w in words]
    ).rows


def _details_summary(rows: list[dict]) -> str:
    first = rows[0]
    text = (
        f"{first['name']} ({first['kind']}, {first['specialty']}, {first['city']}, {first['province']}) "
        f"is {first['status'].upper() if first['status'] != 'active' else 'active'}: "
        f"contact {first['contact_person']}, {first['phone']}, {first['email']}; "
        f"{first['crew_count']} crews, rating {first['rating']}, "
        f"B-BBEE level {first['bbbee_level'] or 'none'}, onboarded {first['onboarded_on']}"
    )
    projects = first.get("projects") or []
    if projects:
        text += f"; on {len(projects)} project{'s' if len(projects) != 1 else ''}: " + listing(
            [p["name"] for p in projects], shown=4
        )
    if len(rows) > 1:
        text += f". Also matching: {listing([r['name'] for r in rows[1:]], shown=4)}"
    return text + "."


# -- the offline planner: names and filters read with the database's own vocabulary -------------------


def _limit(query: str) -> dict:
    return {k: v for k, v in parse_list(query).items() if k == "limit"}


def plan_offline(ctx: ToolContext, query: str) -> list[tuple[str, dict]]:
    """See skills/answers/offline_plans.plan_contractors."""
    return plan_contractors(ctx, query, _filters, _limit)
