"""YAML text to plain Python values, fast: libyaml's parser events turned straight into values.

`yaml.load(..., CSafeLoader)` parses in C but then builds a node tree and resolves every
scalar in Python: at 10,000 agents (5 MB) that is ~5 s, of which the parse itself is ~0.5 s.
Here the parser's events become dicts, lists and strings directly; only a plain scalar whose
first character could start a number, a boolean or a null goes through PyYAML's own resolver
and constructor, so the values are exactly what `yaml.safe_load` gives. Anything less common
(anchors and aliases, explicit tags, merge keys, dates, mappings as keys, several documents)
is handed to `yaml.load` with the same loader, so it is still read right, only slower.

libyaml (`yaml.CSafeLoader`) is used when PyYAML was built with it, else the pure-Python
SafeLoader (same values, slower parse). PyYAML is imported here, so only when the registry's
cache is stale.
"""

from __future__ import annotations

import yaml
from yaml.events import (
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)
from yaml.nodes import ScalarNode

LOADER = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
STR_TAG = "tag:yaml.org,2002:str"
SIMPLE_TAGS = frozenset(f"tag:yaml.org,2002:{name}" for name in ("null", "bool", "int", "float"))


class _Unusual(Exception):
    """Something the fast path leaves to PyYAML's full loader."""


class _Builder:
    def __init__(self, loader):
        self.loader = loader
        resolvers = loader.yaml_implicit_resolvers
        # with a catch-all resolver every plain scalar needs resolving
        self.first_chars = None if None in resolvers else frozenset(resolvers)

    def scalar(self, event: ScalarEvent):
        if event.anchor is not None or event.tag not in (None, "!"):
            raise _Unusual
        value = event.value
        if not event.implicit[0]:  # quoted or block scalar: always a string
            return value
        if value and self.first_chars is not None and value[0] not in self.first_chars:
            return value
        tag = self.loader.resolve(ScalarNode, value, event.implicit)
        if tag == STR_TAG:
            return value
        if tag not in SIMPLE_TAGS:
            raise _Unusual
        return self.loader.yaml_constructors[tag](self.loader, ScalarNode(tag, value))

    def value(self, event):
        kind = type(event)
        if kind is ScalarEvent:
            return self.scalar(event)
        if event.anchor is not None or getattr(event, "tag", None) not in (None, "!"):
            raise _Unusual  # also aliases: they have an anchor
        next_event, scalar, value = self.loader.get_event, self.scalar, self.value
        # scalars are handled in the loops, one call less each: most of the events are scalars
        if kind is SequenceStartEvent:
            items = []
            event = next_event()
            while type(event) is not SequenceEndEvent:
                items.append(scalar(event) if type(event) is ScalarEvent else value(event))
                event = next_event()
            return items
        if kind is MappingStartEvent:
            mapping = {}
            event = next_event()
            while type(event) is not MappingEndEvent:
                if type(event) is not ScalarEvent:
                    raise _Unusual  # a mapping or list as a key
                key = scalar(event)
                event = next_event()
                mapping[key] = scalar(event) if type(event) is ScalarEvent else value(event)
                event = next_event()
            return mapping
        raise _Unusual

    def document(self):
        get = self.loader.get_event
        if type(get()) is not StreamStartEvent:
            raise _Unusual
        event = get()
        if type(event) is StreamEndEvent:
            return None  # an empty file, as safe_load reads it
        if type(event) is not DocumentStartEvent:
            raise _Unusual
        result = self.value(get())
        if type(get()) is not DocumentEndEvent or type(get()) is not StreamEndEvent:
            raise _Unusual  # several documents: let the full loader say so
        return result


def load_yaml(text: str):
    """The value of one YAML document, as `yaml.safe_load` reads it; raises yaml.YAMLError."""
    loader = LOADER(text)
    try:
        return _Builder(loader).document()
    except _Unusual:
        pass
    finally:
        loader.dispose()
    return yaml.load(text, Loader=LOADER)
