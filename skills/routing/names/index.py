"""Building the entity tables of the routing index (skills/routing/names/evidence.py matches them).

Run once per registry version, when the index is built: the weights below decide how much a
name, a word of a name, a place or a reference counts (entities.py's docstring says why).
"""

from __future__ import annotations

from skills.routing.names.evidence import name_words, record_shape
from skills.text import stem, terms

# Weights of entity evidence; decision.py counts an agent's sum through trigger_strength (1.6 -> 0.66,
# 0.5 -> 0.28), beside beta x its trigger strength, so a whole name outweighs another agent's trigger
# phrase and a single word of a name does not.
FULL_WEIGHT = 1.6  # a whole name
START_WEIGHT = 1.4  # the start of a name with all its distinctive words ("Mzansi Aerial")
IDENTIFIER_WORD_WEIGHT = 1.5  # per word of an identifier as typed: its words may be others' trigger phrases
TITLE_WEIGHT = 1.5  # every word of a Convex task title
PARTIAL_WEIGHT = 0.5  # one distinctive word: enough to route alone, less than another agent's trigger phrase
WEAK_WEIGHT = 0.4  # a place or a plain column name: only beside other evidence
RECORD_WEIGHT = 1.0  # a record number in the format of several of the agent's own: routes alone, below a whole name
RECORD_FAMILY = 3  # names of one format an agent needs before a new number in that format counts
# A reference (a supplier's name in the database agent's RFQs) counts only beside the agent's own
# trigger evidence, and then more than the name does for its owner: the task is about those records.
REFERENCE_WEIGHT = 2.5
# role of a name in the `entities` input -> (whole-name weight, weak)
ROLE_WEIGHTS = {"name": (FULL_WEIGHT, False), "place": (WEAK_WEIGHT, True), "reference": (REFERENCE_WEIGHT, True)}
COMMON_IN_NAMES = 3  # a word in more names than this is a descriptor, not a name ("Trenching")
MAX_WORDS = 10  # longer names are matched by their first MAX_WORDS words
SHOWN_NAMES = 3

# Words that describe a business, a trade or a place rather than name one, and everyday English
# words often used in business names ("Reef", "Table Bay"): never a name's distinctive word,
# whatever the data holds (stemmed when the index is built).
GENERIC_WORDS = """
pty ltd cc inc limited llc plc co company group holdings holding enterprise enterprises solutions solution
services service networks network systems technologies technology tech international global national
africa african sa rsa south north east west central southern northern eastern western city town metro
township community park bay point valley river hill mountain coast coastal upgrade phase project rollout
fibre fiber ftth connect connection connections installations installation installers installer construction
contractors contractor civils civil builders builder works supply supplies suppliers supplier distributors
distributor traders trading equipment tools hire plant crew crews team trenching trench splicing splice
splicers aerial cable cables duct ducting poles pole closures closure drilling directional reinstatement
test testing business homes home hardware materials material vendors vendor core drop single street road
section route cabinet mdu dc yard new main big first data management consulting partners site sites
reef table belt platinum fleet safe buffalo star sun gold golden silver diamond eagle lion rock stone ocean
sea blue green red black white royal crown prime best top smart quick rapid express direct united allied
premier elite pro link net web digital power energy light bright future vision alpha apex summit peak
bridge gate way path line wave spark sky cloud open world general standard master quality true pioneer
frontier heritage legacy timber field forest garden harbour port lake spring springs ridge view
ubuntu linux windows android apple amazon google microsoft oracle cisco
""".split()  # noqa: SIM905 (a word list reads better as text)
LEGAL_SUFFIXES = {"pty", "ltd", "cc", "inc", "limited", "llc", "plc"}


def _idf(owners: int, n_agents: int) -> float:
    """1.0 for a name one agent holds, less for each agent that shares it (as lexical.py)."""
    import math  # index building only

    if n_agents <= 1 or owners <= 1:
        return 1.0
    return math.log(1 + n_agents / owners) / math.log(1 + n_agents)


def _vocabulary(agents: list[dict]) -> tuple[set, dict]:
    """(every trigger word of any agent or tool, {example word: agent positions using it})."""
    triggers: set = set()
    examples: dict = {}
    for position, agent in enumerate(agents):
        phrases = list(agent.get("triggers", ())) + list(agent.get("weak_triggers", ()))
        for tool in agent.get("tools", ()):
            phrases += tool.get("triggers", [])
        for phrase in phrases:
            triggers.update(terms(phrase))
        for example in agent.get("examples", ()):
            for term in terms(example):
                examples.setdefault(term, set()).add(position)
    return triggers, examples


def _owned(lists: dict, positions: dict) -> dict:
    """{display name: set of agent positions} from {agent_id: [names]} (unknown agents ignored)."""
    owned: dict = {}
    for agent_id, names in (lists or {}).items():
        position = positions.get(agent_id)
        if position is None or not isinstance(names, (list, tuple)):
            continue
        for name in names:
            if isinstance(name, str) and name.strip():
                owned.setdefault(name.strip(), set()).add(position)
    return owned


