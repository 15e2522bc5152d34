"""The demo data set: registry/demo/seed.yaml's named things turned into rows, deterministically.

`generate(as_of)` gives the same rows for the same day (fixed random seed); dates are laid out
around `as_of` so "last month" or "behind schedule" mean something whenever the demo runs.
Derived figures are kept consistent: a project's `homes_passed` is the sum over its sites and
its `homes_connected` is the count of its completed installations, so any SQL the agents run
agrees with any other.
"""

from __future__ import annotations

import os
import random
import re
from datetime import date, timedelta

from skills.config import PROJECT_ROOT

SEED = 20240601
SEED_FILE = os.path.join(PROJECT_ROOT, "registry", "demo", "seed.yaml")
SCHEMA_FILE = os.path.join(PROJECT_ROOT, "registry", "demo", "schema.sql")

# Load order respects foreign keys; each entry is (table, columns).
TABLES: list[tuple[str, tuple[str, ...]]] = [
    (
        "contractors",
        (
            "id",
            "name",
            "kind",
            "specialty",
            "status",
            "province",
            "city",
            "contact_person",
            "phone",
            "email",
            "crew_count",
            "rating",
            "bbbee_level",
            "onboarded_on",
        ),
    ),
    (
        "projects",
        (
            "id",
            "code",
            "name",
            "province",
            "city",
            "area",
            "status",
            "project_manager",
            "start_date",
            "planned_end",
            "forecast_end",
            "actual_end",
            "budget",
            "spend",
            "homes_passed_target",
            "homes_passed",
            "homes_connected",
        ),
    ),
    (
        "sites",
        (
            "id",
            "project_id",
            "code",
            "name",
            "site_type",
            "status",
            "planned_start",
            "planned_end",
            "actual_end",
            "homes_planned",
            "homes_passed",
            "delayed",
            "delay_days",
            "delay_reason",
        ),
    ),
    ("project_contractors", ("project_id", "contractor_id", "role", "contract_value", "start_date")),
    (
        "installations",
        ("id", "site_id", "contractor_id", "address", "install_type", "status", "scheduled_on", "installed_on"),
    ),
    ("materials", ("id", "sku", "name", "category", "unit", "unit_cost", "supplier_id", "reorder_level")),
    (
        "stock_movements",
        ("id", "material_id", "warehouse", "project_id", "movement_type", "quantity", "moved_on", "reference"),
    ),
    ("boq_items", ("id", "project_id", "item_code", "description", "category", "unit", "quantity", "rate")),
    (
        "rfqs",
        (
            "id",
            "rfq_number",
            "project_id",
            "supplier_id",
            "title",
            "status",
            "value",
            "issued_on",
            "closing_on",
            "awarded_on",
        ),
    ),
    (
        "purchase_orders",
        (
            "id",
            "po_number",
            "project_id",
            "supplier_id",
            "rfq_id",
            "status",
            "total",
            "ordered_on",
            "expected_on",
            "delivered_on",
        ),
    ),
]

SITE_TYPES = ["street cabinet", "pole route", "trench section", "trench section", "MDU"]
ROLE_FOR_SPECIALTY = {
    "turnkey build": "main contractor",
    "trenching": "trenching",
    "directional drilling": "trenching",
    "aerial": "aerial",
    "splicing": "splicing",
    "installation": "installation",
    "civils": "civils",
}


def load_seed(path: str = SEED_FILE) -> dict:
    import yaml

    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower().replace("(pty) ltd", ""))


def _money(value: float) -> float:
    return round(value, 2)


