"""Entity evidence: a task that names something an agent's data holds goes to that agent.

The names come from the agents' own data (registry `entities:` sources, read by
skills/routing/names/sources.py into the `entities` routing input). Evidence, strongest first:
- a whole name ("Thuthuka Installations", "FF-GP-003", a Convex task's title), or the start
  of one holding all its telling words ("Mzansi Aerial"): about a trigger phrase, so it routes
  on its own and may outweigh one; an identifier as typed ("boq_items") outweighs its words;
- a record number in the format that several of the agent's names share ("PO-2025-00042" when
  the names hold PO-2024-00001 and more): a record added since the names were read; it routes on
  its own, below a whole name;
- a distinctive word of a name ("Thuthuka", "Ikhwezi"), or one letter off it: like a trigger
  word, so a clear trigger phrase of another agent still wins. Not a part of a code
  ("POL-9M-WOOD": "wood" is no name), which counts only whole or by its format;
- weak, only beside other evidence for that agent: a place (town, province, area: "weather in
  Durban" routes nowhere), a plain column name, a reference (a name the agent's records only
  mention, like an RFQ's supplier: heavy, but it never routes alone).

Precision comes from weighting each word by how specific it is: a word that is any agent's
trigger, a common word in business names ("Networks", "Pty", "Fibre", "Installations"), a word
in many names or a place never routes alone; a word several agents' data share counts less.

Tables (str-keyed, built with the index by entity_index.py): `entity_phrases` (a name's
words joined by spaces, or an identifier -> credits; a prefix of a longer name -> ()),
`entity_tokens` (word -> credits), `entity_titles` (rarest title word -> titles),
`entity_near` (a word with one letter deleted -> distinctive words), `entity_shapes` (a record
number's format, "po-9999-99999" -> credits). Headers:
`entity_count`, `entity_max_words`, `entity_backends` (the sources agents declare, for the TTL check).
"""

from skills.routing.lexical import evidence_for
from skills.text import STOPWORDS, stem
from skills.text import words as split_words

_DIGITS_AS_NINE = str.maketrans("012345678", "999999999")
TYPO_DISCOUNT = 0.8  # one word one letter off a distinctive name word
WHOLE_TYPO_DISCOUNT = 0.9  # a whole name with one of its words one letter off
WEAK_NEEDS = 0.5  # weak entity evidence counts beside at least this much trigger or name evidence
_IDENTIFIER_PUNCTUATION = "!\"#$%&'()*+,-/:;<=>?@[\\]^`{|}~"


def name_words(text: str) -> tuple[list[str], list[str], list[str]]:
    """(every word, content words, distinct content words without numbers), stemmed as routing compares.

    Content words drop stopwords but keep numbers ("Splice and Test" = "Splice & Test"; "Phase 1"
    is not "Phase 2"); a possessive "s" is dropped everywhere ("Mzansi's" = "Mzansi").
    """
    spelled, content, present = [], [], []
    for word in split_words(text):
        term = stem(word)
        if term == "s":
            continue
        spelled.append(term)
        if word not in STOPWORDS:
            content.append(term)
            if not word.isdigit() and term not in present:
                present.append(term)
    return spelled, content, present


def record_shape(token: str) -> str | None:
    """The format of a record number: lower case with every digit as 9 ("PO-2025-00042" ->
    "po-9999-99999"); None for anything without both letters and digits, or with spaces."""
    shape = token.strip().lower().translate(_DIGITS_AS_NINE)
    if len(shape) < 4 or "9" not in shape or len(shape.split()) != 1 or not any(map(str.isalpha, shape)):
        return None
    return shape


def _record_numbers(task: str, index: dict, used: dict) -> list[tuple]:
    """(position, weight, weak, display, source) for each word of the task written in the format of
    several of an agent's record numbers, though no name it holds (a purchase order raised since
    the names were read); not for an agent a whole name of the task already credits."""
    if "9" not in task.translate(_DIGITS_AS_NINE):
        return []  # no digits, no record numbers
    shapes = index.get("entity_shapes") or {}
    hits = {}
    for word in task.split():
        word = word.strip(_IDENTIFIER_PUNCTUATION).strip(".")
        shape = record_shape(word)
        for position, weight, like in shapes.get(shape, ()) if shape else ():
            if position not in used:  # each number once, however often the task repeats it
                hits.setdefault(
                    (position, word.lower()), (position, weight, False, word, f"{word.lower()} like {like}")
                )
    return list(hits.values())


