"""neon-database's everyday tools: RFQs, purchase orders, stock on hand, materials and BOQ totals.

Parameterised, read-only queries over FibreFlow's schema (registry/demo/schema.sql); the agent's
tools module (agents/neon-database/tools.py) imports them, so they are its tools like any other.
Every name a caller gives (project, supplier, material, warehouse) is resolved against the database
first; one that matches nothing is NotFound naming the closest known ones, never an empty or
neighbouring answer. Money is rand; totals are exact ("R 8,727,217.52").
"""

from __future__ import annotations

from typing import Literal

from skills.answers.entities import closest, resolve
from skills.answers.reading import listing, plural
from skills.backends.database import ReadOnlySession
from skills.errors import BadInput, NotFound
from skills.execution.tools import ToolContext, ToolResult, tool

PROJECT_MATCH = "(p.code ILIKE %s OR p.name ILIKE %s OR p.area ILIKE %s OR p.city ILIKE %s OR p.province ILIKE %s)"


def money(amount) -> str:
    return f"R {float(amount or 0):,.2f}"


def quantity(amount) -> str:
    amount = float(amount or 0)
    return f"{amount:,.0f}" if amount == int(amount) else f"{amount:,.2f}"


def _like(value: str) -> str:
    return "%" + value.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# -- resolving the names a caller gives ------------------------------------------------------------


def _projects(db, project: str) -> list[dict]:
    rows = db.query(f"SELECT p.id, p.code, p.name FROM projects p WHERE {PROJECT_MATCH}", [_like(project)] * 5).rows
    if not rows:
        known = db.query("SELECT code, name, area FROM projects ORDER BY code").rows
        near = closest(project, [r["name"] for r in known] + [r["area"] for r in known])
        names = list(dict.fromkeys(next((r["name"] for r in known if n == r["area"]), n) for n in near))
        raise NotFound("project", project, names, field="project")
    return rows


def _names_of(db, table: str, column: str) -> list[str]:
    return [r["n"] for r in db.query(f"SELECT DISTINCT {column} AS n FROM {table} ORDER BY 1", cap=10_000).rows]


def _supplier(db, supplier: str) -> list[str]:
    return resolve("supplier", supplier, _names_of(db, "contractors", "name"), field="supplier")


def _materials(db, material: str) -> list[dict]:
    rows = db.query("SELECT id, sku, name, category, unit, unit_cost, reorder_level FROM materials ORDER BY sku").rows
    by_sku = [r for r in rows if r["sku"].lower() == material.strip().lower()]
    if by_sku:
        return by_sku
    names = resolve("material", material, [r["name"] for r in rows], field="material")
    return [r for r in rows if r["name"] in names]


def _warehouse(db, warehouse: str) -> str:
    names = resolve("warehouse", warehouse, _names_of(db, "stock_movements", "warehouse"), field="warehouse")
    return names[0]


def _scope_words(project_rows: list[dict] | None, suppliers: list[str] | None) -> str:
    text = ""
    if project_rows:
        text += " for " + listing([f"{p['name']} ({p['code']})" for p in project_rows], shown=3)
    if suppliers:
        text += " with " + listing(suppliers, shown=3)
    return text


def _filters(
    db, project: str | None, supplier: str | None, status: str | None, alias: str
) -> tuple[str, list, list, list]:
    """(WHERE text, its params, the projects and suppliers the words named) for an RFQ or PO query
    whose table is `alias`, joined to contractors as c."""
    clauses, params, project_rows, suppliers = [], [], [], []
    if project:
        project_rows = _projects(db, project)
        clauses.append(f"{alias}.project_id = ANY(%s)")
        params.append([p["id"] for p in project_rows])
    if supplier:
        suppliers = _supplier(db, supplier)
        clauses.append("c.name = ANY(%s)")
        params.append(suppliers)
    if status:
        clauses.append(f"{alias}.status = %s")
        params.append(status)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    return where, params, project_rows, suppliers