def _is_identifier(name: str) -> bool:
    return " " not in name.strip() and ("_" in name or "." in name.strip("."))


def _phrase_keys(name: str) -> list[list[str]]:
    """The word sequences that spell a whole name: every word, or its content words; legal suffix dropped."""
    spelled, content, _ = name_words(name)
    keys = []
    for words in (spelled, content):
        while words and words[-1] in LEGAL_SUFFIXES:
            words = words[:-1]
        if len(words) >= 2 and words[:MAX_WORDS] not in keys:
            keys.append(words[:MAX_WORDS])
    return keys


class _Builder:
    def __init__(self, agents: list[dict], n_agents: int):
        self.n = n_agents
        self.triggers, self.examples = _vocabulary(agents)
        self.generic = {stem(word) for word in GENERIC_WORDS}
        self.phrases: dict = {}
        self.tokens: dict = {}
        self.titles: dict = {}
        self.count = 0

    def ordinary(self, word: str, owners: set) -> bool:
        """A word other requests use: a trigger anywhere, or an example word of an agent that does not own it."""
        if word in self.triggers or word in self.generic or len(word) < 3 or word.isdigit():
            return True
        return bool(self.examples.get(word, set()) - owners)

    def add_phrase(self, key: str, position: int, weight: float, weak: bool, display: str) -> None:
        entries = self.phrases.get(key) or []
        if any(entry[0] == position for entry in entries):
            return  # the same words already credit this agent (e.g. "Soweto trench section 1" and "... 2")
        entries.append((position, round(weight, 4), weak, display))
        self.phrases[key] = entries
        words = key.split(" ")
        for end in range(1, len(words)):  # prefixes tell the matcher to keep reading
            self.phrases.setdefault(" ".join(words[:end]), [])

    def add_names(self, names: dict, role: str) -> None:
        """Whole-name phrases, then the words, of names, places or references (see ROLE_WEIGHTS)."""
        weight, weak = ROLE_WEIGHTS[role]
        for display, owners in names.items():
            self.count += 1
            share = _idf(len(owners), self.n)
            for words in _phrase_keys(display):
                for position in owners:
                    self.add_phrase(" ".join(words), position, weight * share, weak, display)
            if record_shape(display) is not None:
                continue  # a code ("POL-9M-WOOD") counts as a whole or by its format, never by one of its parts
            for word in name_words(display)[2]:
                self.token(word, owners, display, role)

    def add_name_starts(self, names: dict) -> None:
        """ "Mzansi Aerial" for "Mzansi Aerial Networks": a start of a name holding all its distinctive words."""
        for display, owners in names.items():
            words = name_words(display)[1]
            telling = [i for i, word in enumerate(words) if not self.ordinary(word, owners)]
            distinctive = [i for i in telling if not self.place(words[i])]
            if not telling:
                continue
            # "Polokwane City" is a town more than a start of "Polokwane City Fibre"; "Mbombela Riverside"
            # (two telling words) and "Gqeberha Northern Areas" (three words) are starts
            shortest = 2 if distinctive or len(telling) >= 2 else 3
            numbered = [i for i, word in enumerate(words) if any(ch.isdigit() for ch in word)]
            last_needed = max(telling + numbered)  # "FF-KZN-001" never starts as "FF-KZN"
            for end in range(max(shortest, last_needed + 1), min(len(words), MAX_WORDS)):
                for position in owners:
                    self.add_phrase(
                        " ".join(words[:end]), position, START_WEIGHT * _idf(len(owners), self.n), False, display
                    )

    def place(self, word: str) -> bool:
        entry = self.tokens.get(word)
        return bool(entry and entry["place"])

    def add_identifiers(self, names: dict) -> None:
        """Table and column names: as typed (boq_items) they outweigh what their words say; plain ones are weak."""
        for display, owners in names.items():
            self.count += 1
            if _is_identifier(display):
                words = len(display.replace(".", "_").split("_"))
                weight = (FULL_WEIGHT + IDENTIFIER_WORD_WEIGHT * words) * _idf(len(owners), self.n)
                for position in owners:
                    self.add_phrase(display.lower(), position, weight, False, display)
                continue
            for word in name_words(display)[2]:  # a one-word column or table name ("sku")
                if not self.ordinary(word, owners):
                    self.token(word, owners, display, "identifier")

    def token(self, word: str, owners: set, display: str, role: str) -> None:
        entry = self.tokens.setdefault(word, {role: {} for role in (*ROLE_WEIGHTS, "identifier")})
        for position in owners:
            entry[role].setdefault(position, []).append(display)

    def add_titles(self, titles: dict, df: dict) -> None:
        for display, owners in titles.items():
            words = tuple(sorted(name_words(display)[2]))
            if len(words) < 2:
                continue
            self.count += 1
            rarest = min(words, key=lambda w: (df.get(w, 0), -len(w)))
            weight = round(TITLE_WEIGHT * _idf(len(owners), self.n), 4)
            for position in owners:
                self.titles.setdefault(rarest, []).append((words, position, weight, display))

    def token_table(self) -> tuple[dict, dict]:
        """(word -> ((position, weight, weak, names), ...), deletion variant -> distinctive words)."""
        table, near = {}, {}
        for word, entry in self.tokens.items():
            names, references = entry["name"], entry["reference"]
            shown: dict = {}
            for role in ("place", "identifier", "name", "reference"):  # what to show: the place, else the name
                for position, displays in entry[role].items():
                    shown.setdefault(position, sorted(set(displays))[:SHOWN_NAMES])
            if self.ordinary(word, set(shown)):
                continue
            distinct = {d for displays in names.values() for d in displays}
            if entry["place"] or entry["identifier"] or len(distinct) > COMMON_IN_NAMES:
                weight = round(WEAK_WEIGHT * _idf(len(shown), self.n), 4)
                table[word] = tuple(  # show the place or column; a word common to many names shows nothing
                    (p, weight, True, tuple(shown[p]) if p in entry["place"] or p in entry["identifier"] else ())
                    for p in sorted(shown)
                )
                continue
            credits = []
            if names:
                weight = round(PARTIAL_WEIGHT * _idf(len(names), self.n) * (1.0 if len(distinct) <= 2 else 0.7), 4)
                credits += [(p, weight, False, tuple(shown[p])) for p in sorted(names)]
                if len(word) >= 6:
                    for variant in {word[:i] + word[i + 1 :] for i in range(len(word))}:
                        near.setdefault(variant, []).append(word)
            others = sorted(set(references) - set(names))
            weight = round(PARTIAL_WEIGHT * REFERENCE_WEIGHT / FULL_WEIGHT * _idf(len(others), self.n), 4)
            credits += [(p, weight, True, tuple(shown[p])) for p in others]
            table[word] = tuple(credits)
        return table, near


