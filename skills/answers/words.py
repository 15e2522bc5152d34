"""The English the interpreter reads without any database: tokens, stems, numbers, dates.

Everything here is generic English (function words, comparison phrases, month names, units of
money): nothing names a table, a column or a value of any database. `tokenize` splits a question
into lower-case tokens with contractions opened ("isn't" -> "is", "not"); `stem` folds plurals and
-ed/-ing so "rated", "rating" and "ratings" meet; `read_number` and `read_dates` turn the words at
a position into a number (with its currency or multiplier) or a date window.
"""

from __future__ import annotations

import calendar
import datetime
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

_TOKEN = re.compile(r"[a-z]?\$?\d[\d,]*(?:\.\d+)?[a-z%]*|[a-z0-9]+(?:[-'./&][a-z0-9]+)*")
_CONTRACTIONS = {
    "what's": ["what", "is"],
    "who's": ["who", "is"],
    "where's": ["where", "is"],
    "how's": ["how", "is"],
    "that's": ["that", "is"],
    "there's": ["there", "is"],
    "can't": ["can", "not"],
    "won't": ["will", "not"],
    "i'd": ["i", "would"],
    "let's": ["let", "us"],
    # chat spellings
    "hw": ["how"],
    "pls": ["please"],
    "plz": ["please"],
    "thx": ["thanks"],
}

# words that carry no content of their own: they are accounted for by the grammar, not the data
FILLER = frozenset(
    """
    a an the of in on at for to with from and is are was were be been being am do does did doing
    got has have had there that this these those which who whom whose what where when me my our we us i
    you your it its they them their show list give tell find get fetch display see pull bring use used already
    using went gone because worth valued based located situated all any every please thanks currently still now
    right ever so far yet exist exists existing about there's can could would will should may might just
    also here kindly let know want need like looking look up across overall altogether entire whole
    our's one ones thing things records entry entries row rows data details detail info information as
    by per each such some there been whether how many much number count total single flagged
    """.split()  # noqa: SIM905 - a list of words reads better as words
)
# everyday words for a part of a column's name: "planned_end" is also the "planned finish"
NAME_PART_SYNONYMS = {"end": ("finish", "completion"), "start": ("begin",), "begin": ("start",), "finish": ("end",)}

# stored values that say a row no longer counts: a total over rows that can hold one, with nothing said
# about them, is the total of every row or of the rows still standing ("the value of our POs")
VOID_VALUES = frozenset("""cancelled canceled void voided rejected withdrawn deleted""".split())  # noqa: SIM905
# words that say every row is meant, whatever its state ("the total of all POs")
EVERY_WORDS = frozenset("""all every whatever""".split())  # noqa: SIM905