# -- RFQs and purchase orders ----------------------------------------------------------------------


@tool
def rfqs(
    ctx: ToolContext,
    status: Literal["open", "awarded", "closed"] | None = None,
    project: str | None = None,
    supplier: str | None = None,
) -> ToolResult:
    """RFQs by status, project and supplier: count, total value and the RFQs.

    Args:
        status: open, awarded or closed.
        project: project code, name or place.
        supplier: supplier name or part of it.
    """
    with ReadOnlySession(ctx.settings, deadline=ctx.deadline) as db:
        where, params, project_rows, suppliers = _filters(db, project, supplier, status, "r")
        rows = db.query(
            "SELECT r.rfq_number, r.title, r.status, r.value, r.issued_on, r.closing_on, r.awarded_on, "
            "p.name AS project, c.name AS supplier FROM rfqs r JOIN projects p ON p.id = r.project_id "
            f"JOIN contractors c ON c.id = r.supplier_id{where} ORDER BY r.issued_on DESC, r.rfq_number",
            params,
            cap=1000,
        ).rows
    total = sum(float(r["value"]) for r in rows)
    head = f"{plural(len(rows), (status + ' ' if status else '') + 'RFQ')}{_scope_words(project_rows, suppliers)}"
    if not rows:
        return ToolResult(
            f"No RFQs: there are 0 {status or ''} RFQs{_scope_words(project_rows, suppliers)}.",
            rows,
            checks={"any": False},
        )
    shown = [f"{r['rfq_number']} {r['title']} ({r['supplier']}, {money(r['value'])}, {r['status']})" for r in rows]
    return ToolResult(
        f"{head}, worth {money(total)} in total: {listing(shown)}.",
        {"total_value": total, "rfqs": rows},
        checks={"any": True},
    )


@tool
def purchase_orders(
    ctx: ToolContext,
    status: Literal["draft", "issued", "delivered", "invoiced", "cancelled"] | None = None,
    project: str | None = None,
    supplier: str | None = None,
) -> ToolResult:
    """Purchase orders by status, project and supplier: count, total value (cancelled apart) and the POs.

    Args:
        status: draft, issued, delivered, invoiced or cancelled.
        project: project code, name or place.
        supplier: supplier name or part of it.
    """
    with ReadOnlySession(ctx.settings, deadline=ctx.deadline) as db:
        where, params, project_rows, suppliers = _filters(db, project, supplier, status, "po")
        rows = db.query(
            "SELECT po.po_number, po.status, po.total, po.ordered_on, po.expected_on, po.delivered_on, "
            "p.name AS project, c.name AS supplier FROM purchase_orders po JOIN projects p ON p.id = po.project_id "
            f"JOIN contractors c ON c.id = po.supplier_id{where} ORDER BY po.ordered_on DESC, po.po_number",
            params,
            cap=1000,
        ).rows
    scope = _scope_words(project_rows, suppliers)
    if not rows:
        return ToolResult(f"No purchase orders: there are 0 {status or ''} POs{scope}.", rows, checks={"any": False})
    cancelled = [r for r in rows if r["status"] == "cancelled"]
    counted = rows if status == "cancelled" else [r for r in rows if r["status"] != "cancelled"]
    total = sum(float(r["total"]) for r in counted)
    head = f"{plural(len(rows), (status + ' ' if status else '') + 'purchase order')}{scope}, worth {money(total)}"
    if cancelled and status != "cancelled":
        head += f" (not counting {len(cancelled)} cancelled, {money(sum(float(r['total']) for r in cancelled))})"
    shown = [f"{r['po_number']} ({r['supplier']}, {money(r['total'])}, {r['status']})" for r in rows]
    return ToolResult(
        f"{head}: {listing(shown)}.", {"total_value": total, "purchase_orders": rows}, checks={"any": True}
    )


# -- stock, materials and BOQ ----------------------------------------------------------------------


