"""Project Management Agent: FibreFlow's rollout projects, sites, installations, budgets and schedules.

Parameterised, read-only queries (skills/backends/database.py). `project` matches a project's code, name,
city, area or province, so "Soweto", "FF-GP-001" and "Gauteng" all work; several matches are
reported together with their totals.
"""

from __future__ import annotations

import datetime
import re
from typing import Literal

from skills.answers.entities import resolve
from skills.answers.offline_plans import plan_projects as plan_offline  # noqa: F401 (the offline path's planner)
from skills.answers.places import canonical_place, find_place
from skills.answers.project_sites import _like, _match, _no_match, _pct, _scope, installations, rand
from skills.answers.project_sites import sites as site_tool
from skills.answers.reading import listing, plural
from skills.backends.database import ReadOnlySession
from skills.errors import BadInput
from skills.execution.tools import ToolContext, ToolResult, tool

SHARED_TOOLS = (
    installations,
    site_tool,
)  # defined in skills/answers/project_sites.py; tools of this agent like the rest
STATUSES = ("planning", "active", "on_hold", "completed")
STATUS_WORDS = {
    "active": "active",
    "ongoing": "active",
    "running": "active",
    "planning": "planning",
    "planned": "planning",
    "upcoming": "planning",
    "completed": "completed",
    "finished": "completed",
    "done": "completed",
    "paused": "on_hold",
}


# -- reading the user's words (offline fast path) ---------------------------------------------------

_CODE = re.compile(r"\bFF-[A-Z]{2,3}-\d{3}\b", re.IGNORECASE)
_NAMED = re.compile(r"\bthe\s+([A-Z][\w-]*(?:\s+[A-Z][\w-]*)*)\s+(?:project|rollout|roll-out|deployment|build)\b")


def parse_project(query: str) -> dict:
    """ "what is the status of the Soweto project" -> project="Soweto"; nothing named -> {} (all)."""
    code = _CODE.search(query)
    if code:
        return {"project": code.group(0).upper()}
    place = find_place(query)
    if place:
        return {"project": place}
    named = _NAMED.search(query)
    return {"project": named.group(1)} if named else {}


def parse_list(query: str) -> dict:
    found: dict = {}
    lowered = query.lower()
    if "on hold" in lowered or "on-hold" in lowered:
        found["status"] = "on_hold"
    else:
        status = next((STATUS_WORDS[w] for w in re.findall(r"[a-z]+", lowered) if w in STATUS_WORDS), None)
        if status:
            found["status"] = status
    place = find_place(query)
    if place:
        found["province"] = place
    return found


# -- tools -------------------------------------------------------------------------------------


@tool(parse=parse_list)
def list_projects(
    ctx: ToolContext,
    status: Literal["planning", "active", "on_hold", "completed"] | None = None,
    province: str | None = None,
    manager: str | None = None,
    contractor: str | None = None,
) -> ToolResult:
    """List fibre rollout projects with place, status, manager, dates and homes passed/connected.

    Args:
        status: planning, active, on_hold or completed; omit for all.
        province: province or city/area, e.g. Gauteng, KZN, Soweto.
        manager: the project manager's name or part of it.
        contractor: only projects this company (name or part of it) works on.
    """
    clauses, params = [], []
    if status:
        if status not in STATUSES:
            raise BadInput(f"status must be one of {', '.join(STATUSES)}; got {status!r}", field="status")
        clauses.append("status = %s")
        params.append(status)
    if province:
        clauses.append("(province ILIKE %s OR city ILIKE %s OR area ILIKE %s)")
        params += [_like(canonical_place(province))] * 3
    if manager:
        clauses.append("project_manager ILIKE %s")
        params.append(_like(manager.strip()))
    with ReadOnlySession(ctx.settings, deadline=ctx.deadline) as db:
        if contractor:
            companies = resolve("contractor", contractor, [r["name"] for r in db.query(
                "SELECT name FROM contractors ORDER BY name").rows], field="contractor")  # fmt: skip
            clauses.append(
                "id IN (SELECT pc.project_id FROM project_contractors pc JOIN contractors c ON c.id = pc.contractor_id "
                "WHERE c.name = ANY(%s))"
            )
            params.append(companies)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        rows = db.query(
            "SELECT code, name, province, city, area, status, project_manager, start_date, planned_end, forecast_end, "
            f"actual_end, homes_passed_target, homes_passed, homes_connected FROM projects{where} "
            "ORDER BY code",
            params,
        ).rows
    described = " ".join(
        filter(
            None,
            [
                status and status.replace("_", " "),
                "project" if len(rows) == 1 else "projects",
                province and f"in {canonical_place(province)}",
                manager and f"managed by {manager}",
                contractor and f"with {listing(companies, shown=3)} on them",
            ],
        )
    )
    if not rows:
        return ToolResult(f"There are no {described}.", [], checks={"any": False})
    shown = [f"{r['name']} ({r['code']}, {r['status'].replace('_', ' ')})" for r in rows]
    return ToolResult(f"{len(rows)} {described}: {listing(shown, shown=10)}.", rows, checks={"any": True})


