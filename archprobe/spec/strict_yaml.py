"""A strict YAML reader that returns plain data plus the source location of every key path.

PyYAML's defaults are YAML 1.1, whose surprises are the reason this module exists (DESIGN §7.7):
``1e9`` is read as the *string* '1e9', ``on``/``yes`` become ``True``, ``017`` becomes 15, and a
duplicated key silently keeps the last value. Here: YAML 1.2 core booleans (true/false) only,
floats with or without a dot, no octal, no timestamps, no Python or custom tags, and duplicate
keys are errors.

libyaml (PyYAML's C parser) composes the node tree when it is installed, several times faster
than the pure-Python reader; both feed the same resolver and the same conversion below, so data,
locations and strictness rules are one code path. A document libyaml rejects is parsed again by
the pure-Python loader, so every syntax error keeps the message and location users know.
Before conversion, the node tree's size after alias expansion and its depth are checked against
:mod:`archprobe.spec.limits`, so a few hundred bytes of nested aliases fail at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from archprobe.errors import SourceLoc, SpecError
from archprobe.spec.limits import MAX_STRING_CHARS, MAX_YAML_DEPTH, MAX_YAML_NODES

KeyPath = tuple[str | int, ...]

_ALLOWED_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}
_LEADING_ZERO = re.compile(r"^[-+]?0[0-9]+$")


@dataclass(frozen=True)
class Located:
    """Where a key path was set: the key itself (None for list items) and its value."""

    key: SourceLoc | None
    value: SourceLoc


SourceMap = dict[KeyPath, Located]


class StrictLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core-schema scalars instead of YAML 1.1's."""


# YAML 1.2 core-schema scalars. The same patterns check explicitly tagged scalars (``!!int '017'``,
# ``!!bool yes``), which PyYAML's SafeConstructor would otherwise read with YAML 1.1 rules.
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_SCALAR_PATTERNS = {
    "tag:yaml.org,2002:bool": _BOOL,
    "tag:yaml.org,2002:int": _INT,
    "tag:yaml.org,2002:float": _FLOAT,
    "tag:yaml.org,2002:null": _NULL,
}
_COLLECTION_TAGS: dict[type[yaml.Node], str] = {
    yaml.MappingNode: "tag:yaml.org,2002:map",
    yaml.SequenceNode: "tag:yaml.org,2002:seq",
}

# Replace the implicit resolvers wholesale: YAML 1.1's bool/int/float/timestamp rules are the trap.
StrictLoader.yaml_implicit_resolvers = {}
StrictLoader.add_implicit_resolver("tag:yaml.org,2002:bool", _BOOL, list("tTfF"))
StrictLoader.add_implicit_resolver("tag:yaml.org,2002:int", _INT, list("-+0123456789"))
StrictLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))
StrictLoader.add_implicit_resolver("tag:yaml.org,2002:null", _NULL, ["~", "n", "N", ""])


FAST = bool(getattr(yaml, "__with_libyaml__", False))
"""Whether libyaml composes spec files (PyYAML built with it); else the pure-Python reader."""

if FAST:
    from yaml._yaml import CParser

    class _FastLoader(CParser, yaml.resolver.BaseResolver):
        """libyaml's composer with :class:`StrictLoader`'s resolver (YAML 1.2 core scalars)."""

        yaml_implicit_resolvers = StrictLoader.yaml_implicit_resolvers

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            yaml.resolver.BaseResolver.__init__(self)


def _fast_node(text: str) -> yaml.Node | bool | None:
    """The document's node tree composed by libyaml, or False where the pure-Python loader must
    read it: no libyaml, a character its reader rejects, or any libyaml error (so the message
    and location are the ones the pure-Python loader gives)."""
    if not FAST or yaml.reader.Reader.NON_PRINTABLE.search(text):
        return False
    loader = _FastLoader(text)
    try:
        node: yaml.Node | None = loader.get_single_node()
    except yaml.YAMLError:
        return False
    finally:
        loader.dispose()
    return node


def _loc(file: Path, mark: yaml.Mark) -> SourceLoc:
    return SourceLoc(file, mark.line + 1, mark.column + 1)


def _short(tag: str) -> str:
    """A tag as written in the file: ``!!python/object`` rather than ``tag:yaml.org,2002:...``."""
    prefix = "tag:yaml.org,2002:"
    return "!!" + tag[len(prefix) :] if tag.startswith(prefix) else tag


