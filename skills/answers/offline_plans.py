"""Offline planners of the data agents: which tool answers a question, with which arguments.

Each agent's tools module exposes one of these as `plan_offline(ctx, query)`; skills/execution/execute.py
runs the plan on the offline path. A planner reads the question with the database's own names
(skills/answers/entities.py: contractors, projects, sites, materials, warehouses, managers), so "Durban
Ducting" is a company and not the city, and "Thuthuka" is Thuthuka Installations. A name the
question gives that the database does not know is passed on as it is: the tool refuses it with
NotFound, naming the closest known ones. An empty plan leaves the choice to the tool triggers in
the registry (and then, for what no tool does, to the model).
"""

from __future__ import annotations

import re

from skills.answers.entities import TRADE_WORDS, find_names, fold, load_vocabulary, words_of
from skills.answers.places import find_place
from skills.answers.reading import has_word, is_count, phrase_after
from skills.errors import ModelRequired

Plan = list[tuple[str, dict]]

_WHEN = re.compile(
    r"\b(?:(?:in|during|since|before|after|by|from|until|last|this|next|past)\s+(?:the\s+)?(?:last\s+|past\s+)?"
    r"(?:\d+\s+)?(?:january|february|march|april|may|june|july|august|september|october|november|december|"
    r"week|weeks|month|months|year|years|quarter|days|20\d\d))\b|\b(?:yesterday|today|tomorrow)\b",
    re.IGNORECASE,
)


def refuse_dates(agent_name: str, query: str) -> None:
    """The offline tools do not filter by date: a question that does ("in March", "this week") needs the model,
    rather than an answer for every date."""
    match = _WHEN.search(query)
    if match:
        raise ModelRequired(
            f"{agent_name} cannot filter by date offline ({match.group(0)!r}): set ANTHROPIC_API_KEY to let Claude "
            "answer it, or ask without the date for every record",
            field="query",
        )


# -- shared readers --------------------------------------------------------------------------------

_PROJECT_CODE = re.compile(r"\bFF-[A-Z]{2,3}-\d{3}\b(?!-S)", re.IGNORECASE)
_SITE_CODE = re.compile(r"\bFF-[A-Z]{2,3}-\d{3}-S\d{2,3}\b", re.IGNORECASE)
_NAMED_PROJECT = re.compile(
    r"\b(?:the\s+)?([A-Z][\w-]*(?:\s+[A-Z][\w-]*)*)\s+(?:project|rollout|roll-out|deployment|build)\b"
)
_NOT_A_PROJECT_NAME = {"the", "which", "what", "each", "every", "our", "this", "that", "a", "an", "all", "any"}


def project_named(query: str, vocabulary) -> str | None:
    """The project a question names: its code, its name (or a run of it), its place, or "the X project"."""
    code = _PROJECT_CODE.search(query)
    if code:
        return code.group(0).upper()
    named = find_names(query, [p["name"] for p in vocabulary.projects], places=vocabulary.places, min_level=2)
    if len(named) == 1:
        return named[0]
    place = find_place(query)
    if place:
        return place
    for area in sorted({p["area"] for p in vocabulary.projects}, key=len, reverse=True):
        if re.search(rf"\b{re.escape(area)}\b", query, re.IGNORECASE):
            return area
    match = _NAMED_PROJECT.search(query)
    if match and match.group(1).lower() not in _NOT_A_PROJECT_NAME:
        return match.group(1)
    return unknown_name_after(query, vocabulary, "in|for|at|on|of|about")


_CAPITALISED_AFTER = r"\b(?:{leads})\s+(?:the\s+)?([A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)*)"
_NOT_NAMES = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february",
              "march", "april", "may", "june", "july", "august", "september", "october", "november", "december",
              "today", "tomorrow", "yesterday", "week", "month", "year", "q1", "q2", "q3", "q4"}  # fmt: skip


_GENERIC_NOUNS = {fold(w) for w in TRADE_WORDS} | {
    "project", "site", "rfq", "po", "order", "team", "area", "region", "province", "city", "town", "warehouse",
    "status", "stock", "budget", "progress", "schedule", "update", "report", "list", "detail", "phone", "email",
}  # fmt: skip