@tool(parse=parse_project)
def project_progress(ctx: ToolContext, project: str | None = None) -> ToolResult:
    """Homes passed and connected, completed installations and finished sites, per project and in total.

    Args:
        project: project code, name, city/area or province; omit for every project.
    """
    where, params = _match(project)
    with ReadOnlySession(ctx.settings, deadline=ctx.deadline) as db:
        rows = db.query(
            "SELECT p.code, p.name, p.status, p.homes_passed_target, p.homes_passed, p.homes_connected, "
            "  (SELECT count(*) FROM sites s WHERE s.project_id = p.id) AS sites, "
            "  (SELECT count(*) FROM sites s WHERE s.project_id = p.id AND s.status = 'completed') AS sites_completed, "
            "  (SELECT count(*) FROM installations i JOIN sites s ON s.id = i.site_id "
            "   WHERE s.project_id = p.id AND i.status = 'completed') AS installations_completed "
            f"FROM projects p{where} ORDER BY p.code",
            params,
        ).rows
        if not rows and project:
            raise _no_match(db, project)
    totals = {
        key: sum(r[key] for r in rows)
        for key in (
            "homes_passed_target",
            "homes_passed",
            "homes_connected",
            "sites",
            "sites_completed",
            "installations_completed",
        )
    }
    t = totals
    summary = (
        f"{_scope(project, rows)}: {t['homes_passed']:,} of {t['homes_passed_target']:,} homes passed "
        f"({_pct(t['homes_passed'], t['homes_passed_target'])}%), {t['homes_connected']:,} connected "
        f"({_pct(t['homes_connected'], t['homes_passed'])}% of passed), "
        f"{t['installations_completed']:,} installations completed, "
        f"{t['sites_completed']} of {t['sites']} sites finished."
    )
    return ToolResult(summary, {"projects": rows, "totals": totals})


@tool(parse=parse_project)
def project_budget(ctx: ToolContext, project: str | None = None) -> ToolResult:
    """Budget versus actual spend (rand) per project, and which projects are over budget.

    Args:
        project: project code, name, city/area or province; omit for every project.
    """
    where, params = _match(project)
    with ReadOnlySession(ctx.settings, deadline=ctx.deadline) as db:
        rows = db.query(
            "SELECT p.code, p.name, p.status, p.budget, p.spend, p.spend - p.budget AS variance, "
            "round(100 * p.spend / nullif(p.budget, 0), 1) AS percent_spent, p.spend > p.budget AS over_budget "
            f"FROM projects p{where} ORDER BY p.code",
            params,
        ).rows
        if not rows and project:
            raise _no_match(db, project)
    budget, spend = sum(r["budget"] for r in rows), sum(r["spend"] for r in rows)
    over = [r for r in rows if r["over_budget"]]
    summary = f"{_scope(project, rows)}: budget {rand(budget)}, spent {rand(spend)} ({_pct(spend, budget)}%)."
    if over:
        listed = listing([f"{r['name']} ({rand(r['variance'])} over, {r['percent_spent']}%)" for r in over])
        summary += f" {len(over)} over budget: {listed}."
    else:
        summary += " None is over budget."
    return ToolResult(
        summary,
        {"projects": rows, "totals": {"budget": budget, "spend": spend, "over_budget": len(over)}},
        checks={"over budget": bool(over), "overspent": bool(over), "within budget": not over},
    )


@tool(parse=parse_project)
def project_schedule(ctx: ToolContext, project: str | None = None) -> ToolResult:
    """Planned versus forecast or actual finish dates, projects running late, and delayed (behind-schedule) sites.

    Args:
        project: project code, name, city/area or province; omit for every project.
    """
    where, params = _match(project)
    with ReadOnlySession(ctx.settings, deadline=ctx.deadline) as db:
        rows = db.query(
            "SELECT p.code, p.name, p.status, p.start_date, p.planned_end, p.forecast_end, p.actual_end, "
            "coalesce(p.actual_end, p.forecast_end, p.planned_end) - p.planned_end AS days_late, "
            "(SELECT count(*) FROM sites s WHERE s.project_id = p.id AND s.delayed) AS delayed_sites, "
            "(SELECT count(*) FROM sites s WHERE s.project_id = p.id) AS sites "
            f"FROM projects p{where} ORDER BY p.code",
            params,
        ).rows
        if not rows and project:
            raise _no_match(db, project)
        sites = db.query(
            "SELECT s.code, s.name, p.name AS project, s.status, s.planned_end, s.delay_days, s.delay_reason "
            f"FROM sites s JOIN projects p ON p.id = s.project_id{where}{' AND' if where else ' WHERE'} s.delayed "
            "ORDER BY s.delay_days DESC, s.code LIMIT 50",
            params,
        ).rows
    late = any(r["days_late"] > 0 and not r["actual_end"] for r in rows)
    return ToolResult(
        _schedule_summary(project, rows, sites),
        {"projects": rows, "delayed_sites": sites},
        checks={"late": late, "behind schedule": late, "on time": not late, "on track": not late},
    )