def _dotted(path: KeyPath) -> str:
    return ".".join(str(p) for p in path)


def _scalar(node: yaml.ScalarNode, file: Path, path: KeyPath) -> Any:
    text, tag = node.value, node.tag
    if tag == "tag:yaml.org,2002:int" and _LEADING_ZERO.match(text):
        raise SpecError(
            f"ambiguous number {text!r}: YAML 1.1 reads a leading zero as octal; "
            f"write {int(text, 10)} (decimal) or 0o{text.lstrip('+-0') or '0'} (octal)",
            _loc(file, node.start_mark),
            _dotted(path),
        )
    pattern = _SCALAR_PATTERNS.get(tag)
    if pattern is not None and not pattern.match(text):  # only an explicit tag gets here
        raise SpecError(
            f"{text!r} is not a valid {tag.rsplit(':', 1)[-1]} (YAML 1.2 core schema)",
            _loc(file, node.start_mark),
            _dotted(path),
        )
    if tag == "tag:yaml.org,2002:bool":
        return text.lower() == "true"
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:int":
        return int(text[2:], 8) if text.startswith("0o") else int(text, 0)
    if tag == "tag:yaml.org,2002:float":
        return float(text.lower().replace(".inf", "inf").replace(".nan", "nan"))
    if tag != "tag:yaml.org,2002:str":
        raise SpecError(
            f"tag {_short(tag)} cannot be used on a single value",
            _loc(file, node.start_mark),
            _dotted(path),
        )
    return text


def _check_tag(node: yaml.Node, file: Path, path: KeyPath) -> None:
    """Only plain YAML data: no Python tags, no merge keys, no tag on the wrong kind of node."""
    if node.tag not in _ALLOWED_TAGS:
        hint = "; use `extends:` to reuse another spec" if node.tag.endswith(":merge") else ""
        raise SpecError(
            f"tag {_short(node.tag)} is not allowed in spec files (plain YAML data only{hint})",
            _loc(file, node.start_mark),
            _dotted(path),
        )
    collection_tag = _COLLECTION_TAGS.get(type(node))
    if collection_tag is not None and node.tag != collection_tag:
        raise SpecError(
            f"tag {_short(node.tag)} cannot be used on a {type(node).__name__[:-4].lower()}",
            _loc(file, node.start_mark),
            _dotted(path),
        )


def _key(
    key_node: yaml.Node, file: Path, path: KeyPath, out: dict[str, Any], smap: SourceMap
) -> str:
    """A mapping key: a string, not ``<<``, not seen before in this mapping."""
    key = _convert(key_node, file, path, {})
    where = _loc(file, key_node.start_mark)
    if not isinstance(key, str):
        raise SpecError(f"keys must be strings, got {key!r}", where, _dotted(path))
    if key == "<<":
        raise SpecError(
            "YAML merge keys (<<) are not supported; use `extends:` to reuse another spec",
            where,
            _dotted(path),
        )
    if key in out:
        first = smap[(*path, key)].key
        raise SpecError(
            f"duplicate key {key!r} (first set at {first}); YAML would silently keep the last",
            where,
            _dotted((*path, key)),
        )
    return key


def _mapping(node: yaml.MappingNode, file: Path, path: KeyPath, smap: SourceMap) -> Any:
    out: dict[str, Any] = {}
    for key_node, value_node in node.value:
        key = _key(key_node, file, path, out, smap)
        child = (*path, key)
        smap[child] = Located(_loc(file, key_node.start_mark), _loc(file, value_node.start_mark))
        out[key] = _convert(value_node, file, child, smap)
    return out


def _convert(node: yaml.Node, file: Path, path: KeyPath, smap: SourceMap) -> Any:
    """Turn a composed node into plain data, recording the location of every key path."""
    _check_tag(node, file, path)
    if isinstance(node, yaml.MappingNode):
        return _mapping(node, file, path, smap)
    if isinstance(node, yaml.SequenceNode):
        items = []
        for i, item in enumerate(node.value):
            smap[(*path, i)] = Located(None, _loc(file, item.start_mark))
            items.append(_convert(item, file, (*path, i), smap))
        return items
    assert isinstance(node, yaml.ScalarNode)  # the composer yields only these three kinds
    return _scalar(node, file, path)


_CYCLE = "an alias (*name) inside the node its anchor (&name) marks"


