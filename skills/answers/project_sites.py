"""project-agent's site and installation tools, and the project matching every project tool shares.

The agent's tools module (agents/project-agent/tools.py) imports them, so they are its tools like
any other. `project` matches a project's code, name, city, area or province; a value that matches
no project is NotFound naming the closest known ones.
"""

from __future__ import annotations

import re
from typing import Literal

from skills.answers.entities import closest
from skills.answers.places import canonical_place
from skills.answers.reading import listing
from skills.backends.database import ReadOnlySession
from skills.errors import BadInput, NotFound
from skills.execution.tools import ToolContext, ToolResult, tool

MATCH = "(p.code ILIKE %s OR p.name ILIKE %s OR p.city ILIKE %s OR p.area ILIKE %s OR p.province ILIKE %s)"

# -- matching projects -----------------------------------------------------------------------------


def _like(value: str) -> str:
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _match(project: str | None) -> tuple[str, list]:
    if project is None or not project.strip():
        return "", []
    return " WHERE " + MATCH, [_like(canonical_place(project.strip()))] * 5


def rand(amount: float) -> str:
    """R 38.5m / R 915k / R 640: money the way a South African project report writes it."""
    sign, amount = ("-" if amount < 0 else ""), abs(amount)
    if amount >= 1_000_000:
        return f"{sign}R {amount / 1_000_000:.1f}m"
    if amount >= 10_000:
        return f"{sign}R {amount / 1000:.0f}k"
    return f"{sign}R {amount:,.0f}"


def _pct(part: float, whole: float) -> int:
    return round(100 * part / whole) if whole else 0


def _no_match(db, project: str) -> NotFound:
    rows = db.query("SELECT code, name, area FROM projects ORDER BY code").rows
    known = [r["name"] for r in rows]
    near = closest(project, known + [r["area"] for r in rows] + [r["code"] for r in rows])
    near = [next((r["name"] for r in rows if n in (r["area"], r["code"])), n) for n in near]
    return NotFound(
        "project",
        project,
        list(dict.fromkeys(near)),
        field="project",
        hint="name it by place, by a code like FF-GP-001 or by part of its name",
    )


def _scope(project: str | None, rows: list[dict]) -> str:
    if project and len(rows) == 1:
        return f"{rows[0]['name']} ({rows[0]['code']}, {rows[0]['status']})"
    if project:
        return f"{len(rows)} projects matching {canonical_place(project)}"
    return f"All {len(rows)} projects"


# -- tools -------------------------------------------------------------------------------------


SITE_STATUSES = ("planned", "in_progress", "completed", "blocked")
_SITE_CODE = re.compile(r"\bFF-[A-Z]{2,3}-\d{3}-S\d{2,3}\b", re.IGNORECASE)


@tool
def sites(
    ctx: ToolContext,
    project: str | None = None,
    status: Literal["planned", "in_progress", "completed", "blocked"] | None = None,
    delayed: bool = False,
    reason: str | None = None,
    site: str | None = None,
) -> ToolResult:
    """Sites (cabinets, pole routes, trench sections, MDUs) by project, status or delay, with delay reasons; or one site.

    Args:
        project: project code, name, city/area or province; omit for all.
        status: planned, in_progress, completed or blocked.
        delayed: only sites behind schedule.
        reason: words of the delay reason, e.g. cable theft.
        site: one site's code, e.g. FF-GP-001-S03.
    """
    where, params = _match(project)
    clauses = [where[len(" WHERE ") :]] if where else []
    for wanted, clause, value in (
        (status, "s.status = %s", status),
        (delayed, "s.delayed", None),
        (reason, "s.delay_reason ILIKE %s", reason and _like(reason.strip())),
        (site, "upper(s.code) = upper(%s)", site and site.strip()),
    ):
        if wanted:
            clauses.append(clause)
            params += [value] if value is not None else []
    if status and status not in SITE_STATUSES:
        raise BadInput(f"status must be one of {', '.join(SITE_STATUSES)}; got {status!r}", field="status")
    sql = (
        "SELECT s.code, s.name, p.name AS project, s.site_type, s.status, s.planned_end, s.actual_end, "
        "s.homes_planned, s.homes_passed, s.delayed, s.delay_days, s.delay_reason "
        "FROM sites s JOIN projects p ON p.id = s.project_id"
        + (" WHERE " + " AND ".join(clauses) if clauses else "")
        + " ORDER BY s.delay_days DESC, s.code"
    )
    with ReadOnlySession(ctx.settings, deadline=ctx.deadline) as db:
        rows = db.query(sql, params, cap=1000).rows
        if not rows and site:
            codes = [r["code"] for r in db.query("SELECT code FROM sites ORDER BY code", cap=100_000).rows]
            raise NotFound("site", site, closest(site.upper(), codes), field="site")
        if project and not db.query(f"SELECT 1 FROM projects p{where} LIMIT 1", _match(project)[1]).rows:
            raise _no_match(db, project)
    return _sites_result(rows, project, status, delayed, reason, site)


