"""The names FibreFlow's database knows, and finding them in a person's words.

The data agents' offline planners read a question with this: which contractor, project, site,
material, warehouse or manager it names, whole or in part ("Thuthuka" for "Thuthuka Installations",
"GPON ONTs" for "GPON ONT with Wi-Fi"). Tools resolve a name to rows with `resolve` and refuse a name
that matches nothing with NotFound, naming the closest known ones: an answer is never about
another thing than the one named.

How a name is found in a question, strongest first:
1. the whole name (case and punctuation aside, plurals folded);
2. two or more of its words in a row, capitalised as in the name ("Durban Ducting"), or for
   lower-case names (materials) any run of two words that holds a distinctive word;
3. one distinctive word: in no other name of its kind, not a place, not a trade word ("Thuthuka").
"""

from __future__ import annotations

import difflib
import re
import time
from dataclasses import dataclass, field

from skills.errors import NotFound

CACHE_TTL_S = 60.0
# Words in company, project and material names that say what, not who.
TRADE_WORDS = {
    "the", "and", "of", "pty", "ltd", "company", "services", "service", "networks", "network", "crew", "crews",
    "connect", "fibre", "fiber", "supplies", "supply", "solutions", "builders", "works", "contractors", "contractor",
    "installers", "installer", "installations", "installation", "trenching", "civils", "civil", "distributors",
    "traders", "equipment", "hire", "plant", "fleet", "vendors", "vendor", "cable", "cables", "splicing",
    "splicers", "splice", "aerial", "construction", "community", "reinstatement", "directional", "drilling", "test",
    "tools", "poles", "pole", "closures", "closure", "ftth", "phase", "rollout", "upgrade", "project", "city",
    "north", "south", "east", "west", "central", "cbd", "areas", "homes", "business", "park", "township", "with",
    "core", "drop", "duct", "connector", "connectors", "each", "hardware", "materials", "layers",
    "street", "cabinet", "route", "section", "mdu", "yard", "dc", "africa", "south africa", "kzn", "bay", "safe",
}  # fmt: skip


def _trade(word: str) -> bool:
    return word in _TRADE_FOLDED


def fold(word: str) -> str:
    """A word without case or a plural 's': "ONTs" -> "ont", "connectors" -> "connector"."""
    word = word.lower()
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


_TRADE_FOLDED = {fold(w) for w in TRADE_WORDS} | TRADE_WORDS  # compared with folded words


def words_of(text: str) -> list[str]:
    """Words as written (case kept), with codes like 12-core, SC/APC and CBL-024-ADSS kept whole."""
    return re.findall(r"[A-Za-z0-9]+(?:[-/][A-Za-z0-9]+)*", text.replace("(Pty) Ltd", ""))


@dataclass
class Vocabulary:
    """Everything nameable in the database, read in one read-only session."""

    contractors: list[dict] = field(default_factory=list)  # name, kind, specialty, status, province, city
    projects: list[dict] = field(default_factory=list)  # code, name, area, city, province, project_manager
    sites: list[dict] = field(default_factory=list)  # code, name
    materials: list[dict] = field(default_factory=list)  # sku, name, category
    warehouses: list[str] = field(default_factory=list)
    managers: list[str] = field(default_factory=list)
    specialties: list[str] = field(default_factory=list)
    delay_reasons: list[str] = field(default_factory=list)
    places: set[str] = field(default_factory=set)  # folded words of provinces, cities and areas


_cache: dict[str, tuple[float, Vocabulary]] = {}


def load_vocabulary(ctx) -> Vocabulary:
    """The database's names, cached a minute per database (warm workers ask many questions)."""
    from skills.backends.database import ReadOnlySession

    url = ctx.settings.effective_database_url() or ""
    cached = _cache.get(url)
    if cached and time.monotonic() - cached[0] < CACHE_TTL_S:
        return cached[1]
    with ReadOnlySession(ctx.settings, deadline=ctx.deadline) as db:
        q = db.query
        vocabulary = Vocabulary(
            contractors=q("SELECT name, kind, specialty, status, province, city FROM contractors ORDER BY name").rows,
            projects=q("SELECT code, name, area, city, province, project_manager FROM projects ORDER BY code").rows,
            sites=q("SELECT code, name FROM sites ORDER BY code", cap=100_000).rows,
            materials=q("SELECT sku, name, category FROM materials ORDER BY sku").rows,
            warehouses=[r["warehouse"] for r in q("SELECT DISTINCT warehouse FROM stock_movements ORDER BY 1").rows],
            managers=[r["m"] for r in q("SELECT DISTINCT project_manager AS m FROM projects ORDER BY 1").rows],
            specialties=[r["s"] for r in q("SELECT DISTINCT specialty AS s FROM contractors ORDER BY 1").rows],
            delay_reasons=[
                r["r"] for r in q("SELECT DISTINCT delay_reason AS r FROM sites WHERE delay_reason IS NOT NULL").rows
            ],
        )
    places = set()
    for row in vocabulary.contractors + vocabulary.projects:
        for key in ("province", "city", "area"):
            places.update(fold(w) for w in words_of(row.get(key) or ""))
    vocabulary.places = places
    _cache[url] = (time.monotonic(), vocabulary)
    return vocabulary