def _record_shapes(names: dict, n_agents: int) -> dict:
    """shape -> ((position, weight, a name of that shape), ...) for each format ("po-9999-99999")
    that at least RECORD_FAMILY of an agent's names share: a number the names do not hold yet
    in that format is most likely the agent's too (records added since the names were read)."""
    families: dict = {}
    for display, owners in names.items():
        shape = record_shape(display)
        if shape is not None:
            for position in owners:
                families.setdefault(shape, {}).setdefault(position, []).append(display)
    table = {}
    for shape, by_agent in families.items():
        kept = {position: min(found) for position, found in by_agent.items() if len(found) >= RECORD_FAMILY}
        if kept:
            weight = round(RECORD_WEIGHT * _idf(len(kept), n_agents), 4)
            table[shape] = tuple((position, weight, kept[position]) for position in sorted(kept))
    return table


def build_tables(agents: list[dict], entities: dict | None) -> dict:
    """The entity tables for the routing index, from the `entities` routing input (may be None)."""
    value = entities if isinstance(entities, dict) else {}
    backends = {entry.get("source") for agent in agents for entry in agent.get("entities", ())}
    if any(agent.get("data") for agent in agents):
        backends.add("database")  # a data agent's schema is refreshed with the names
    if not any(value.get(key) for key in ("agents", "places", "references", "identifiers", "titles")):
        return _tables(0, 0, backends, {}, {}, {}, {}, {})  # nothing read: no vocabulary to build (10,000 agents)
    positions = {agent["id"]: position for position, agent in enumerate(agents)}
    builder = _Builder(agents, len(agents))
    names = _owned(value.get("agents"), positions)
    builder.add_names(names, "name")
    builder.add_names(_owned(value.get("places"), positions), "place")
    builder.add_names(_owned(value.get("references"), positions), "reference")
    builder.add_identifiers(_owned(value.get("identifiers"), positions))
    builder.add_name_starts(names)  # after whole names: a start never displaces a whole name
    tokens, near = builder.token_table()
    title_df: dict = {}
    titles = _owned(value.get("titles"), positions)
    for display in titles:
        for word in name_words(display)[2]:
            title_df[word] = title_df.get(word, 0) + 1
    builder.add_titles(titles, title_df)
    longest = max((len(key.split(" ")) for key in builder.phrases), default=0)
    shapes = _record_shapes(names, len(agents))
    return _tables(builder.count, longest, backends, builder.phrases, tokens, builder.titles, near, shapes)


def _tables(
    count: int, longest: int, backends: set, phrases: dict, tokens: dict, titles: dict, near: dict, shapes: dict
) -> dict:
    return {
        "entity_backends": tuple(sorted(b for b in backends if isinstance(b, str))),  # what a refresh reads
        "entity_count": count,
        "entity_max_words": longest,
        "entity_phrases": {key: tuple(entries) for key, entries in phrases.items()},
        "entity_tokens": tokens,
        "entity_titles": {key: tuple(entries) for key, entries in titles.items()},
        "entity_near": near,
        "entity_shapes": shapes,
    }