# phrases that say "now" or "all of it" and nothing a query needs ("at the moment", "in total")
NO_OP_PHRASES = (
    ("at", "the", "moment"),
    ("at", "this", "moment"),
    ("at", "present"),
    ("as", "of", "now"),
    ("as", "of", "today"),
    ("as", "it", "stands"),
    ("right", "now"),
    ("to", "date"),
    ("in", "total"),
    ("all", "together"),
    ("all", "in", "all"),
)
# the end of a company's name ("Soweto Splicing Co"): what comes before is a name, held or not
COMPANY_SUFFIXES = frozenset({"co", "ltd", "pty", "inc", "cc", "llc", "plc", "gmbh", "corp"})
QUESTION_WORDS = frozenset({"what", "which", "who", "whom", "whose", "where", "when", "how"})
YES_NO_STARTS = frozenset({"is", "are", "was", "were", "does", "do", "did", "has", "have", "had", "can", "any"})
NEGATIONS = frozenset({"not", "no", "non", "without", "except", "excluding", "never", "none", "outside"})
CHANGE_VERBS = frozenset(
    """
    delete drop update set cancel mark add insert remove create truncate alter rename change modify edit
    assign approve reject close reopen archive erase wipe clear purge replace move transfer book
    schedule register enrol enroll deactivate activate suspend reinstate award issue void grant revoke
    make put raise bump increase decrease lower reduce boost upgrade downgrade allocate reassign
    unassign submit place restore switch flag unflag terminate finalise finalize delist onboard offboard
    hire fire dismiss blacklist pause unpause resume freeze unfreeze lock unlock enable disable unblock
    unblacklist refund decline accept withdraw extend postpone reschedule expedite unlink attach detach
    upload overwrite fix correct adjust amend revise duplicate clone merge promote demote retire
    decommission
    """.split()  # noqa: SIM905 - a list of words reads better as words
)
# verbs that also open a question as nouns ("start date of ...", "complete list of ..."): a change only
# when what follows is a determiner or a number ("Start the Soweto build", "Record 3 faults"); "order" is
# left out: "order the list by rating" asks for a sort
NOUN_LIKE_CHANGE_VERBS = frozenset(
    ["start", "stop", "complete", "record", "delay", "block", "log", "pay", "enter", "save", "copy"]
)
CHANGE_OBJECT_STARTS = frozenset(["the", "a", "an", "all", "this", "that", "these", "those", "our", "every", "each"])
POLITE_OPENINGS = (
    "please",
    "can you",
    "could you",
    "would you",
    "will you",
    "i want to",
    "i'd like to",
    "i would like to",
    "go ahead and",
    "kindly",
    "let us",
    "i need to",
    "i need you to",
)
AGGREGATES = {
    "average": "avg",
    "mean": "avg",
    "avg": "avg",
    "sum": "sum",
    "total": "sum",
    "combined": "sum",
    "minimum": "min",
    "min": "min",
    "maximum": "max",
    "max": "max",
}
# superlatives of generic size words: +1 highest first, -1 lowest first
SUPERLATIVES = {
    "most": 1,
    "longest": 1,
    "shortest": -1,
    "highest": 1,
    "biggest": 1,
    "largest": 1,
    "greatest": 1,
    "top": 1,
    "best": 1,
    "maximum": 1,
    "least": -1,
    "fewest": -1,
    "lowest": -1,
    "smallest": -1,
    "minimum": -1,
    "worst": -1,
    "bottom": -1,
}
# superlatives of time, over a date column: +1 latest first
DATE_SUPERLATIVES = {"latest": 1, "newest": 1, "earliest": -1, "oldest": -1}
COMPARISONS = [  # longest first: (words, operator)
    (("greater", "than", "or", "equal", "to"), ">="),
    (("less", "than", "or", "equal", "to"), "<="),
    (("no", "more", "than"), "<="),
    (("no", "less", "than"), ">="),
    (("not", "more", "than"), "<="),
    (("more", "than"), ">"),
    (("greater", "than"), ">"),
    (("higher", "than"), ">"),
    (("bigger", "than"), ">"),
    (("larger", "than"), ">"),
    (("less", "than"), "<"),
    (("fewer", "than"), "<"),
    (("lower", "than"), "<"),
    (("smaller", "than"), "<"),
    (("at", "least"), ">="),
    (("at", "most"), "<="),
    (("up", "to"), "<="),
    (("equal", "to"), "="),
    (("over",), ">"),
    (("above",), ">"),
    (("exceeding",), ">"),
    (("exceeds",), ">"),
    (("under",), "<"),
    (("below",), "<"),
    (("exactly",), "="),
    (("than",), ">"),  # after an -er word of the lexicon ("costlier than R10m"); "more/less than" come first
    (("minimum", "of"), ">="),
    (("maximum", "of"), "<="),
    (("min",), ">="),
    (("max",), "<="),
]
MULTIPLIERS = {
    "k": 1000,
    "thousand": 1000,
    "m": 1_000_000,
    "mil": 1_000_000,
    "million": 1_000_000,
    "mn": 1_000_000,
    "bn": 1_000_000_000,
    "billion": 1_000_000_000,
    "b": 1_000_000_000,
}
# units a number may carry ("80 m of cable"), each with the endings a column named in it may have ("cable_length_m")
UNITS = {
    "m": ("m", "metres", "meters"),
    "metres": ("m", "metres", "meters"),
    "meters": ("m", "metres", "meters"),
    "km": ("km",),
    "kilometres": ("km",),
    "kilometers": ("km",),
    "cm": ("cm",),
    "mm": ("mm",),
    "kg": ("kg",),
    "kilograms": ("kg",),
    "tonnes": ("t", "tonnes", "tons"),
    "tons": ("t", "tonnes", "tons"),
    "hours": ("hours", "hrs", "h"),
    "hrs": ("hours", "hrs", "h"),
    "minutes": ("minutes", "mins", "min"),
    "mins": ("minutes", "mins", "min"),
    "days": ("days",),
    "weeks": ("weeks",),
    "%": ("pct", "percent", "percentage"),
    "percent": ("pct", "percent", "percentage"),
}
CURRENCY = frozenset({"r", "$", "rand", "zar", "usd", "dollars", "dollar", "eur", "euro", "euros", "gbp", "pounds"})
NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "twelve": 12,
    "twenty": 20,
    "fifty": 50,
    "hundred": 100,
}
MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
MONTHS |= {name.lower(): number for number, name in enumerate(calendar.month_abbr) if name}
MONTHS.pop("may", None)  # "may" is too often the verb; "in May" is read below with its preposition
PERIODS = ("day", "week", "month", "quarter", "year")