# -- finding names in a question -------------------------------------------------------------------


def _folded(text: str) -> list[str]:
    return [fold(w) for w in words_of(text)]


def _contains_run(haystack: list[str], run: list[str]) -> bool:
    size = len(run)
    return any(haystack[i : i + size] == run for i in range(len(haystack) - size + 1))


def find_names(
    text: str, names: list[str], *, places: set[str] | frozenset = frozenset(), min_level: int = 1
) -> list[str]:
    """The names (of one kind) the text mentions, at the strongest level any of them reaches (1-3, see above)."""
    said, said_folded = words_of(text), _folded(text)
    counts: dict[str, int] = {}
    for name in names:
        for word in set(_folded(name)):
            counts[word] = counts.get(word, 0) + 1
    levels: dict[int, list[str]] = {}
    for name in names:
        level = _mention_level(name, said, said_folded, counts, places)
        if level >= min_level:
            levels.setdefault(level, []).append(name)
    return levels[max(levels)] if levels else []


def _mention_level(name: str, said: list[str], said_folded: list[str], counts: dict, places) -> int:
    own, own_folded = words_of(name), _folded(name)
    if not own_folded:
        return 0
    if _contains_run(said_folded, own_folded):
        return 3
    distinctive = {w for w in own_folded if counts[w] == 1 and not _trade(w) and w not in places and len(w) > 3}
    for size in range(len(own), 1, -1):
        for start in range(len(own) - size + 1):
            run = own_folded[start : start + size]
            sentence_case = name[1:] == name[1:].lower()  # materials: "Street cabinet with splitters"
            lower_run = all(w == w.lower() for w in own[start : start + size])  # "drop cable" in any material
            if not (
                sentence_case
                or lower_run
                or set(run) & distinctive
                or any(w[0].isupper() for w in own[start : start + size])
            ):
                continue  # "aerial crews" are trade words, not the name Lowveld Aerial Crews
            for at in range(len(said_folded) - size + 1):
                if said_folded[at : at + size] == run and _written_as_name(
                    own[start : start + size], said[at : at + size]
                ):
                    return 2
    return 1 if distinctive & set(said_folded) else 0


def _written_as_name(own: list[str], said: list[str]) -> bool:
    """The person wrote the run as the name is written: capitals where the name has them ("Durban Ducting",
    "GPON ONTs"); lower-case names (materials) match in any case."""
    if own[0][1:] == own[0][1:].lower() and all(w == w.lower() for w in own[1:]):
        return True  # a sentence-case or lower-case name: any case will do
    return all(not o[0].isupper() or s[0].isupper() for o, s in zip(own, said, strict=True))


def closest(name: str, names: list[str], limit: int = 5) -> list[str]:
    """Known names most like `name` (by spelling, then by shared words), at most `limit`."""
    by_lower = {n.lower(): n for n in names}
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=limit, cutoff=0.45)
    found = [by_lower[c] for c in close]
    wanted = set(_folded(name)) - _TRADE_FOLDED
    for other in names:
        if other not in found and wanted & set(_folded(other)):
            found.append(other)
    if not found:  # nothing alike: a few real names, so the reader sees what exists
        found = names[:limit]
    return found[:limit]


def resolve(kind: str, name: str, names: list[str], *, field: str, places=frozenset()) -> list[str]:
    """The known names `name` refers to: equal, containing it, or mentioned in it; else NotFound."""
    wanted = " ".join(_folded(name))
    if not wanted:
        raise NotFound(kind, name, closest(name, names), field=field)
    equal = [n for n in names if " ".join(_folded(n)) == wanted]
    if equal:
        return equal
    containing = [n for n in names if _contains_run(_folded(n), wanted.split())]
    if containing:
        return containing
    every_word = [n for n in names if set(wanted.split()) <= set(_folded(n))]  # "9m poles": 9m treated timber pole
    if every_word:
        return every_word
    mentioned = find_names(name, names, places=places, min_level=2)  # a run of its words, not one shared word
    if mentioned:
        return mentioned
    raise NotFound(kind, name, closest(name, names), field=field)
