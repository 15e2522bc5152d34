"""Every phrase a question may use for something a database holds, computed once per (schema, lexicon).

A table answers to its name split on `_` ("purchase_orders" -> "purchase orders"), singular or
plural, and to its lexicon words; a column to its name, its name without generic affixes
("onboarded_on" -> "onboarded", "is_active" -> "active") and its lexicon words; a stored value
(a CHECK list, a few-valued column, a lexicon entry) to its words; a name held in a key column to
itself and, more weakly, to any run of its words ("Karoo" -> "Karoo Haulage"). Lexicon adjectives
of a numeric column count in their -er/-est forms. Phrases are keyed by their stems (words.stem).

`vocabulary(schema, lexicon)` caches the result, so one interpretation pays only for its lookups.
"""

from __future__ import annotations

import hashlib
import marshal
import os
from collections import defaultdict
from dataclasses import dataclass, field

from skills.answers.model import Column, ForeignKey, Lexicon, Schema, Table, parse_condition
from skills.answers.words import FILLER, NAME_PART_SYNONYMS, comparative_forms, stem, stems, tokenize

NUMERIC_TYPES = ("integer", "bigint", "smallint", "numeric", "real", "double precision", "money", "decimal")
DATE_TYPES = ("date", "timestamp", "timestamp without time zone", "timestamp with time zone")
GENERIC_PREFIXES = ("is", "has", "was")
GENERIC_SUFFIXES = ("on", "at", "date", "count", "num", "no")
PREPOSITION_SUFFIXES = ("on", "at")  # the generic suffixes that are also prepositions of what follows
AGENT_NOUN_MIN = 7  # "manager", "supplier": shorter -er words ("order", "owner") are seldom a doer of a verb
ROLE = "role of "  # the value of a table element that is the verb of a foreign key's role, + the key's table
TOTAL = "sum"  # the value of a column element whose word names the column's total (a lexicon's totals)
GENERIC_PARTS = frozenset({"id", "name", "date", "type", "code", "number", "no", "on", "at", "is", "has", "of"})


@dataclass(frozen=True)
class Element:
    """What a phrase can mean. kind: table, column, value (column = value), name (a row by its name),
    adjective (a numeric column's -est form: `value` is +1 for highest first). A column's `value` is
    TOTAL when its word names the column's sum ("stock": the total of the movements' quantities). A
    table's `value` is ROLE + the table whose foreign key the word is the verb of ("supplies": the
    contractors that materials.supplier_id points to), which the question then speaks of too. A value's
    `value` is (operator, other column, summed child table or "") for a lexicon condition ("running late":
    forecast_end > planned_end; "below reorder level": sum(stock_movements.quantity) < reorder_level)."""

    kind: str
    table: str
    column: str = ""
    value: object = None
    partial: bool = False  # weak: a name matched by some of its words, a column by one word of its name

    def words(self) -> str:
        if self.kind == "table":
            return self.table.replace("_", " ")
        if self.kind == "column":
            return f"{self.table}.{self.column}"
        if self.kind == "name":
            return f"{self.table} {self.value!r}"
        if self.kind == "adjective":
            return f"{'highest' if self.value > 0 else 'lowest'} {self.table}.{self.column}"
        return f"{self.table}.{self.column} = {self.value!r}"


@dataclass
class Vocabulary:
    schema: Schema
    phrases: dict[tuple[str, ...], list[Element]] = field(default_factory=lambda: defaultdict(list))
    longest: int = 1
    stored: dict | None = None  # loaded from a file: (kind, table, column, value, partial) per element, by phrase
    _singles: list[str] | None = None

    def add(self, text_or_tokens: str | tuple[str, ...], element: Element) -> None:
        tokens = tuple(tokenize(text_or_tokens)) if isinstance(text_or_tokens, str) else text_or_tokens
        key = stems(tokens)
        if not key or all(token in FILLER for token in tokens) and element.kind != "value" and not element.partial:
            return  # a column named by grammar words ("total") answers to them only weakly (_add_column)
        if element not in self.phrases[key]:
            self.phrases[key].append(element)
            self.longest = max(self.longest, len(key))

    def lookup(self, key: tuple[str, ...]) -> list[Element]:
        found = self.phrases.get(key)
        if found is None and self.stored and key in self.stored:  # loaded from disk: made on first use
            found = self.phrases[key] = [Element(*fields) for fields in self.stored[key]]
        return found or []

    def single_words(self) -> list[str]:
        """The one-word phrases with a strong meaning (what a misspelt word may be corrected to)."""
        if self._singles is None:
            pool = self.stored or {k: [(e.partial,) for e in v] for k, v in self.phrases.items()}
            self._singles = [k[0] for k, fields in pool.items() if len(k) == 1 and any(not f[-1] for f in fields)]
        return self._singles