def tokenize(text: str) -> list[str]:
    """Lower-case tokens, contractions opened, a possessive 's dropped ("PO's" -> "po")."""
    tokens: list[str] = []
    for token in _TOKEN.findall(text.lower().replace("\u2019", "'").replace("\u2018", "'")):
        token = token.strip("'.-/&,")  # a comma ends a clause ("in 2025, counting ..."); inside, a number's
        if not token:
            continue
        if token in _CONTRACTIONS:
            tokens += _CONTRACTIONS[token]
        elif token.endswith("n't"):
            tokens += [token[:-3] if token[:-3] not in ("ca", "wo") else "can", "not"]
        elif token.endswith(("'s", "s'")):
            tokens.append(token[:-2] if token.endswith("'s") else token[:-1])
        else:
            tokens.append(token)
    return tokens


def stem(word: str) -> str:
    """A light stem: plurals, -ed and -ing folded, so "ratings", "rated" and "rating" meet."""
    w = word.lower()
    if len(w) <= 3 or not w.isalpha():
        return w
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith(("sses", "shes", "ches", "xes", "zes")):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if w.endswith("ing") and len(w) > 5 and not _short_verb(w[:-3]):
        w = w[:-3]
    elif w.endswith("ed") and len(w) > 4:
        w = w[:-2]
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "aeiouls":
        w = w[:-1]
    if len(w) > 3 and w.endswith("e"):
        w = w[:-1]
    if w.endswith("y") and len(w) > 3:
        w = w[:-1] + "i"
    return w


def _short_verb(base: str) -> bool:
    """ "running", "setting": the -ing of a three-letter verb is often a sense of its own ("projects
    still running" are active; "the projects Kagiso runs" are his), so it is kept whole."""
    return len(base) == 4 and base[-1] == base[-2]


