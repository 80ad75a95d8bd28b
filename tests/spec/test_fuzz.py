"""Fuzz: a mutated spec file either loads and expands, or fails with a *located* SpecError.

Mutations of valid catalog specs: a value replaced by a wrong type, a negative number or random
text; a key or a line deleted; an unknown key inserted; a key duplicated; YAML junk characters
inserted; the text truncated. Whatever comes out, ``load_spec`` + ``expand`` may only raise
``archprobe.errors.SpecError`` with a file location, never any other exception.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archprobe.errors import SpecError, SpecErrors
from archprobe.spec import load_spec
from archprobe.spec.expand import expand

SPECS = Path(__file__).resolve().parent.parent.parent / "specs"

MIXED = """\
extends: [resnet50]
name: fuzz_mixed
aliases: [fm, fuzz-mixed]
input: {channels: 3, size: 64}
block: {groups: 8, width_per_group: 8, stride_on: 1x1}
stages:
  - {depth: 1, width: 256, stride: 1, groups: 1}
  - {depth: 1, width: 512, stride: 2, type: basic, shortcut: conv1x1}
head: {pool: avg, classes: 10}
"""

SOURCES = [
    (SPECS / "resnet" / "resnet18.yaml").read_text(encoding="utf-8"),
    (SPECS / "resnet" / "resnet50.yaml").read_text(encoding="utf-8"),
    (SPECS / "resnext" / "resnext50_32x4d.yaml").read_text(encoding="utf-8"),
    (SPECS / "cifar" / "resnet20.yaml").read_text(encoding="utf-8"),
    MIXED,
]

# `key: value` inside flow or block mappings; the value stops at a flow delimiter or a comment.
PAIR = re.compile(r"(?P<key>[A-Za-z_][A-Za-z0-9_]*): *(?P<value>[^,{}\[\]\n#]*)")

# Digits stay out of free text and junk: a long digit run as `depth` is a valid, huge network.
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Nd")), min_size=0, max_size=8)
# fmt: off
SPECIAL_VALUES = [
    "-1", "0", "3", "2.5", "2e0", ".inf", "-.inf", ".nan", "017", "0o17", "0x10",
    "true", "false", "yes", "no", "on", "null", "~", "''", '""', "[]", "{}", "[1, 2]",
    "{a: 1}", "basic", "bottleneck", "cifar", "conv7x7", "1x1", "3x3", "identity_pad",
    "none", "max", "avg", "resnet50", "resnet5", "../resnet/resnet50.yaml", "nope.yaml",
    "/", "!!int x", "!!bool yes", "!!python/object:os.system", "!!str", "*undefined",
    "&a 1", "|", ">", "'unterminated", '"\\x1b"', "2016-12-10", "1_000", "\t",
]
JUNK_CHARS = [*"{}[]:,-?&*!|>'\"%@`#\t\n ~", "\n---\n", "<<: ", "\x00", "\ufeff"]
# fmt: on
BAD_VALUES = st.one_of(
    st.integers(min_value=-3, max_value=300).map(str), st.sampled_from(SPECIAL_VALUES), TEXT
)
JUNK: st.SearchStrategy[str] = st.sampled_from(JUNK_CHARS)
UNKNOWN_KEYS = st.sampled_from(["bogus", "width_per_grup", "grups", "stage", "strides", "block"])
MUTATIONS = [
    "value",
    "delete_pair",
    "delete_line",
    "unknown_key",
    "duplicate_pair",
    "duplicate_line",
    "junk",
    "truncate",
]


def mutate(text: str, kind: str, data: st.DataObject) -> str:
    """Apply one mutation of ``kind``; positions and replacements are drawn from ``data``."""
    pairs = list(PAIR.finditer(text))
    lines = text.splitlines(keepends=True)
    if kind in ("value", "delete_pair", "duplicate_pair") and pairs:
        m = data.draw(st.sampled_from(pairs))
        if kind == "value":
            new = data.draw(BAD_VALUES)
            return text[: m.start("value")] + new + text[m.end("value") :]
        if kind == "delete_pair":
            end = m.end() + 2 if text[m.end() : m.end() + 2] == ", " else m.end()
            return text[: m.start()] + text[end:]
        return text[: m.end()] + ", " + m.group(0) + text[m.end() :]
    if kind in ("delete_line", "duplicate_line") and lines:
        i = data.draw(st.integers(0, len(lines) - 1))
        extra = [lines[i]] if kind == "duplicate_line" else []
        return "".join(lines[:i] + extra + lines[i + 1 :])
    if kind == "unknown_key":
        key, value = data.draw(UNKNOWN_KEYS), data.draw(BAD_VALUES)
        braces = [i for i, c in enumerate(text) if c == "{"]
        into_flow_mapping = data.draw(st.booleans())
        if braces and into_flow_mapping:
            at = data.draw(st.sampled_from(braces)) + 1
            return f"{text[:at]}{key}: {value}, {text[at:]}"
        return f"{key}: {value}\n{text}"
    if kind == "junk":
        at, junk = data.draw(st.integers(0, len(text))), data.draw(JUNK)
        return text[:at] + junk + text[at:]
    at = data.draw(st.integers(0, len(text)))  # truncate (also the fallback)
    return text[:at]


def check(text: str) -> None:
    """Load and expand ``text`` from a file; only a located SpecError may come out."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            expand(load_spec(path))
        except SpecError as exc:
            parts = exc.errors if isinstance(exc, SpecErrors) else [exc]
            for part in parts:
                assert part.loc is not None, f"unlocated error: {part.format()}"
            assert exc.format()


def test_sources_are_valid() -> None:
    for text in SOURCES:
        check(text)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "ok.yaml"
            path.write_text(text, encoding="utf-8")
            expand(load_spec(path))


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    source=st.sampled_from(SOURCES),
    kinds=st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=3),
    data=st.data(),
)
def test_mutated_specs_fail_only_with_located_spec_errors(
    source: str, kinds: list[str], data: st.DataObject
) -> None:
    text = source
    for kind in kinds:
        text = mutate(text, kind, data)
    check(text)
