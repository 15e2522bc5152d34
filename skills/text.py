"""Turning text into comparable words: the one normaliser shared by the router and tool picking.

Words, not substrings: "observer" never matches "server". Case and punctuation are folded
and simple English inflections are stripped, the same way on both sides (triggers and
tasks), so "contractors", "monitoring" and "rebooted" meet "contractor", "monitor" and
"reboot". No `re` here: this runs on every route and `re` costs ~5 ms to import.
"""

_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~\u2018\u2019\u201c\u201d\u2013\u2014\u2026"
_TO_SPACE = str.maketrans({ch: " " for ch in _PUNCTUATION})
# ASCII text (nearly every task and trigger) is lower-cased and cleared of punctuation by one
# byte table: about three times faster than str.translate, and a large registry has 100,000s of texts.
_ASCII_PUNCTUATION = _PUNCTUATION.encode("ascii", "ignore")
_ASCII_FOLD = bytes.maketrans(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZ" + _ASCII_PUNCTUATION, b"abcdefghijklmnopqrstuvwxyz" + b" " * len(_ASCII_PUNCTUATION)
)

# Spelling variants folded to one form before stemming.
_VARIANTS = {
    "fiber": "fibre",
    "utilization": "utilisation",
    "synchronize": "synchronise",
    "synchronization": "synchronisation",
    "todos": "todo",
}

# Words that carry no routing signal on their own.
STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "for",
        "from",
        "further",
        "get",
        "gets",
        "give",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "him",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "let",
        "lets",
        "like",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "need",
        "needs",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "out",
        "over",
        "own",
        "please",
        "same",
        "she",
        "should",
        "show",
        "so",
        "some",
        "such",
        "tell",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "want",
        "was",
        "we",
        "were",
        "what",
        "whats",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "s",
        "t",
        "d",
        "ll",
        "m",
        "re",
        "ve",
        "hey",
        "hi",
        "ok",
        "okay",
        "thanks",
        "thank",
        "much",
        "many",
        "one",
        "two",
        "three",
        "check",
        "show",
        "list",
        "give",
        "find",
        "display",
        "look",
        "know",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "currently",
        "right",
        "still",
        "so",
        "far",
        "got",
        "see",
    ]
)


def _undouble(word: str) -> str:
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
        return word[:-1]
    return word


class _Stems(dict):
    """word -> its stem, worked out on first use: building a large registry's index stems the
    same words many times, and `map(_STEMS.__getitem__, words)` stems a text without a Python call per word."""

    def __missing__(self, word: str) -> str:
        found = self[word] = _stem(word)
        return found


_STEMS = _Stems()
_stem_of = _STEMS.__getitem__


def stem(word: str) -> str:
    """A small, predictable suffix stripper (not linguistics: both sides just need to agree)."""
    return _STEMS[word]


def _stem(word: str) -> str:
    word = _VARIANTS.get(word, word)
    if len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith(("sses", "ches", "shes", "xes", "zes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if word.endswith("ing") and len(word) >= 6:
        word = _undouble(word[:-3])
    elif word.endswith("ed") and len(word) >= 5 and not word.endswith("eed"):
        word = _undouble(word[:-2])
    if word.endswith("ie"):
        word = word[:-2] + "y"
    return word


def words(text: str) -> list[str]:
    """Lower-cased words with punctuation removed (digits kept: "eth0", "task 17")."""
    if text.isascii():
        return text.encode("ascii").translate(_ASCII_FOLD).decode("ascii").split()
    return text.lower().translate(_TO_SPACE).split()


def task_key(task: str) -> str:
    """What verdicts on the same request share: lower-case words, punctuation and spacing dropped.

    Here, not in routing, because the ledger and the store key their rows by it too and sit
    below routing in the layers.
    """
    return " ".join(words(task))


def terms(text: str) -> list[str]:
    """Stemmed words in order, stopwords and bare numbers dropped: what routing compares."""
    return [_stem_of(word) for word in words(text) if word not in STOPWORDS and not word.isdigit()]


def phrase_terms(text: str) -> tuple[str, ...]:
    """A trigger phrase as stemmed words, stopwords kept ("running out of" stays three words)."""
    return tuple(map(_stem_of, words(text)))


def all_terms(text: str) -> list[str]:
    """Stemmed words in order with stopwords kept, for matching phrases inside a task."""
    return list(map(_stem_of, words(text)))