def stems(tokens: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    return tuple(stem(token) for token in tokens)


def comparative_forms(adjective: str) -> tuple[str, ...]:
    """The -er and -est forms of an adjective ("costly" -> costlier, costliest; "big" -> bigger, biggest)."""
    a = adjective.lower()
    if a.endswith("y"):
        return (a[:-1] + "ier", a[:-1] + "iest")
    if a.endswith("e"):
        return (a + "r", a + "st")
    if len(a) >= 3 and a[-1] not in "aeiouwy" and a[-2] in "aeiou" and a[-3] not in "aeiou":
        return (a + a[-1] + "er", a + a[-1] + "est")
    return (a + "er", a + "est")


@dataclass(frozen=True)
class Number:
    value: Decimal
    currency: bool = False
    consumed: int = 1  # how many tokens it took


def read_number(tokens: list[str], i: int) -> Number | None:
    """The number at tokens[i] ("R100,000", "50k", "1.5m", "1.5 million", "R 2 million", "five")."""
    start, currency = i, False
    if i < len(tokens) and tokens[i] in CURRENCY and i + 1 < len(tokens) and tokens[i + 1][:1].isdigit():
        currency, i = True, i + 1
    if i >= len(tokens):
        return None
    token = tokens[i]
    if token in NUMBER_WORDS:
        return Number(Decimal(NUMBER_WORDS[token]), currency, i - start + 1)
    match = re.fullmatch(r"([a-z]?)(\$?)(\d[\d,]*(?:\.\d+)?)([a-z%]*)", token)
    if not match:
        return None
    prefix, dollar, digits, suffix = match.groups()
    if prefix and prefix != "r":
        return None
    currency = currency or bool(prefix) or bool(dollar)
    if "," in digits and not re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", digits):
        return None
    try:
        value = Decimal(digits.replace(",", ""))
    except InvalidOperation:
        return None
    consumed = i - start + 1
    if suffix in MULTIPLIERS:
        value *= MULTIPLIERS[suffix]
    elif suffix not in ("", "%"):
        return None
    elif start + consumed < len(tokens) and tokens[start + consumed] in set(MULTIPLIERS) - {"m", "b"}:
        # "50 million"; but "50 m" is metres (only "50m" is millions)
        value, consumed = value * MULTIPLIERS[tokens[start + consumed]], consumed + 1
    after = tokens[start + consumed] if start + consumed < len(tokens) else ""
    if after in CURRENCY and after not in ("r", "$"):  # "1.5m rand", "2 million rand", "500 dollars"
        currency, consumed = True, consumed + 1
    return Number(value, currency, consumed)


@dataclass(frozen=True)
class Window:
    """A half-open date window [start, end); either side may be open. `words` say it back."""

    start: datetime.date | None
    end: datetime.date | None
    words: str
    consumed: int


def _month_start(year: int, month: int) -> datetime.date:
    while month > 12:
        year, month = year + 1, month - 12
    while month < 1:
        year, month = year - 1, month + 12
    return datetime.date(year, month, 1)


def _period(today: datetime.date, unit: str, offset: int) -> tuple[datetime.date, datetime.date]:
    """The calendar day/week/month/quarter/year containing today, moved by `offset` periods."""
    if unit == "day":
        day = today + datetime.timedelta(days=offset)
        return day, day + datetime.timedelta(days=1)
    if unit == "week":
        monday = today - datetime.timedelta(days=today.weekday()) + datetime.timedelta(weeks=offset)
        return monday, monday + datetime.timedelta(weeks=1)
    if unit == "month":
        first = _month_start(today.year, today.month + offset)
        return first, _month_start(first.year, first.month + 1)
    if unit == "quarter":
        first = _month_start(today.year, (today.month - 1) // 3 * 3 + 1 + 3 * offset)
        return first, _month_start(first.year, first.month + 3)
    first = datetime.date(today.year + offset, 1, 1)
    return first, datetime.date(first.year + 1, 1, 1)


def _point(tokens: list[str], i: int, today: datetime.date) -> tuple[datetime.date, datetime.date, str, int] | None:
    """A named span at tokens[i]: "2025", "March", "March 2025", "2025-03-01", "today", "this month"..."""
    token = tokens[i] if i < len(tokens) else ""
    following = tokens[i + 1] if i + 1 < len(tokens) else ""
    if re.fullmatch(r"(19|20)\d\d", token):
        year = int(token)
        return datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1), token, 1
    if re.fullmatch(r"(19|20)\d\d-\d\d-\d\d", token):
        try:
            day = datetime.date.fromisoformat(token)
        except ValueError:
            return None
        return day, day + datetime.timedelta(days=1), token, 1
    month = MONTHS.get(token) or (5 if token == "may" else None)
    if month:
        if re.fullmatch(r"(19|20)\d\d", following):
            first = datetime.date(int(following), month, 1)
            return first, _month_start(first.year, month + 1), f"{token} {following}", 2
        first = datetime.date(today.year, month, 1)
        return first, _month_start(today.year, month + 1), token, 1
    if token in ("today", "yesterday", "tomorrow"):
        start, end = _period(today, "day", {"today": 0, "yesterday": -1, "tomorrow": 1}[token])
        return start, end, token, 1
    unit = following.removesuffix("s")
    if token in ("this", "last", "next", "previous", "current") and unit in PERIODS and not following.endswith("s"):
        offset = {"this": 0, "current": 0, "last": -1, "previous": -1, "next": 1}[token]
        start, end = _period(today, unit, offset)
        return start, end, f"{token} {following}", 2
    return None


def read_dates(tokens: list[str], i: int, today: datetime.date) -> Window | None:
    """A date window starting at tokens[i], preposition included ("in 2025", "before March",
    "this month", "in the last 30 days", "between 2024 and 2025", "since January")."""
    token = tokens[i]
    if token in ("in", "during", "for", "from", "of") and i + 1 < len(tokens):
        point = _point(tokens, i + 1, today)
        if point:
            return Window(point[0], point[1], f"{token} {point[2]}", point[3] + 1)
        span = _recent(tokens, i + 1, today)
        if span:
            return Window(span.start, span.end, f"{token} {span.words}", span.consumed + 1)
        return None
    if token in ("before", "until", "till", "prior") or (token == "by" and i + 1 < len(tokens)):
        j = i + 2 if token == "prior" and i + 1 < len(tokens) and tokens[i + 1] == "to" else i + 1
        point = _point(tokens, j, today) if j < len(tokens) else None
        if point:
            end = point[1] if token in ("until", "till", "by") else point[0]
            return Window(None, end, f"{' '.join(tokens[i:j])} {point[2]}", j - i + point[3])
        return None
    if token in ("after", "since") and i + 1 < len(tokens):
        point = _point(tokens, i + 1, today)
        if point:
            start = point[0] if token == "since" else point[1]
            # "since January" runs up to today: what happened since then, not what is planned after it
            end = today + datetime.timedelta(days=1) if token == "since" and start <= today else None
            return Window(start, end, f"{token} {point[2]}", point[3] + 1)
        return None
    if token == "between" and i + 3 < len(tokens) and tokens[i + 2] == "and":
        first, second = _point(tokens, i + 1, today), _point(tokens, i + 3, today)
        if first and second and first[3] == 1 and second[3] == 1:
            return Window(first[0], second[1], f"between {first[2]} and {second[2]}", 4)
        return None
    point = _point(tokens, i, today) if token != "may" else None
    if point and not re.fullmatch(r"(19|20)\d\d", token):  # a bare year is a number until a preposition says not
        return Window(point[0], point[1], point[2], point[3])
    return _recent(tokens, i, today)


def _recent(tokens: list[str], i: int, today: datetime.date) -> Window | None:
    """ "the last 30 days", "past 2 weeks", "next 7 days": a window ending (or starting) today."""
    j = i + 1 if i < len(tokens) and tokens[i] == "the" else i
    if j + 2 >= len(tokens) or tokens[j] not in ("last", "past", "next", "previous", "coming"):
        return None
    number = read_number(tokens, j + 1)
    unit = tokens[j + 1 + number.consumed] if number and j + 1 + number.consumed < len(tokens) else ""
    unit = unit.removesuffix("s")
    if not number or unit not in PERIODS:
        return None
    days = {"day": 1, "week": 7, "month": 30, "quarter": 91, "year": 365}[unit] * int(number.value)
    consumed = j - i + 2 + number.consumed
    words = " ".join(tokens[i : i + consumed])
    if tokens[j] in ("next", "coming"):
        return Window(today, today + datetime.timedelta(days=days + 1), words, consumed)
    return Window(today - datetime.timedelta(days=days), today + datetime.timedelta(days=1), words, consumed)