@tool
def stock_levels(
    ctx: ToolContext, material: str | None = None, warehouse: str | None = None, below_reorder: bool = False
) -> ToolResult:
    """Stock on hand per material and warehouse, against each material's reorder level.

    Args:
        material: SKU or name (or part of it), e.g. CBL-012-DROP, drop cable.
        warehouse: e.g. Durban DC, Polokwane Yard.
        below_reorder: only materials under their reorder level (at the warehouse, if given).
    """
    with ReadOnlySession(ctx.settings, deadline=ctx.deadline) as db:
        materials = _materials(db, material) if material else None
        place = _warehouse(db, warehouse) if warehouse else None
        rows = db.query(
            "SELECT m.sku, m.name, m.unit, m.reorder_level, s.warehouse, coalesce(sum(s.quantity), 0) AS on_hand "
            "FROM materials m LEFT JOIN stock_movements s ON s.material_id = m.id "
            "WHERE (%s::int[] IS NULL OR m.id = ANY(%s::int[])) AND (%s::text IS NULL OR s.warehouse = %s) "
            "GROUP BY m.sku, m.name, m.unit, m.reorder_level, s.warehouse ORDER BY m.sku, s.warehouse",
            [*[[m["id"] for m in materials] if materials else None] * 2, place, place],
            cap=10_000,
        ).rows
    return _stock_result(rows, materials, place, below_reorder)


def _per_material(rows: list[dict]) -> list[dict]:
    found: dict[str, dict] = {}
    for row in rows:
        entry = found.setdefault(
            row["sku"], {k: row[k] for k in ("sku", "name", "unit", "reorder_level")} | {"on_hand": 0, "warehouses": {}}
        )
        if row["warehouse"]:
            entry["warehouses"][row["warehouse"]] = row["on_hand"]
            entry["on_hand"] += row["on_hand"]
    for entry in found.values():
        entry["below_reorder"] = entry["on_hand"] < entry["reorder_level"]
    return list(found.values())


def _stock_result(rows, materials, place, below_reorder) -> ToolResult:
    stock = _per_material(rows)
    where = f" at {place}" if place else ""
    if below_reorder:
        low = [m for m in stock if m["below_reorder"]]
        if not low:
            text = f"No: no material is below its reorder level{where or ' in total stock'}."
            if not place:
                short = sorted({w for m in stock for w, q in m["warehouses"].items() if q < m["reorder_level"]})
                text += f" Single warehouses under a material's reorder level: {listing(short) or 'none'}."
            return ToolResult(text, stock, checks={"any": False, "below reorder level": False})
        shown = [f"{m['name']} ({quantity(m['on_hand'])} of {quantity(m['reorder_level'])} {m['unit']})" for m in low]
        return ToolResult(
            f"{plural(len(low), 'material')} below reorder level{where}: {listing(shown)}.",
            low,
            checks={"any": True, "below reorder level": True},
        )
    if materials:
        parts = []
        for m in stock:
            spread = ", ".join(f"{w} {quantity(q)}" for w, q in m["warehouses"].items())
            state = "below its reorder level" if m["below_reorder"] else "above its reorder level"
            parts.append(
                f"{m['name']} ({m['sku']}): {quantity(m['on_hand'])} {m['unit']} on hand{where} "
                f"(reorder level {quantity(m['reorder_level'])}, {state})"
                + (f": {spread}" if spread and not place else "")
            )
        checks = {
            "below reorder level": any(m["below_reorder"] for m in stock),
            "in stock": any(m["on_hand"] > 0 for m in stock),
        }
        return ToolResult("; ".join(parts) + ".", stock, checks=checks)
    held = [m for m in stock if m["on_hand"] > 0]
    shown = [f"{m['name']} {quantity(m['on_hand'])} {m['unit']}" for m in held]
    return ToolResult(f"{plural(len(held), 'material')} in stock{where}: {listing(shown)}.", stock)