def _schedule_summary(project: str | None, rows: list[dict], sites: list[dict]) -> str:
    delayed = sum(r["delayed_sites"] for r in rows)
    if project and len(rows) == 1:
        r = rows[0]
        if r["actual_end"]:
            when = f"finished {r['actual_end']} (planned {r['planned_end']}, {_late(r['days_late'])})"
        else:
            when = f"planned to finish {r['planned_end']}, forecast {r['forecast_end']} ({_late(r['days_late'])})"
        return f"{_scope(project, rows)} {when}; {delayed} of {r['sites']} sites delayed."
    late = sorted((r for r in rows if r["days_late"] > 0 and not r["actual_end"]), key=lambda r: -r["days_late"])
    text = f"{_scope(project, rows)}: {len(late)} running late"
    if late:
        text += ": " + listing([f"{r['name']} {r['days_late']} days" for r in late])
    text += f"; {delayed} sites are delayed"
    if sites:
        worst = sites[0]
        text += f", the worst {worst['name']} ({worst['project']}, {worst['delay_days']} days, {worst['delay_reason']})"
    return text + "."


def _late(days: int) -> str:
    if days > 0:
        return f"{days} days late"
    return "on time" if days == 0 else f"{-days} days early"


@tool(parse=parse_project)
def project_details(ctx: ToolContext, project: str) -> ToolResult:
    """One project's manager, place, status, dates, budget and spend, homes, and the contractors working on it.

    Args:
        project: project code, name, city/area or province.
    """
    where, params = _match(project)
    with ReadOnlySession(ctx.settings, deadline=ctx.deadline) as db:
        rows = db.query(f"SELECT p.* FROM projects p{where} ORDER BY p.code", params).rows
        if not rows:
            raise _no_match(db, project)
        for row in rows[:3]:
            row["contractors"] = db.query(
                "SELECT c.name, c.status, string_agg(pc.role, ', ' ORDER BY pc.role) AS roles "
                "FROM project_contractors pc JOIN contractors c ON c.id = pc.contractor_id "
                "WHERE pc.project_id = %s GROUP BY c.name, c.status ORDER BY c.name",
                [row["id"]],
            ).rows
    first = rows[0]
    late = not first["actual_end"] and (first["forecast_end"] or first["planned_end"]) > first["planned_end"]
    checks = {"over budget": first["spend"] > first["budget"], "late": late, "behind schedule": late}
    checks.update({status.replace("_", " "): first["status"] == status for status in STATUSES})
    return ToolResult(_details_summary(rows), rows, checks=checks)


def _details_summary(rows: list[dict]) -> str:
    if len(rows) > 1:
        shown = [
            f"{r['name']} ({r['code']}, {r['status'].replace('_', ' ')}, managed by {r['project_manager']})"
            for r in rows
        ]
        return f"{len(rows)} projects match: {listing(shown)}."
    r = rows[0]
    end = (
        f"finished {r['actual_end']}"
        if r["actual_end"]
        else f"planned end {r['planned_end']}, forecast {r['forecast_end'] or 'not set'}"
    )
    started = "starts" if r["start_date"] > datetime.date.today().isoformat() else "started"
    contractors = [
        f"{c['name']} ({c['roles']}{'' if c['status'] == 'active' else ', ' + c['status'].upper()})"
        for c in r["contractors"]
    ]
    text = (
        f"{r['name']} ({r['code']}, {r['status'].replace('_', ' ')}) in {r['area']}, {r['city']}, {r['province']}: "
        f"managed by {r['project_manager']}; {started} {r['start_date']}, {end}; budget {rand(r['budget'])}, "
        f"spent {rand(r['spend'])}; {r['homes_passed']:,} of {r['homes_passed_target']:,} homes passed, "
        f"{r['homes_connected']:,} connected"
    )
    if contractors:
        text += f"; {plural(len(contractors), 'contractor')} on it: {listing(contractors)}"
    return text + "."