def unknown_name_after(query: str, vocabulary, leads: str) -> str | None:
    """A capitalised name after a lead word that nothing in the database knows ("progress in Sandton").

    Passed on as the name asked for, so the tool says it is not found instead of answering for
    everything; a word any known name, place or status holds is not unknown.
    """
    known = set(vocabulary.places)
    for row in vocabulary.contractors + vocabulary.projects + vocabulary.materials + vocabulary.sites:
        known.update(fold(w) for w in words_of(row.get("name", "")))
    for name in vocabulary.warehouses + vocabulary.managers + vocabulary.specialties:
        known.update(fold(w) for w in words_of(name))
    for match in re.finditer(_CAPITALISED_AFTER.format(leads=leads), query):
        candidate = re.sub(r"'s?$", "", match.group(1))
        words = [fold(w) for w in words_of(candidate)]
        if candidate.isupper() or not words or set(words) <= (known | _NOT_NAMES | _GENERIC_NOUNS):
            continue  # an acronym or code (FTTH, KZN), a date word, or words of known names
        return candidate
    return None


def status_in(query: str, words: dict[str, str]) -> str | None:
    """The status a question asks about, by its words ("on hold" -> on_hold); longest phrase first."""
    lowered = " " + re.sub(r"[^a-z0-9]+", " ", query.lower()) + " "
    for phrase in sorted(words, key=len, reverse=True):
        if f" {phrase} " in lowered:
            return words[phrase]
    return None


def supplier_named(query: str, vocabulary) -> str | None:
    named = find_names(query, [c["name"] for c in vocabulary.contractors], places=vocabulary.places)
    return named[0] if len(named) == 1 else None


# -- project-agent ---------------------------------------------------------------------------------

PROJECT_STATUS_WORDS = {"active": "active", "ongoing": "active", "running": "active", "planning": "planning",
                        "planned": "planning", "upcoming": "planning", "completed": "completed", "finished": "completed",
                        "done": "completed", "on hold": "on_hold", "on-hold": "on_hold", "paused": "on_hold"}  # fmt: skip
SITE_STATUS_WORDS = {"blocked": "blocked", "stuck": "blocked", "planned": "planned", "not started": "planned",
                     "in progress": "in_progress", "underway": "in_progress", "under way": "in_progress",
                     "completed": "completed", "finished": "completed", "done": "completed"}  # fmt: skip
INSTALL_STATUS_WORDS = {"failed": "failed", "failing": "failed", "unsuccessful": "failed", "scheduled": "scheduled",
                        "pending": "scheduled", "booked": "scheduled", "outstanding": "scheduled",
                        "completed": "completed", "done": "completed", "successful": "completed"}  # fmt: skip


def plan_projects(ctx, query: str) -> Plan:
    refuse_dates("Project Management Agent", query)
    vocabulary = load_vocabulary(ctx)
    site = _SITE_CODE.search(query)
    if site:
        return [("sites", {"site": site.group(0).upper()})]
    project = project_named(query, vocabulary)
    scope = {"project": project} if project else {}
    companies = find_names(query, [c["name"] for c in vocabulary.contractors], places=vocabulary.places, min_level=2)
    if len(companies) == 1 and not project:  # "What is Thuthuka Installations working on?"
        return [("list_projects", {"contractor": companies[0]})]
    if has_word(query, "instal"):
        status = status_in(query, INSTALL_STATUS_WORDS)
        return [("installations", {**scope, **({"status": status} if status else {})})]
    if has_word(query, "site"):
        return [("sites", {**scope, **_site_filters(query, vocabulary)})]
    managers = find_names(query, vocabulary.managers, min_level=2)
    if managers and not project:
        return [("list_projects", {"manager": managers[0]})]
    if project and has_word(query, "manag", "pm", "who", "contractor", "compan", "working", "detail", "start"):
        return [("project_details", {"project": project})]
    if has_word(query, "budget", "spend", "spent", "cost", "overspen", "money"):
        return [("project_budget", scope)]
    if has_word(query, "finish", "due", "end", "deadline", "when", "late", "schedul", "behind", "delay"):
        return [("project_schedule", scope)]
    if is_count(query) and has_word(query, "project"):
        status = status_in(query, PROJECT_STATUS_WORDS)
        place = find_place(query)
        return [("list_projects", {**({"status": status} if status else {}), **({"province": place} if place else {})})]
    if project:  # a named project or place, nothing more specific asked: which projects, or how it stands
        if has_word(query, "list", "which") and not has_word(query, "progress", "status", "homes", "connect"):
            status = status_in(query, PROJECT_STATUS_WORDS)
            return [("list_projects", {"province": project, **({"status": status} if status else {})})]
        return [("project_progress", scope)]
    return []


