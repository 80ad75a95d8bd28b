"""The spec schema: frozen pydantic models with ``extra="forbid"``; one Field description per knob.

``stem:``, ``block:``, ``transition:`` and ``head:`` are discriminated unions on ``type``,
assembled from the part registries in ``archprobe.blocks`` (plugins included), so a new part needs
no edit here (DESIGN §7.6). ``transition:`` and ``head:`` have a default type (``none``,
``classifier``), so a spec that omits them, or their ``type``, is a ResNet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import Discriminator, Field, PrivateAttr, StrictInt, Tag, field_validator

from archprobe.blocks import (
    BLOCKS,
    HEADS,
    STEMS,
    TRANSITIONS,
    BlockParams,
    HeadParams,
    KnobModel,
    StemParams,
    TransitionParams,
)
from archprobe.blocks.base import EXACT_INT
from archprobe.blocks.layout import LayoutParams
from archprobe.spec.limits import MAX_BLOCKS, MAX_STAGES
from archprobe.spec.published import Published


def _union(registry: dict[str, Any], default: str | None = None) -> Any:
    """The registered parts' ``Params`` as one type discriminated by ``type``; with a ``default``,
    a mapping without ``type`` (or a value that is no mapping, which then fails as one) is that
    part. A registry of one part is that part's model."""
    members = [part.Params for part in registry.values()]
    if len(members) == 1:
        return members[0]
    if default is None:
        return Annotated[Union[tuple(members)], Field(discriminator="type")]  # noqa: UP007

    def tag(value: Any) -> Any:
        if isinstance(value, dict):
            return value.get("type", default)
        return getattr(value, "type", default)

    tagged = tuple(Annotated[part.Params, Tag(name)] for name, part in registry.items())
    return Annotated[Union[tagged], Discriminator(tag)]  # noqa: UP007


DEFAULT_TYPES = {"head": "classifier", "transition": "none"}
"""The part type of a ``head:`` or ``transition:`` mapping that names none."""

if TYPE_CHECKING:
    AnyBlock = BlockParams
    AnyStem = StemParams
    AnyHead = HeadParams
    AnyTransition = TransitionParams
else:
    AnyBlock = _union(BLOCKS)
    AnyStem = _union(STEMS)
    AnyHead = _union(HEADS, DEFAULT_TYPES["head"])
    AnyTransition = _union(TRANSITIONS, DEFAULT_TYPES["transition"])


def _default(key: str) -> Any:
    """The default ``head:`` or ``transition:``: its default type with every knob's default."""
    registry: dict[str, Any] = HEADS if key == "head" else TRANSITIONS
    return registry[DEFAULT_TYPES[key]].Params.model_validate({})


class InputSpec(KnobModel):
    channels: StrictInt = Field(3, ge=1, le=65536, description="Input channels (3 for RGB).")
    size: StrictInt = Field(
        224,
        ge=1,
        le=16384,
        description="Square input resolution in pixels (224 ImageNet, 32 CIFAR).",
    )


class StageSpec(KnobModel):
    depth: StrictInt = Field(
        ge=1, le=1000, description="Number of blocks in the stage (ResNet Table 1 '×n')."
    )
    width: StrictInt = Field(
        ge=1,
        le=65536,
        description="Output channels of every block (256/512/1024/2048 in ResNet-50).",
    )
    stride: Annotated[Literal[1, 2], EXACT_INT] = Field(
        1, description="Stride of the first block (2 halves the resolution; default 1)."
    )
    block: AnyBlock = Field(
        description="Block of this stage: the model-level `block:` with this stage's overrides."
    )


class ArchSpec(KnobModel):
    """A whole network: input, stem, stages of blocks (entered through transitions), head."""

    name: str = Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$", description="Catalog name.")
    aliases: tuple[str, ...] = Field((), description="Other catalog names (not inherited).")
    paper: str | None = Field(None, description="Where the architecture is defined.")
    published: tuple[Published, ...] = Field(
        (), description="Complexity figures as printed in papers or model zoos (not inherited)."
    )
    input: InputSpec = Field(default_factory=InputSpec, description="Input tensor per sample.")
    stem: AnyStem = Field(description="Layers before the first stage (ResNet Table 1 conv1).")
    block: AnyBlock = Field(
        description=(
            "Default block for every stage; a stage entry may override any key of it "
            "(`- {depth: 3, width: 256, stride: 1, groups: 1}`)."
        )
    )
    transition: AnyTransition = Field(
        default_factory=lambda: _default("transition"),
        description="Layers between stages where the shape changes (none: the first block).",
    )
    stages: tuple[StageSpec, ...] = Field(
        min_length=1, max_length=MAX_STAGES, description="Stages, in order."
    )
    head: AnyHead = Field(
        default_factory=lambda: _default("head"),
        description="Layers after the last stage: pool and classifier by default.",
    )
    layout: LayoutParams = Field(
        default_factory=LayoutParams,
        description="Module names of the parts (default: torchvision's ResNet names).",
    )

    @field_validator("stages")
    @classmethod
    def _blocks_within_budget(cls, stages: tuple[StageSpec, ...]) -> tuple[StageSpec, ...]:
        blocks = sum(s.depth for s in stages)
        if blocks > MAX_BLOCKS:
            raise ValueError(f"{blocks:,} blocks in all (the sum of depths), over the limit of "
                             f"{MAX_BLOCKS:,}")  # fmt: skip
        return stages

    _source: Any = PrivateAttr(default=None)  # SourceMap of the file it came from, if any

    @property
    def source(self) -> Any:
        """Where each key path was set (``archprobe.spec.strict_yaml.SourceMap``), or None."""
        return self._source


STAGE_KEYS = frozenset(StageSpec.model_fields) - {"block"}