def is_numeric(column: Column) -> bool:
    return column.type.split("(")[0].strip() in NUMERIC_TYPES


def is_date(column: Column) -> bool:
    return column.type.split("(")[0].strip() in DATE_TYPES


def is_key(table: Table, column: Column) -> bool:
    """A surrogate or foreign key: a number that identifies rows rather than measuring anything."""
    in_foreign = any(column.name in key.columns for key in table.foreign_keys)
    return (in_foreign or column.name in table.primary_key or column.name == "id") and not column.is_name


def flag_measure(schema: Schema, table_name: str, flag: str) -> Element | None:
    """The one number of a yes/no column's table named by the flag's own word: delay_days for
    "delayed" ("the longest delay", "delayed the longest"); None when there is none, or several."""
    table = schema.table(table_name)
    said = set(stems(tuple(flag.lower().split("_")))) - set(stems(GENERIC_PREFIXES))
    numbers = [
        c
        for c in table.columns
        if is_numeric(c) and not is_key(table, c) and said & set(stems(tuple(c.name.lower().split("_"))))
    ]
    return Element("column", table.name, numbers[0].name) if len(numbers) == 1 else None


DOER_MIN = 7  # "installation", "splicing": shorter words ending so ("ring", "king") are no activities


def _column_phrases(column: str, table_words: set[tuple[str, ...]]) -> tuple[list[tuple[str, ...]], list[str]]:
    parts = tuple(part for part in column.lower().split("_") if part)
    full = [parts]
    trimmed = parts
    while len(trimmed) > 1 and trimmed[0] in GENERIC_PREFIXES:
        trimmed = trimmed[1:]
    while len(trimmed) > 1 and trimmed[-1] in GENERIC_SUFFIXES:
        trimmed = trimmed[:-1]
    if trimmed != parts and parts[-1] in PREPOSITION_SUFFIXES:
        full = [trimmed]  # "erected_on" is "erected": "erected on Lawley" says where, not the column's name
    elif trimmed != parts:
        full.append(trimmed)
    full += [  # "planned finish" for planned_end, one part at a time
        phrase[:at] + (other,) + phrase[at + 1 :]
        for phrase in list(full)
        for at, part in enumerate(phrase)
        for other in NAME_PART_SYNONYMS.get(part, ())
    ]
    singles = [p for p in parts if p not in GENERIC_PARTS and p not in FILLER and stems((p,)) not in table_words]
    singles += [other for p in singles for other in NAME_PART_SYNONYMS.get(p, ())]
    singles = singles if len(parts) > 1 else []
    # the doer's verb: "manager" -> "managing", "managed"; "supplier" -> "supplies", "supplying"
    singles += [
        p[:-2] for p in parts if len(p) >= AGENT_NOUN_MIN and p.endswith(("er", "or")) and p not in GENERIC_PARTS
    ]
    return full, singles