def _site_filters(query: str, vocabulary) -> dict:
    found: dict = {}
    status = status_in(query, SITE_STATUS_WORDS)
    if status:
        found["status"] = status
    if has_word(query, "delay", "late", "behind", "overdue", "slipp"):
        found["delayed"] = True
    lowered = query.lower()
    reason = next((r for r in sorted(vocabulary.delay_reasons, key=len, reverse=True) if r.lower() in lowered), None)
    if reason:
        found["reason"], found["delayed"] = reason, True
    return found


# -- contractor-agent ------------------------------------------------------------------------------

_DETAIL_WORDS = ("phone", "email", "e-mail", "contact", "rating", "rated", "crew", "onboard", "bbbee", "b-bbee",
                 "detail", "number", "address", "cell", "mobile", "call")  # fmt: skip


def specialty_named(query: str, specialties: list[str]) -> str | None:
    """The specialty a question names ("installers" -> installation, "poles" -> poles), most words first."""
    said = {fold(w)[:5] for w in re.findall(r"[A-Za-z0-9]+", query)}
    best, best_size = None, 0
    for specialty in specialties:
        stems = [fold(w)[:5] for w in re.findall(r"[a-z0-9]+", specialty.lower()) if w != "and"]
        if stems and all(stem in said for stem in stems) and len(stems) > best_size:
            best, best_size = specialty, len(stems)
    return best


def plan_contractors(ctx, query: str, read_filters, read_limit) -> Plan:
    """A named company -> its details; a field asked of an unknown name -> details (NotFound); else count or list.

    `read_filters` and `read_limit` are the agent's own word readers (status, kind, region; "top 5").
    """
    vocabulary = load_vocabulary(ctx)
    named = find_names(query, [c["name"] for c in vocabulary.contractors], places=vocabulary.places)
    if len(named) == 1:
        return [("contractor_details", {"name": named[0]})]
    if has_word(query, *_DETAIL_WORDS):
        phrase = phrase_after(query, "for|of|at|with|about|from")
        if phrase and phrase.lower() != (find_place(phrase) or "").lower():
            return [("contractor_details", {"name": phrase})]
    filters = read_filters(query)
    if "region" not in filters:  # "contractors in Sandton": say there are none there, never list everyone
        place = unknown_name_after(query, vocabulary, "in|near|around|from|based in")
        if place:
            filters["region"] = place
    project = project_named(query, vocabulary) if has_word(query, "project", "rollout", "build") else None
    if project:  # "contractors on the Soweto project": the project, not the place they are based in
        filters.pop("region", None)
        filters["project"] = project
    specialty = specialty_named(query, vocabulary.specialties)
    if specialty:
        filters["specialty"] = specialty
    if is_count(query):
        return [("count_contractors", filters)]
    return [("list_contractors", {**filters, **read_limit(query)})]


# -- neon-database ---------------------------------------------------------------------------------

RFQ_STATUS_WORDS = {"open": "open", "outstanding": "open", "pending": "open", "awarded": "awarded", "won": "awarded",
                    "closed": "closed", "lost": "closed"}  # fmt: skip
PO_STATUS_WORDS = {"draft": "draft", "drafts": "draft", "issued": "issued", "sent": "issued", "delivered": "delivered",
                   "received": "delivered", "invoiced": "invoiced", "billed": "invoiced", "cancelled": "cancelled",
                   "canceled": "cancelled"}  # fmt: skip
