"""Load a spec: catalog lookup, strict YAML, ``extends:``, per-stage block defaults, validation.

A trait (a partial spec with a ``trait:`` key, ``specs/traits/``) is refused here with the fix,
``extends: [base, trait]``, rather than validated as a network missing half its keys.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from archprobe.blocks import plugins
from archprobe.errors import SpecError
from archprobe.spec.catalog import find_spec
from archprobe.spec.errors_map import to_spec_error
from archprobe.spec.generators import generate
from archprobe.spec.merge import load_merged
from archprobe.spec.schema import STAGE_KEYS, ArchSpec
from archprobe.spec.strict_yaml import KeyPath, Located, SourceMap


def _stage_block(
    stage: dict[str, Any], default: Any, i: int, smap: SourceMap
) -> tuple[dict[str, Any], SourceMap]:
    """Model-level ``block:`` overridden by this stage's block keys (timm ByoModelCfg rule).

    A stage that switches ``type`` starts from an empty block: the default's knobs belong to
    another block type.
    """
    overrides = {k: v for k, v in stage.items() if k not in STAGE_KEYS}
    if isinstance(overrides.get("block"), dict):  # an already-resolved stage (model_dump output)
        overrides = {**overrides.pop("block"), **overrides}
    base = default if isinstance(default, dict) else {}
    if "type" in overrides and overrides["type"] != base.get("type"):
        base = {}
    block = {**base, **overrides}
    located: SourceMap = {}
    for key in block:
        origin: KeyPath = ("stages", i, key) if key in overrides else ("block", key)
        if origin in smap:
            located[("stages", i, "block", key)] = smap[origin]
    return block, located


def resolve_stages(doc: dict[str, Any], smap: SourceMap) -> tuple[dict[str, Any], SourceMap]:
    """Rewrite every stage entry as ``{depth, width, stride, block: {...}}``."""
    stages = doc.get("stages")
    if not isinstance(stages, list):
        return doc, smap
    smap = dict(smap)
    resolved = []
    for i, stage in enumerate(stages):
        if not isinstance(stage, dict):
            resolved.append(stage)
            continue
        block, located = _stage_block(stage, doc.get("block"), i, smap)
        smap[("stages", i, "block")] = smap.get(("stages", i), smap[()])
        smap.update(located)
        resolved.append({**{k: v for k, v in stage.items() if k in STAGE_KEYS}, "block": block})
    return {**doc, "stages": resolved}, smap


def trait_settings(doc: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """The dotted key paths a (merged) partial spec sets, with their values; ``trait`` left out.

    Mappings are walked (``stem: {type: deep}`` sets ``stem.type``); a list, a scalar or
    ``null`` is one setting, as ``extends:`` replaces them whole.
    """
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if not prefix and key == "trait":
            continue
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(trait_settings(value, path + "."))
        else:
            out[path] = value
    return out


def _refuse_trait(doc: dict[str, Any], smap: SourceMap) -> None:
    """A trait is half a network: say so, and how to use it, instead of a validation dump."""
    if "trait" not in doc:
        return
    name = doc["trait"]
    sets = list(trait_settings(doc))
    shown = ", ".join(sets[:4]) + (", ..." if len(sets) > 4 else "")
    raise SpecError(
        f"{name!r} is a trait (a partial spec{' setting ' + shown if sets else ''}), not a "
        f"network; mix it into one in a spec file: `extends: [resnet50, {name}]`",
        smap[("trait",)].value if ("trait",) in smap else smap[()].value,
        "trait",
    )


def validate(doc: dict[str, Any], smap: SourceMap) -> ArchSpec:
    """Validate merged spec data; errors carry the file:line:col that set the bad key.

    Raises:
        SpecError: located; for a trait, one line naming it and ``extends: [base, trait]``.
    """
    _refuse_trait(doc, smap)
    plugins.check()  # a plugin that failed would otherwise show as an "unknown block type"
    doc, smap = generate(doc, smap)
    data, smap = resolve_stages(doc, smap)
    try:
        spec = ArchSpec.model_validate(data)
    except ValidationError as exc:
        raise to_spec_error(exc, data, smap) from None
    spec._source = smap
    return spec


def load_spec(ref: str | Path) -> ArchSpec:
    """Load a spec by catalog name or alias, or from a YAML path.

    Raises:
        SpecError: with ``file:line:col`` for every problem found.
    """
    path = ref if isinstance(ref, Path) else find_spec(ref)
    doc, smap = load_merged(path, find_spec)
    return validate(doc, smap)


def check_file(path: Path) -> None:
    """Validate a spec file as what it is: a network in full, a trait as far as a partial spec
    goes (its YAML, its ``extends:`` and its ``trait:`` key).

    Raises:
        SpecError: located, for every problem found.
    """
    doc, smap = load_merged(path, find_spec)
    if "trait" not in doc:
        validate(doc, smap)


def load_trait(ref: str | Path) -> dict[str, Any]:
    """What a trait (catalog name or path) sets, after its own ``extends:``: dotted key paths
    and values, e.g. ``{"stem.type": "deep", "stem.stem_width": 32}``.

    Raises:
        SpecError: when ``ref`` is no trait (a network, a partial spec without ``trait:``).
    """
    path = ref if isinstance(ref, Path) else find_spec(ref)
    doc, smap = load_merged(path, find_spec)
    if "trait" not in doc:
        where = smap[()].value
        raise SpecError(
            f"{str(ref)!r} is not a trait (a trait file has a `trait: NAME` key)", where
        )
    return trait_settings(doc)


def spec_from_dict(data: dict[str, Any], origin: str = "<dict>") -> ArchSpec:
    """Validate a spec given as plain data (stage overrides allowed, no ``extends``)."""
    from archprobe.errors import SourceLoc

    if "extends" in data:
        raise SpecError("extends is only supported in spec files", None, "extends")
    return validate(data, {(): Located(None, SourceLoc(Path(origin), 1, 1))})