def build(schema: Schema, lexicon: Lexicon) -> Vocabulary:
    vocabulary = Vocabulary(schema)
    table_words = {stems(tuple(t.name.lower().split("_"))) for t in schema.tables}
    weak: list[tuple[str, Element]] = []
    for table in schema.tables:
        vocabulary.add(tuple(table.name.lower().split("_")), Element("table", table.name))
        verb = agent_verb(stem(table.name.lower()))
        if verb:  # "which shipments did Karoo Haulage carry": what the carriers do, where no word says else
            weak.append((verb, Element("table", table.name, value=ROLE + table.name)))
        for word in lexicon.tables.get(table.name, ()):
            vocabulary.add(word, Element("table", table.name, value="lexicon"))
        for column in table.columns:
            _add_column(vocabulary, table, column, lexicon, table_words, weak)
        for key in table.foreign_keys:
            verb = _role_verb(key, schema)
            if verb:  # "who supplies the ONTs": materials.supplier_id names what the contractor does
                vocabulary.add((verb,), Element("table", key.ref_table, value=ROLE + table.name))
        for column_name, names in table.names.items():
            for name in names:
                _add_name(vocabulary, table.name, column_name, name, weak)
    for key, words in lexicon.conditions.items():  # "running late": forecast_end > planned_end
        condition = parse_condition(key)
        for word in words:
            value = (condition.op, condition.other, condition.summed)
            vocabulary.add(word, Element("value", condition.table, condition.column, value))
    for key, words in lexicon.totals.items():  # "stock": the total of stock_movements.quantity
        table_name, _, column_name = key.partition(".")
        for word in words:
            vocabulary.add(word, Element("column", table_name, column_name, TOTAL))
    for key, by_value in lexicon.values.items():
        table_name, _, column_name = key.partition(".")
        for value, words in by_value.items():
            for word in words:
                vocabulary.add(word, Element("value", table_name, column_name, value))
    strong = set(vocabulary.phrases)
    for text, element in weak:  # a weak phrase only where no strong one holds the same words
        if stems(tuple(tokenize(text))) not in strong:
            vocabulary.add(text, element)
    return vocabulary


def _add_column(vocabulary, table, column, lexicon, table_words, weak) -> None:
    if is_key(table, column):
        return
    kind_boolean = column.type == "boolean"
    phrases, singles = _column_phrases(column.name, table_words)
    words = list(lexicon.columns.get(f"{table.name}.{column.name}", ()))
    for phrase in phrases:
        if kind_boolean:
            vocabulary.add(phrase, Element("value", table.name, column.name, True))
            if len(phrase) == 1:  # "inactive", "unpaid", "non-delayed": the flag's opposite
                for prefix in ("in", "un", "non"):
                    vocabulary.add((prefix + phrase[0],), Element("value", table.name, column.name, False))
        elif all(part in FILLER for part in phrase):  # "total", "number": grammar first, the column if it fits
            weak.append((" ".join(phrase), Element("column", table.name, column.name, partial=True)))
        else:
            vocabulary.add(phrase, Element("column", table.name, column.name))
    for word in words:
        element = Element(
            "value" if kind_boolean else "column", table.name, column.name, True if kind_boolean else None
        )
        vocabulary.add(word, element)
        if is_numeric(column) and len(tokenize(word)) == 1:
            bigger, biggest = comparative_forms(word)
            vocabulary.add(biggest, Element("adjective", table.name, column.name, 1))
            vocabulary.add(bigger, Element("column", table.name, column.name))  # "costlier than R10m"
    if not kind_boolean:
        for single in singles:
            weak.append((single, Element("column", table.name, column.name, partial=True)))
    for value in column.values:
        text = str(value).replace("_", " ")
        vocabulary.add(text, Element("value", table.name, column.name, value))
        doer = _doer(text)
        if doer:  # "installers" for the rows whose specialty is "installation"
            vocabulary.add(doer, Element("value", table.name, column.name, value))
        verb = agent_verb(text)
        if verb:  # "which firms supply poles": the rows whose kind is "supplier"
            vocabulary.add((verb,), Element("value", table.name, column.name, value))


def agent_verb(word: str) -> str | None:
    """The verb of an agent noun, as its stem matches: "supplier" -> "suppli" ("supply", "supplies",
    "supplied"), "installer" -> "install"; None for other words ("order", "owner" are too short)."""
    word = word.lower()
    if " " in word or len(word) < AGENT_NOUN_MIN or not word.endswith(("er", "or")) or word in GENERIC_PARTS:
        return None
    return word[:-2]


def _role_verb(key: ForeignKey, schema: Schema) -> str | None:
    """The verb of the role a foreign key names, when the role is not the table it points to:
    materials.supplier_id -> contractors is "supplied" by them; installations.contractor_id is not."""
    if len(key.columns) != 1 or not key.columns[0].lower().endswith("_id") or schema.table(key.ref_table) is None:
        return None
    role = key.columns[0].lower().removesuffix("_id")
    if stems(tuple(role.split("_"))) == stems(tuple(key.ref_table.lower().split("_"))):
        return None
    return agent_verb(role)