_SKU = re.compile(r"\b[A-Z]{3}-[A-Z0-9]+-[A-Z0-9]+\b")
_PO_WORDS = re.compile(r"\b(?:purchase\s+orders?|POs?|P\.O\.s?)\b")
_MATERIAL_PHRASE = [
    re.compile(r"\b(?:stock|supply|inventory|quantity|units|amount|supplier|cost|price)\s+of\s+(?:the\s+|our\s+)?(.+?)"
               r"(?:\s+(?:do|does|have|we|are|is|in|at|left|on|remaining|there)\b|[?!]|\.(?:\s|$)|$)", re.IGNORECASE),
    re.compile(r"\bhow\s+(?:much|many)\s+(.+?)\s+(?:do|does|have|are|is)\b", re.IGNORECASE),
]  # fmt: skip
_CATALOGUE = re.compile(r"\b(tables?|columns?|schemas?|describe|rows|sql|select|database\s+size)\b", re.IGNORECASE)


def _material(query: str, vocabulary) -> tuple[str | None, bool]:
    """(material, known): a SKU or a material the database names, else the phrase the question uses."""
    sku = _SKU.search(query)
    if sku:
        return sku.group(0), True
    named = find_names(query, [m["name"] for m in vocabulary.materials], places=vocabulary.places)
    if named:
        return (named[0] if len(named) == 1 else " ".join(_common_words(named))), True
    for pattern in _MATERIAL_PHRASE:
        match = pattern.search(query)
        if match and not re.fullmatch(r"(?:stock|material|materials|it|them|of it)", match.group(1), re.IGNORECASE):
            return match.group(1).strip(), False
    return None, False


def _common_words(names: list[str]) -> list[str]:
    shared = set(names[0].lower().split())
    for name in names[1:]:
        shared &= set(name.lower().split())
    return [w for w in names[0].lower().split() if w in shared] or [names[0]]


def _warehouse(query: str, vocabulary) -> str | None:
    named = find_names(query, vocabulary.warehouses, places=vocabulary.places, min_level=2)
    if named:
        return named[0]
    if has_word(query, "warehouse", "depot", "store", "dc", "yard"):
        place = find_place(query)
        return next((w for w in vocabulary.warehouses if place and w.lower().startswith(place.lower())), None)
    return None


def plan_neon(ctx, query: str) -> Plan:
    """RFQs, purchase orders, stock, materials and BOQ by their words; the catalogue and SQL by the triggers."""
    if _CATALOGUE.search(query) or "`" in query:
        return []
    refuse_dates("Neon PostgreSQL Agent", query)
    vocabulary = load_vocabulary(ctx)
    project = project_named(query, vocabulary)
    scope = {"project": project} if project else {}
    supplier = supplier_named(query, vocabulary) or unknown_name_after(query, vocabulary, "from|with|to|by")
    if supplier and supplier == project:
        project, scope = None, {}
    if has_word(query, "rfq", "quotation", "quote"):
        status = status_in(query, RFQ_STATUS_WORDS)
        return [
            (
                "rfqs",
                {**scope, **({"status": status} if status else {}), **({"supplier": supplier} if supplier else {})},
            )
        ]
    if _PO_WORDS.search(query) or has_word(query, "purchase", "order"):
        status = status_in(query, PO_STATUS_WORDS)
        return [
            (
                "purchase_orders",
                {**scope, **({"status": status} if status else {}), **({"supplier": supplier} if supplier else {})},
            )
        ]
    if has_word(query, "boq") or re.search(r"\bbills?\s+of\s+quantit", query, re.IGNORECASE):
        return [("boq_totals", scope)]
    material, known = _material(query, vocabulary)
    warehouse = _warehouse(query, vocabulary)
    stock_words = has_word(query, "stock", "hand", "inventor", "reorder", "left", "warehouse", "have", "low", "short")
    if (
        material
        and known
        and has_word(query, "suppl", "cost", "price", "sku", "categor", "unit", "who")
        and not has_word(query, "stock", "reorder")
    ):
        return [("material_details", {"material": material})]
    if supplier and not material and has_word(query, "material", "suppl", "sell", "product", "item"):
        return [("material_details", {"supplier": supplier})]
    if material or warehouse or stock_words and has_word(query, "stock", "reorder", "inventor"):
        arguments: dict = {}
        if material:
            arguments["material"] = material
        if warehouse:
            arguments["warehouse"] = warehouse
        if not material and has_word(query, "reorder", "low", "short", "below", "running"):
            arguments["below_reorder"] = True
        return [("stock_levels", arguments)]
    return []
