"""Load a spec: catalog lookup, strict YAML, ``extends:``, per-stage block defaults, validation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from archprobe.blocks import plugins
from archprobe.errors import SpecError
from archprobe.spec.catalog import find_spec
from archprobe.spec.errors_map import to_spec_error
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


def validate(doc: dict[str, Any], smap: SourceMap) -> ArchSpec:
    """Validate merged spec data; errors carry the file:line:col that set the bad key."""
    plugins.check()  # a plugin that failed would otherwise show as an "unknown block type"
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


def spec_from_dict(data: dict[str, Any], origin: str = "<dict>") -> ArchSpec:
    """Validate a spec given as plain data (stage overrides allowed, no ``extends``)."""
    from archprobe.errors import SourceLoc

    if "extends" in data:
        raise SpecError("extends is only supported in spec files", None, "extends")
    return validate(data, {(): Located(None, SourceLoc(Path(origin), 1, 1))})