class _Builder:
    """Holds the random generator, the anchor day and the tables built so far."""

    def __init__(self, seed: dict, as_of: date, rng: random.Random):
        self.seed, self.as_of, self.rng = seed, as_of, rng
        self.rows: dict[str, list[tuple]] = {table: [] for table, _ in TABLES}

    def day(self, offset: int) -> date:
        return self.as_of + timedelta(days=offset)

    def person(self) -> str:
        return f"{self.rng.choice(self.seed['first_names'])} {self.rng.choice(self.seed['last_names'])}"

    # -- contractors -------------------------------------------------------------------------
    def contractors(self) -> None:
        rng = self.rng
        for number, (name, kind, specialty, status, province, city) in enumerate(self.seed["contractors"], 1):
            person = self.person()
            crews = (
                0
                if kind in ("vendor", "supplier")
                else rng.randint(5, 18)
                if kind == "contractor"
                else rng.randint(1, 8)
            )
            low, high = (3.4, 4.9) if status == "active" else (2.0, 3.6)
            bbbee = rng.choice([1, 1, 2, 2, 3, 4, 5, None])
            phone = (
                f"+27 {rng.choice([82, 83, 72, 73, 71, 84, 61, 60])} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
            )
            email = f"{person.split()[0].lower()}@{_slug(name)[:18]}.co.za"
            self.rows["contractors"].append(
                (
                    number,
                    name,
                    kind,
                    specialty,
                    status,
                    province,
                    city,
                    person,
                    phone,
                    email,
                    crews,
                    round(rng.uniform(low, high), 1),
                    bbbee,
                    self.day(-rng.randint(200, 2600)),
                )
            )

    # -- projects and sites ------------------------------------------------------------------
    def project_dates(self, status: str) -> tuple[date, date, date | None, date | None, float]:
        """(start, planned_end, forecast_end, actual_end, fraction of the build done)."""
        rng = self.rng
        if status == "planning":
            start = self.day(rng.randint(20, 100))
            return start, start + timedelta(days=rng.randint(330, 480)), None, None, 0.0
        if status == "completed":
            start = self.day(-rng.randint(620, 900))
            planned = start + timedelta(days=rng.randint(300, 420))
            actual = min(planned + timedelta(days=rng.randint(-25, 70)), self.day(-30))
            return start, planned, None, actual, 1.0
        start = self.day(-rng.randint(150, 460))
        planned = start + timedelta(days=rng.randint(360, 560))
        elapsed = (self.as_of - start).days / (planned - start).days
        if status == "on_hold":
            return start, planned, planned + timedelta(days=rng.randint(90, 200)), None, min(0.45, elapsed * 0.6)
        done = max(0.1, min(0.95, elapsed * rng.uniform(0.92, 1.1)))
        slip = rng.choice([0, 0, 0, rng.randint(15, 45), rng.randint(30, 120)])
        # a forecast is never in the past: the remaining work still has to be done
        remaining = self.day(round((1 - done) * (planned - start).days * 0.5))
        return start, planned, max(planned + timedelta(days=slip), remaining), None, done

    def projects(self) -> None:
        rng, seed = self.rng, self.seed
        site_id = 0
        per_province: dict[str, int] = {}
        for number, (name, province, city, area, status, target, budget) in enumerate(seed["projects"], 1):
            per_province[province] = per_province.get(province, 0) + 1
            code = f"FF-{seed['province_codes'][province]}-{per_province[province]:03d}"
            start, planned, forecast, actual, done = self.project_dates(status)
            spend_factor = {"planning": 0.03, "completed": rng.uniform(0.93, 1.12)}.get(
                status, done * rng.uniform(0.85, 1.35)
            )
            project = {
                "id": number,
                "code": code,
                "area": area,
                "status": status,
                "start": start,
                "planned": planned,
                "done": done,
                "take_up": rng.uniform(0.32, 0.62),
            }
            sites = self.sites(project, target, site_id)
            site_id += len(sites)
            homes_passed = sum(site["homes_passed"] for site in sites)
            connected = self.installations(project, sites)
            self.rows["projects"].append(
                (
                    number,
                    code,
                    name,
                    province,
                    city,
                    area,
                    status,
                    rng.choice(seed["project_managers"]),
                    start,
                    planned,
                    forecast,
                    actual,
                    _money(budget),
                    _money(budget * spend_factor),
                    target,
                    homes_passed,
                    connected,
                )
            )

    def sites(self, project: dict, target: int, first_id: int) -> list[dict]:
        rng = self.rng
        count = max(8, round(target / rng.uniform(140, 200)))
        span = (project["planned"] - project["start"]).days
        homes_left, sites = target, []
        for index in range(count):
            homes = homes_left if index == count - 1 else round(target / count * rng.uniform(0.8, 1.2))
            homes_left -= homes
            p_start = project["start"] + timedelta(days=round(index * span * 0.75 / count))
            p_end = p_start + timedelta(days=round(span * rng.uniform(0.18, 0.3)))
            site = {
                "id": first_id + index + 1,
                "code": f"{project['code']}-S{index + 1:02d}",
                "homes": homes,
                "planned_start": p_start,
                "planned_end": p_end,
            }
            self.site_progress(project, site, index / count)
            site_type = rng.choice(SITE_TYPES)
            self.rows["sites"].append(
                (
                    site["id"],
                    project["id"],
                    site["code"],
                    f"{project['area']} {site_type} {index + 1}",
                    site_type,
                    site["status"],
                    p_start,
                    p_end,
                    site["actual_end"],
                    homes,
                    site["homes_passed"],
                    site["delayed"],
                    site["delay_days"],
                    site["delay_reason"],
                )
            )
            sites.append(site)
        return sites

    def site_progress(self, project: dict, site: dict, position: float) -> None:
        """Status, homes passed and delay for one site, from the project's progress."""
        rng, late = self.rng, (self.as_of - site["planned_end"]).days
        site.update(status="planned", actual_end=None, homes_passed=0, delayed=False, delay_days=0, delay_reason=None)
        if project["status"] == "completed" or (project["status"] != "planning" and position + 0.08 < project["done"]):
            site["status"] = "completed"
            site["actual_end"] = min(site["planned_end"] + timedelta(days=rng.randint(-10, 30)), self.day(-1))
            site["delay_days"] = max(0, (site["actual_end"] - site["planned_end"]).days)
            site["homes_passed"] = site["homes"]
        elif project["status"] != "planning" and position < project["done"] + 0.1:
            site["status"] = "blocked" if project["status"] == "on_hold" or rng.random() < 0.08 else "in_progress"
            site["homes_passed"] = round(site["homes"] * rng.uniform(0.2, 0.85))
        unfinished = site["status"] in ("in_progress", "blocked", "planned") and project["status"] != "planning"
        if unfinished and (site["status"] == "blocked" or late > 0 or rng.random() < 0.1):
            site["delayed"] = True
            site["delay_days"] = late if late > 0 else rng.randint(7, 40)
            site["delay_reason"] = rng.choice(self.seed["delay_reasons"])

    def installations(self, project: dict, sites: list[dict]) -> int:
        """Installation records for each site's passed homes; returns how many completed."""
        rng, rows, completed = self.rng, self.rows["installations"], 0
        installers = [
            c[0] for c in self.rows["contractors"] if c[3] in ("installation", "turnkey build") and c[4] == "active"
        ]
        for site in sites:
            done = round(site["homes_passed"] * project["take_up"])
            crew = rng.choice(installers)
            start = site["planned_start"]
            window = max(1, min((self.as_of - start).days, 400))
            for number in range(done + (rng.randint(2, 12) if site["homes_passed"] else 0)):
                status = "completed" if number < done else rng.choice(["scheduled", "scheduled", "failed"])
                scheduled = (
                    start + timedelta(days=rng.randint(0, window))
                    if status != "scheduled"
                    else self.day(rng.randint(1, 30))
                )
                address = f"{rng.randint(1, 4999)} {rng.choice(self.seed['streets'])}, {project['area']}"
                kind = rng.choices(["residential", "business", "mdu"], [85, 10, 5])[0]
                rows.append(
                    (
                        len(rows) + 1,
                        site["id"],
                        crew,
                        address,
                        kind,
                        status,
                        scheduled,
                        scheduled if status == "completed" else None,
                    )
                )
                completed += status == "completed"
        return completed

    # -- who works where -----------------------------------------------------------------------
    def assignments(self) -> None:
        rng, contractors = self.rng, self.rows["contractors"]
        for project in self.rows["projects"]:
            pid, province, budget, start = project[0], project[3], project[12], project[8]
            chosen: dict[str, tuple] = {}
            for row in sorted(contractors, key=lambda c: (c[5] != province, c[4] != "active", c[0])):
                role = ROLE_FOR_SPECIALTY.get(row[3])
                if role and role not in chosen and row[4] == "active" and (row[5] == province or rng.random() < 0.25):
                    chosen[role] = row
            suppliers = [c for c in contractors if c[2] in ("supplier", "vendor") and c[4] == "active"]
            for role, row in chosen.items():
                share = 0.35 if role == "main contractor" else rng.uniform(0.05, 0.15)
                self.rows["project_contractors"].append((pid, row[0], role, _money(budget * share), start))
            for row in rng.sample(suppliers, 2):
                self.rows["project_contractors"].append(
                    (pid, row[0], "supply", _money(budget * rng.uniform(0.04, 0.1)), start)
                )

    # -- materials and stock -------------------------------------------------------------------
    def materials(self) -> None:
        ids = {c[1]: c[0] for c in self.rows["contractors"]}
        for number, (sku, name, category, unit, cost, supplier, reorder) in enumerate(self.seed["materials"], 1):
            self.rows["materials"].append((number, sku, name, category, unit, cost, ids[supplier], reorder))

    def stock_movements(self) -> None:
        rng, rows = self.rng, self.rows["stock_movements"]
        building = [p for p in self.rows["projects"] if p[6] in ("active", "completed", "on_hold")]
        for material in self.rows["materials"]:
            lot = material[7] * rng.uniform(0.6, 1.4)
            for month in range(12, 0, -1):
                warehouse = rng.choice(self.seed["warehouses"])
                moved = self.day(-month * 30 + rng.randint(0, 5))
                rows.append(
                    (
                        len(rows) + 1,
                        material[0],
                        warehouse,
                        None,
                        "receipt",
                        round(lot),
                        moved,
                        f"PO-{moved.year}-{rng.randint(10000, 99999)}",
                    )
                )
                for _ in range(rng.randint(1, 3)):
                    project = rng.choice(building)
                    rows.append(
                        (
                            len(rows) + 1,
                            material[0],
                            warehouse,
                            project[0],
                            "issue",
                            -round(lot * rng.uniform(0.1, 0.45)),
                            moved + timedelta(days=rng.randint(3, 25)),
                            f"{project[1]}-S{rng.randint(1, 8):02d}",
                        )
                    )
                if rng.random() < 0.12:
                    kind = rng.choice(["return", "adjustment"])
                    quantity = round(lot * rng.uniform(0.01, 0.05)) * (1 if kind == "return" else rng.choice([-1, 1]))
                    rows.append(
                        (
                            len(rows) + 1,
                            material[0],
                            warehouse,
                            None,
                            kind,
                            quantity,
                            moved + timedelta(days=rng.randint(5, 28)),
                            None,
                        )
                    )

    # -- commercial: BOQ, RFQs, purchase orders ------------------------------------------------------------
    def boq(self) -> None:
        rng, rows = self.rng, self.rows["boq_items"]
        for project in self.rows["projects"]:
            for code, description, category, unit, rate, per_home in self.seed["boq_rates"]:
                quantity = project[14] * per_home * rng.uniform(0.8, 1.2)
                quantity = max(1, round(quantity)) if unit in ("each", "day", "km") else round(quantity, 1)
                rows.append(
                    (
                        len(rows) + 1,
                        project[0],
                        code,
                        description,
                        category,
                        unit,
                        quantity,
                        _money(rate * rng.uniform(0.95, 1.08)),
                    )
                )

    def procurement(self) -> None:
        rng = self.rng
        suppliers = [c for c in self.rows["contractors"] if c[2] in ("supplier", "vendor")]
        rfq_count: dict[int, int] = {}
        po_count: dict[int, int] = {}
        for project in self.rows["projects"]:
            pid, start = project[0], project[8]
            for _ in range(rng.randint(3, 6)):
                supplier = rng.choice(suppliers)
                issued = start + timedelta(days=rng.randint(-60, 200))
                issued = min(issued, self.day(-rng.randint(1, 20)))
                closing = issued + timedelta(days=rng.randint(14, 30))
                status = "open" if closing >= self.as_of else rng.choice(["awarded", "awarded", "closed"])
                rfq_count[issued.year] = rfq_count.get(issued.year, 0) + 1
                rfq_id = len(self.rows["rfqs"]) + 1
                value = _money(project[12] * rng.uniform(0.01, 0.06))
                awarded = closing + timedelta(days=rng.randint(2, 14)) if status == "awarded" else None
                title = f"{supplier[3].capitalize()} for {project[2]}"
                self.rows["rfqs"].append(
                    (
                        rfq_id,
                        f"RFQ-{issued.year}-{rfq_count[issued.year]:04d}",
                        pid,
                        supplier[0],
                        title,
                        status,
                        value,
                        issued,
                        closing,
                        awarded,
                    )
                )
                if awarded:
                    self.purchase_order(po_count, pid, supplier[0], rfq_id, value * rng.uniform(0.9, 1.0), awarded)
            for _ in range(rng.randint(4, 8)):
                ordered = max(start, self.day(-400)) + timedelta(days=rng.randint(0, 400))
                self.purchase_order(
                    po_count,
                    pid,
                    rng.choice(suppliers)[0],
                    None,
                    project[12] * rng.uniform(0.002, 0.015),
                    min(ordered, self.day(-1)),
                )

    def purchase_order(
        self, counts: dict, project_id: int, supplier_id: int, rfq_id, total: float, ordered: date
    ) -> None:
        rng = self.rng
        counts[ordered.year] = counts.get(ordered.year, 0) + 1
        expected = ordered + timedelta(days=rng.randint(7, 45))
        if expected < self.as_of:
            status = rng.choice(["delivered", "invoiced", "invoiced", "cancelled"])
        else:
            status = rng.choice(["draft", "issued", "issued"])
        delivered = expected + timedelta(days=rng.randint(-5, 10)) if status in ("delivered", "invoiced") else None
        if delivered and delivered > self.as_of:
            delivered = self.as_of
        number = f"PO-{ordered.year}-{counts[ordered.year]:05d}"
        self.rows["purchase_orders"].append(
            (
                len(self.rows["purchase_orders"]) + 1,
                number,
                project_id,
                supplier_id,
                rfq_id,
                status,
                _money(total),
                ordered,
                expected,
                delivered,
            )
        )


def generate(as_of: date | None = None, seed: int = SEED) -> dict[str, list[tuple]]:
    """Every demo table's rows, in TABLES order, for the day `as_of` (default: today)."""
    builder = _Builder(load_seed(), as_of or date.today(), random.Random(seed))
    builder.contractors()
    builder.projects()
    builder.assignments()
    builder.materials()
    builder.stock_movements()
    builder.boq()
    builder.procurement()
    return builder.rows