def _doer(value: str) -> str | None:
    """The noun for who does what a stored value names: "installation" -> "installer", "splicing" ->
    "splicer", "directional drilling" -> "directional driller"; None for other words."""
    *before, last = value.lower().split() or [""]
    for activity in ("ation", "ing"):
        if len(last) >= DOER_MIN and last.endswith(activity):
            return " ".join([*before, last.removesuffix(activity) + "er"])
    return None


def _add_name(vocabulary, table_name: str, column_name: str, name: str, weak) -> None:
    tokens = tuple(tokenize(name))
    if not tokens:
        return
    vocabulary.add(tokens, Element("name", table_name, column_name, name))
    if len(tokens) == 1:
        return
    for length in range(1, min(len(tokens), 4)):
        for start in range(len(tokens) - length + 1):
            span = tokens[start : start + length]
            if any(token not in FILLER and len(token) > 2 for token in span):
                weak.append((" ".join(span), Element("name", table_name, column_name, name, partial=True)))


_CACHE: dict[tuple, tuple[Schema, Lexicon, Vocabulary]] = {}
KEPT_ON_DISK = 16  # vocabulary files kept in the directory; older ones are removed as new ones are written


def vocabulary(schema: Schema, lexicon: Lexicon, directory: str | None = None) -> Vocabulary:
    """The vocabulary of this schema and lexicon, built on first use and kept (a few at a time).

    A schema from the routing cache carries a fingerprint: its vocabulary is then kept by content,
    in this process and, with `directory`, in a file there, so a one-shot script (bin/execute_agent)
    loads it (a few ms) instead of building it (~50-150 ms on the demo schemas)."""
    if schema.fingerprint:
        key: tuple = (schema.fingerprint, lexicon.fingerprint())
        cached = _CACHE.get(key)
        if cached:
            return cached[2]
    else:
        key = (id(schema), id(lexicon))
        cached = _CACHE.get(key)
        if cached and cached[0] is schema and cached[1] is lexicon:
            return cached[2]
    path = None
    if directory and schema.fingerprint:  # the code that builds it is part of the name: an edit builds anew
        name = hashlib.sha1(repr((key, _builder_digest())).encode()).hexdigest()
        path = os.path.join(directory, f"vocabulary-{name}.marshal")
    built = _load(path, schema) if path else None
    if built is None:
        built = build(schema, lexicon)
        if path:
            _save(path, built)
    if len(_CACHE) >= 16:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = (schema, lexicon, built)
    return built


_DIGEST: list[str] = []


def _builder_digest() -> str:
    """A digest of the source of this module and of words.py, read once per process."""
    if not _DIGEST:
        from skills.answers import words

        digest = hashlib.sha1()
        for path in (__file__, words.__file__):
            with open(path, "rb") as handle:
                digest.update(handle.read())
        _DIGEST.append(digest.hexdigest())
    return _DIGEST[0]


def _load(path: str, schema: Schema) -> Vocabulary | None:
    try:
        with open(path, "rb") as handle:
            longest, phrases = marshal.loads(handle.read())  # loads of the bytes: load() reads in small pieces
    except (OSError, EOFError, ValueError, TypeError):
        return None  # not written yet, or cut short: build it again
    return Vocabulary(schema, longest=longest, stored=phrases)


def _save(path: str, built: Vocabulary) -> None:
    """Write the vocabulary beside the others (atomically); a directory that cannot be written is no error."""
    phrases = {
        key: [(e.kind, e.table, e.column, e.value, e.partial) for e in elements]
        for key, elements in built.phrases.items()
    }
    directory = os.path.dirname(path)
    try:
        os.makedirs(directory, exist_ok=True)
        temporary = f"{path}.{os.getpid()}.tmp"
        with open(temporary, "wb") as handle:
            marshal.dump((built.longest, phrases), handle)
        os.replace(temporary, path)
        others = sorted(
            (entry for entry in os.scandir(directory) if entry.name.startswith("vocabulary-")),
            key=lambda entry: entry.stat().st_mtime,
        )
        for entry in others[:-KEPT_ON_DISK]:
            os.unlink(entry.path)
    except OSError:
        pass