class _Budget:
    """Sizes of a node tree after alias expansion, computed once per distinct node.

    An alias is the very node its anchor marks, so memoising by identity keeps this linear in the
    file while it counts what conversion would build (``a: &a [*b, *b, ...]`` multiplies).
    """

    def __init__(self, file: Path) -> None:
        self.file = file
        self.sizes: dict[int, int] = {}
        self.open: set[int] = set()

    def fail(self, node: yaml.Node, message: str) -> SpecError:
        return SpecError(message, _loc(self.file, node.start_mark))

    def size(self, node: yaml.Node, depth: int = 1) -> int:
        key = id(node)
        if key in self.sizes:
            return self.sizes[key]
        if key in self.open:
            raise self.fail(node, f"YAML error: {_CYCLE} (a value that contains itself)")
        if depth > MAX_YAML_DEPTH:
            raise self.fail(node, f"YAML nested more than {MAX_YAML_DEPTH} levels deep (limit)")
        if isinstance(node, yaml.ScalarNode):
            if len(node.value) > MAX_STRING_CHARS:
                raise self.fail(
                    node, f"a value of {len(node.value):,} characters (limit {MAX_STRING_CHARS:,})"
                )
            return 1
        self.open.add(key)
        pairs = node.value if isinstance(node, yaml.MappingNode) else [(n,) for n in node.value]
        n = 1 + sum(self.size(child, depth + 1) for pair in pairs for child in pair)
        self.open.discard(key)
        if n > MAX_YAML_NODES:
            raise self.fail(
                node,
                f"this value expands to {n:,} YAML values, over the limit of {MAX_YAML_NODES:,} "
                "(each alias *name counts as a copy of what its anchor &name marks)",
            )
        self.sizes[key] = n
        return n


def _reader_error(text: str, file: Path, exc: yaml.reader.ReaderError) -> SpecError:
    pos = exc.position
    line_start = text.rfind("\n", 0, pos) + 1
    where = SourceLoc(file, text.count("\n", 0, pos) + 1, pos - line_start + 1)
    char = exc.character if isinstance(exc.character, int) else ord(exc.character)
    return SpecError(f"YAML syntax error: control character U+{char:04X} is not allowed", where)


def _syntax_error(file: Path, exc: yaml.MarkedYAMLError) -> SpecError:
    mark = exc.problem_mark or exc.context_mark
    loc = _loc(file, mark) if mark else SourceLoc(file, 1, 1)
    problem = exc.problem or exc.context or "invalid YAML"
    if exc.problem and exc.context and exc.context_mark:  # where the unclosed thing began
        problem += f" ({exc.context} at {_loc(file, exc.context_mark)})"
    if "'\\t'" in problem:
        problem += "; indent with spaces, YAML does not allow tabs"
    return SpecError(f"YAML syntax error: {problem}", loc)


def _slow_node(text: str, file: Path) -> yaml.Node | None:
    """The node tree composed by the pure-Python loader (its errors as located SpecErrors)."""
    try:
        loader = StrictLoader(text)  # checks every character up front
    except yaml.reader.ReaderError as exc:
        raise _reader_error(text, file, exc) from None
    try:
        node: yaml.Node | None = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(file, exc) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"YAML error: {exc}", SourceLoc(file, 1, 1)) from None
    except RecursionError:
        raise SpecError(f"YAML nested too deeply, or {_CYCLE}", SourceLoc(file, 1, 1)) from None
    finally:
        loader.dispose()
    return node


def load_yaml(text: str, file: Path) -> tuple[Any, SourceMap]:
    """Parse one YAML document strictly.

    Returns:
        The data (dicts, lists, scalars) and a map from key path to source location; the empty
        path maps to the document start.

    Raises:
        SpecError: on a syntax error, a duplicate key, a disallowed tag, an ambiguous number, a
            value its explicit tag cannot read (``!!int abc``), or a document over the budgets
            of :mod:`archprobe.spec.limits` (alias expansion, depth, string length).
    """
    fast = _fast_node(text)
    node = _slow_node(text, file) if fast is False else fast
    smap: SourceMap = {(): Located(None, SourceLoc(file, 1, 1))}
    if node is None:
        return None, smap
    assert isinstance(node, yaml.Node)
    _Budget(file).size(node)
    return _convert(node, file, (), smap), smap
