"""Any broken registry file gives `registry_invalid` naming the field, never another error.

Hypothesis breaks the shipped registry one way at a time (a field removed, retyped, added, a
tool entry mangled, the top level replaced) and also mangles its text (cut short, bytes
spliced in); a change that happens to stay valid must load and route like any registry.
"""

from __future__ import annotations

import copy
import os
import shutil

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skills.errors import RegistryInvalid
from skills.registry.loader import build_registry, load_registry, validate
from tests.fixtures.scripts import ROOT

SHIPPED_PATH = os.path.join(ROOT, "registry", "agents.yaml")
with open(SHIPPED_PATH, encoding="utf-8") as _handle:
    SHIPPED_TEXT = _handle.read()
SHIPPED = yaml.safe_load(SHIPPED_TEXT)
AGENT_FIELDS = sorted({key for agent in SHIPPED["agents"] for key in agent})
# fields whose value other fields depend on: breaking one may be reported at its partner
PARTNERS = {"tools": {"default_tool"}, "id": {"id"}, "default_tool": {"tools"}}

anything = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


@st.composite
def broken_documents(draw) -> tuple[dict, str]:
    """(document, the field the break is in)."""
    document = copy.deepcopy(SHIPPED)
    index = draw(st.integers(0, len(document["agents"]) - 1))
    agent = document["agents"][index]
    how = draw(st.sampled_from(["remove", "retype", "add", "tool", "top"]))
    if how == "remove":
        field = draw(st.sampled_from(sorted(agent)))
        del agent[field]
    elif how == "retype":
        field = draw(st.sampled_from(AGENT_FIELDS))
        agent[field] = draw(anything)
    elif how == "add":
        field = draw(st.from_regex(r"[a-z_]{1,10}", fullmatch=True).filter(lambda name: name not in AGENT_FIELDS))
        agent[field] = draw(anything)
    elif how == "tool" and agent.get("tools"):
        field = "tools"
        position = draw(st.integers(0, len(agent["tools"]) - 1))
        key = draw(st.sampled_from(["name", "triggers", "examples", "extra"]))
        agent["tools"][position][key] = draw(anything)
    else:
        field = draw(st.sampled_from(["agents", "version", "extra"]))
        document[field] = draw(anything)
    return document, field


def write(tmp_path, text: str) -> str:
    """The text as agents.yaml beside a copy of the shipped lexicons (data agents name theirs relative to it)."""
    shutil.copytree(os.path.join(ROOT, "registry", "lexicon"), tmp_path / "lexicon", dirs_exist_ok=True)
    path = tmp_path / "agents.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    return str(path)


@settings(max_examples=100, deadline=None)
@given(broken=broken_documents())
def test_a_broken_registry_is_registry_invalid_naming_the_field(broken):
    """Validation and the routing index straight from the document (the YAML step is fuzzed below)."""
    document, field = broken
    try:
        registry = build_registry(validate(document, "agents.yaml"), "agents.yaml")
    except RegistryInvalid as error:
        named = (error.field or "").split(".")[0].split("[")[0]
        if field == "agents" and (error.details or {}).get("agent"):
            # a replaced agents list holds agents that are broken themselves: the error names
            # the agent and its field (any key, even an empty one)
            assert error.field is not None, error.message
        else:
            assert named in {field} | PARTNERS.get(field, set()), (field, error.field, error.message)
        assert error.message.startswith("agents.yaml: ")
        return
    assert registry["agents"]  # the change happened to be valid: it builds like any registry


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, len(SHIPPED_TEXT)), junk=st.binary(max_size=8))
def test_a_mangled_registry_file_is_registry_invalid_or_loads(tmp_path, cut, junk):
    text = SHIPPED_TEXT[:cut] + junk.decode("utf-8", "surrogateescape") + SHIPPED_TEXT[cut:]
    path = write(tmp_path, text)
    try:
        load_registry(path)
    except RegistryInvalid as error:
        assert error.code == "registry_invalid" and path in error.message