def _identifiers(task: str) -> list[str]:
    """Words of the task written like identifiers (boq_items, projects.code), as typed."""
    found = []
    for word in task.lower().split():
        word = word.strip(_IDENTIFIER_PUNCTUATION).strip(".")
        if "_" in word or "." in word:
            found.append(word)
    return found


def _whole_names(task: str, sequences: tuple, index: dict) -> list[tuple]:
    """(position, weight, weak, display, matched words) for every whole name the task spells out."""
    phrases = index["entity_phrases"]
    longest = index.get("entity_max_words") or 0
    hits = []
    for word in _identifiers(task) if ("_" in task or "." in task) else ():
        hits += [(*entry, word) for entry in phrases.get(word, ())]
    spelled, content, present = sequences
    for words in (spelled, content) if len(content) < len(spelled) else (spelled,):
        for start in range(len(words) - 1):
            key = words[start]
            for end in range(start + 1, min(len(words), start + longest)):
                key = f"{key} {words[end]}"
                entries = phrases.get(key)
                if entries is None:
                    break  # no name goes on like this
                hits += [(*entry, key) for entry in entries]
    titles, present_set = index["entity_titles"], set(present)
    for word in present:
        for words, position, weight, display in titles.get(word, ()):
            if present_set.issuperset(words):
                hits.append((position, weight, False, display, " ".join(words)))
    return hits


def _corrections(present: list[str], index: dict) -> dict[str, str]:
    """{task word: the distinctive name word one letter away} for words nothing else knows ("thutuka")."""
    tokens, near, postings = index["entity_tokens"], index["entity_near"], index["postings"]
    fixes = {}
    for word in present:
        if len(word) < 6 or word in tokens or word in postings:  # a known word is not a misspelt name
            continue
        close = set(near.get(word, ()))  # the task's word is missing a letter
        for variant in {word[:i] + word[i + 1 :] for i in range(len(word))}:
            if variant in tokens:  # the task's word has an extra letter
                close.add(variant)
            close.update(near.get(variant, ()))  # one letter swapped
        close.discard(word)
        if close:
            fixes[word] = min(close)
    return fixes


def credit_entities(found: dict, index: dict, task: str, explain: bool) -> None:
    """Add entity evidence to `found` ({position: Evidence}, from lexical.collect) in place.

    Per agent: every whole name counts once; of the single words only the best strong one and the
    best weak one (two words of one name are one name, not two), and none that a whole name used.
    A name spelt one letter off counts at a discount.
    """
    if not index.get("entity_count"):
        return
    sequences = name_words(task)
    fixes = _corrections(sequences[2], index)
    if fixes:
        sequences = tuple([fixes.get(word, word) for word in sequence] for sequence in sequences)
    fixed = set(fixes.values())
    typed = {name_word: word for word, name_word in fixes.items()}
    credited: dict = {}
    used: dict = {}
    for position, weight, weak, display, words in _whole_names(task, sequences, index):
        if display in used.setdefault(position, {"names": set(), "words": set()})["names"]:
            continue
        used[position]["names"].add(display)
        used[position]["words"].update(words.split(" "))
        if fixed.intersection(words.split(" ")):
            weight *= WHOLE_TYPO_DISCOUNT
        credited.setdefault(position, []).append((weight, weak, display, words))
    for position, weight, weak, display, source in _record_numbers(task, index, used):
        credited.setdefault(position, []).append((weight, weak, display, source))
    best: dict = {}
    tokens = index["entity_tokens"]
    for word in sequences[2]:
        for position, weight, weak, names in tokens.get(word, ()):
            if position in used and word in used[position]["words"]:
                continue
            if word in fixed:
                if weak:
                    continue
                weight *= TYPO_DISCOUNT
            if (position, weak) not in best or weight > best[position, weak][0]:
                source = f"{typed[word]}~{word}" if word in fixed else word
                best[position, weak] = (weight, weak, ", ".join(names) if names else None, source)
    for (position, _), credit in best.items():
        credited.setdefault(position, []).append(credit)
    for position, credits in credited.items():
        existing = found.get(position)
        other = (existing.strong + existing.entity) if existing is not None else 0.0
        for weight, weak, display, source in sorted(credits, key=lambda credit: credit[1]):  # strong first
            if weak and other < WEAK_NEEDS:
                continue  # a town, a reference: only beside trigger or name evidence for this agent
            evidence_for(found, position).add("entity", weight, display, source, explain)
            other += weight