def _site_text(r: dict) -> str:
    late = f", {r['delay_days']} days late: {r['delay_reason']}" if r["delayed"] else ""
    return f"{r['name']} ({r['status'].replace('_', ' ')}{late})"


def _sites_result(rows, project, status, delayed, reason, site) -> ToolResult:
    checks = None
    if site:
        r = rows[0]
        checks = {"blocked": r["status"] == "blocked", "delayed": r["delayed"], "completed": r["status"] == "completed"}
        summary = (
            f"Site {r['code']} {r['name']} ({r['site_type']}, {r['project']}) is {r['status'].replace('_', ' ').upper()}"
            + (f", {r['delay_days']} days late ({r['delay_reason']})" if r["delayed"] else "")
            + f"; {r['homes_passed']} of {r['homes_planned']} homes passed, planned end {r['planned_end']}"
            + (f", finished {r['actual_end']}" if r["actual_end"] else "")
            + "."
        )
        return ToolResult(summary, rows, checks=checks)
    adjective = " ".join(filter(None, [status and status.replace("_", " "), delayed and "delayed"]))
    head = f"{len(rows)} {adjective + ' ' if adjective else ''}{'site' if len(rows) == 1 else 'sites'}"
    head += f" in {canonical_place(project)}" if project else ""
    head += f" (delay reason: {reason})" if reason else ""
    if not rows:
        return ToolResult(
            f"No sites: there are 0 {adjective} sites{' in ' + canonical_place(project) if project else ''}.",
            rows,
            checks={"any": False},
        )
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    breakdown = (
        "" if status else " (" + ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in sorted(counts.items())) + ")"
    )
    return ToolResult(f"{head}{breakdown}: {listing([_site_text(r) for r in rows])}.", rows, checks={"any": True})


INSTALL_STATUSES = ("scheduled", "completed", "failed")


@tool
def installations(
    ctx: ToolContext,
    project: str | None = None,
    status: Literal["scheduled", "completed", "failed"] | None = None,
) -> ToolResult:
    """Installations (homes connected) by status: scheduled, completed, failed; per project or in total.

    Args:
        project: project code, name, city/area or province; omit for every project.
        status: scheduled, completed or failed; omit for all.
    """
    if status and status not in INSTALL_STATUSES:
        raise BadInput(f"status must be one of {', '.join(INSTALL_STATUSES)}; got {status!r}", field="status")
    where, params = _match(project)
    with ReadOnlySession(ctx.settings, deadline=ctx.deadline) as db:
        rows = db.query(
            "SELECT p.code, p.name, p.status, count(*) FILTER (WHERE i.status = 'scheduled') AS scheduled, "
            "count(*) FILTER (WHERE i.status = 'completed') AS completed, "
            "count(*) FILTER (WHERE i.status = 'failed') AS failed, count(i.id) AS total "
            "FROM projects p LEFT JOIN sites s ON s.project_id = p.id LEFT JOIN installations i ON i.site_id = s.id"
            f"{where} GROUP BY p.code, p.name, p.status ORDER BY p.code",
            params,
        ).rows
        if not rows and project:
            raise _no_match(db, project)
    totals = {key: sum(r[key] for r in rows) for key in ("scheduled", "completed", "failed", "total")}
    scope = _scope(project, rows) if project else f"All {len(rows)} projects"
    split = ", ".join(f"{totals[s]:,} {s}" for s in INSTALL_STATUSES)
    if status:
        summary = f"{scope}: {totals[status]:,} {status} installations (of {totals['total']:,}: {split})"
        most = sorted((r for r in rows if r[status]), key=lambda r: -r[status])
        if len(rows) > 1 and most:
            summary += "; most in " + listing([f"{r['name']} ({r[status]:,})" for r in most], shown=3)
    else:
        summary = f"{scope}: {totals['total']:,} installations: {split}"
    return ToolResult(summary + ".", {"projects": rows, "totals": totals})
