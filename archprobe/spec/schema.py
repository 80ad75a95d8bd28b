"""The spec schema: frozen pydantic models with ``extra="forbid"``; one Field description per knob.

``block:`` and ``stem:`` are discriminated unions on ``type``, assembled from the registries in
``archprobe.blocks`` so a new block needs no edit here (DESIGN §7.6).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import Field, PrivateAttr, StrictInt

from archprobe.blocks import BLOCKS, STEMS, BlockParams, StemParams
from archprobe.blocks.base import KnobModel
from archprobe.spec.published import Published


def _union(classes: list[type[Any]]) -> Any:
    return Annotated[Union[tuple(classes)], Field(discriminator="type")]  # noqa: UP007


if TYPE_CHECKING:
    AnyBlock = BlockParams
    AnyStem = StemParams
else:
    AnyBlock = _union([b.Params for b in BLOCKS.values()])
    AnyStem = _union([s.Params for s in STEMS.values()])


class InputSpec(KnobModel):
    channels: StrictInt = Field(3, ge=1, le=65536, description="Input channels (3 for RGB).")
    size: StrictInt = Field(
        224,
        ge=1,
        le=16384,
        description="Square input resolution in pixels (224 ImageNet, 32 CIFAR).",
    )


class HeadSpec(KnobModel):
    pool: Literal["avg"] = Field("avg", description="Global pooling before the classifier.")
    classes: StrictInt = Field(1000, ge=1, le=1048576, description="Outputs of the final fc layer.")


class StageSpec(KnobModel):
    depth: StrictInt = Field(
        ge=1, le=1000, description="Number of blocks in the stage (ResNet Table 1 '×n')."
    )
    width: StrictInt = Field(
        ge=1,
        le=65536,
        description="Output channels of every block (256/512/1024/2048 in ResNet-50).",
    )
    stride: Literal[1, 2] = Field(
        description="Stride of the first block (2 halves the resolution)."
    )
    block: AnyBlock = Field(
        description="Block of this stage: the model-level `block:` with this stage's overrides."
    )


class ArchSpec(KnobModel):
    """A whole network: input, stem, stages of blocks, head."""

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
    stages: tuple[StageSpec, ...] = Field(min_length=1, description="Stages, in order.")
    head: HeadSpec = Field(default_factory=HeadSpec, description="Pool and classifier.")

    _source: Any = PrivateAttr(default=None)  # SourceMap of the file it came from, if any

    @property
    def source(self) -> Any:
        """Where each key path was set (``archprobe.spec.strict_yaml.SourceMap``), or None."""
        return self._source


STAGE_KEYS = frozenset(StageSpec.model_fields) - {"block"}
