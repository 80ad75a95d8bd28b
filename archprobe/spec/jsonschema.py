"""JSON Schema of spec *files* (what editors see), derived from the pydantic schema.

Files differ from the validated ``ArchSpec`` in two ways: ``extends:`` may supply any key (so
nothing is required), and a stage entry holds ``depth``/``width``/``stride`` beside block-key
overrides rather than a nested ``block:``.
"""

from __future__ import annotations

from typing import Any

from archprobe.blocks import BLOCKS
from archprobe.spec.generators import GENERATORS
from archprobe.spec.schema import ArchSpec, StageSpec


def file_schema() -> dict[str, Any]:
    schema = ArchSpec.model_json_schema()
    schema["title"] = "archprobe spec file"
    schema.pop("required", None)
    schema["properties"]["extends"] = {
        "description": "Catalog name or path relative to this file, or a list of them; "
        "mappings merge, lists replace, the child wins.",
        "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
    }
    schema["properties"]["trait"] = {
        "description": "This file is a trait (a partial spec) with this catalog name, mixed into "
        "networks with `extends: [base, NAME]`; a trait has no `name`.",
        "type": "string",
    }
    for key, gen in GENERATORS.items():  # consumed before validation, so not in ArchSpec
        sub = gen.Params.model_json_schema()
        schema["$defs"].update(sub.pop("$defs", {}))
        sub.setdefault("description", f"Stage generator: writes `stages:` from `{key}:`.")
        schema["properties"][key] = sub
    stage = StageSpec.model_json_schema()["properties"]
    override_props: dict[str, Any] = {}
    for block in BLOCKS.values():
        for key, prop in block.Params.model_json_schema()["properties"].items():
            override_props.setdefault(key, {"description": prop.get("description", "")})
    stage_props = {k: v for k, v in stage.items() if k != "block"}
    schema["$defs"]["StageEntry"] = {
        "type": "object",
        "description": "A stage: depth, width, stride, plus block keys overriding `block:`.",
        "properties": {**override_props, **stage_props},
        "required": ["depth", "width"],  # stride defaults to 1
        "additionalProperties": False,
    }
    schema["properties"]["stages"]["items"] = {"$ref": "#/$defs/StageEntry"}
    schema["$defs"].pop("StageSpec", None)
    return schema