@tool
def material_details(ctx: ToolContext, material: str | None = None, supplier: str | None = None) -> ToolResult:
    """SKU, category, unit cost, supplier, reorder level and stock of a material, or of a supplier's materials.

    Args:
        material: SKU or name (or part of it), e.g. ONT-GPON-1, dome closure.
        supplier: supplier name or part of it.
    """
    if not material and not supplier:
        raise BadInput("give a material or a supplier", field="material")
    with ReadOnlySession(ctx.settings, deadline=ctx.deadline) as db:
        if material:
            ids = [m["id"] for m in _materials(db, material)]
        else:
            names = _supplier(db, supplier)
            ids = [r["id"] for r in db.query(
                "SELECT m.id FROM materials m JOIN contractors c ON c.id = m.supplier_id WHERE c.name = ANY(%s)", [names]
            ).rows]  # fmt: skip
            if not ids:
                return ToolResult(
                    f"{listing(names)} supplies none of the materials on record.", [], checks={"any": False}
                )
        rows = db.query(
            "SELECT m.sku, m.name, m.category, m.unit, m.unit_cost, m.reorder_level, c.name AS supplier, "
            "c.status AS supplier_status, c.phone AS supplier_phone, "
            "(SELECT coalesce(sum(quantity), 0) FROM stock_movements s WHERE s.material_id = m.id) AS on_hand "
            "FROM materials m LEFT JOIN contractors c ON c.id = m.supplier_id WHERE m.id = ANY(%s) ORDER BY m.sku",
            [ids],
        ).rows
    parts = [
        f"{r['name']} ({r['sku']}, {r['category']}): supplied by {r['supplier']}"
        + (f" ({r['supplier_status'].upper()})" if r["supplier_status"] != "active" else "")
        + f", {money(r['unit_cost'])} per {r['unit']}, reorder level {quantity(r['reorder_level'])}, "
        f"{quantity(r['on_hand'])} on hand"
        for r in rows
    ]
    head = (
        f"{plural(len(rows), 'material')} from {listing(sorted({r['supplier'] for r in rows}))}: " if supplier else ""
    )
    return ToolResult(head + "; ".join(parts) + ".", rows, checks={"any": bool(rows)})


@tool
def boq_totals(ctx: ToolContext, project: str | None = None) -> ToolResult:
    """Bill of quantities (BOQ) totals: per project, or one project's total by category.

    Args:
        project: project code, name or place; omit for every project.
    """
    with ReadOnlySession(ctx.settings, deadline=ctx.deadline) as db:
        ids = [p["id"] for p in _projects(db, project)] if project else None
        rows = db.query(
            "SELECT p.code, p.name, b.category, count(*) AS items, sum(b.amount) AS amount "
            "FROM boq_items b JOIN projects p ON p.id = b.project_id "
            "WHERE (%s::int[] IS NULL OR p.id = ANY(%s::int[])) GROUP BY p.code, p.name, b.category ORDER BY p.code",
            [ids, ids],
            cap=10_000,
        ).rows
    per_project: dict[str, dict] = {}
    for row in rows:
        entry = per_project.setdefault(
            row["code"], {"code": row["code"], "name": row["name"], "amount": 0.0, "items": 0, "categories": {}}
        )
        entry["amount"] += float(row["amount"])
        entry["items"] += row["items"]
        entry["categories"][row["category"]] = float(row["amount"])
    projects = list(per_project.values())
    total = sum(p["amount"] for p in projects)
    if not projects:
        return ToolResult(
            "No BOQ items: 0 projects have a bill of quantities" + (f" matching {project!r}." if project else "."), []
        )
    if len(projects) == 1:
        p = projects[0]
        split = ", ".join(f"{c} {money(a)}" for c, a in sorted(p["categories"].items(), key=lambda i: -i[1]))
        return ToolResult(
            f"{p['name']} ({p['code']}) BOQ total {money(p['amount'])} over {p['items']} items: {split}.", projects
        )
    shown = [f"{p['code']} {p['name']} {money(p['amount'])}" for p in projects]
    return ToolResult(f"BOQ total {money(total)} over {len(projects)} projects: {listing(shown)}.", projects)
