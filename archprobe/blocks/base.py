"""Registries of spec parts: an explicit name maps to a class; a duplicate name is an error.

A network is a stem, stages of blocks (each stage entered through a transition) and a head; each
of the four is a registered part. A part is one class holding ``Params`` (a frozen pydantic model
discriminated by ``type``) and a static ``expand`` that returns graph nodes. The spec schema
assembles ``stem:``, ``block:``, ``transition:`` and ``head:`` from these registries, so a new
part needs no edit in the schema, builder or analyzers (DESIGN §7.6); a plugin registers its own
with the same decorators.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Protocol, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict
from pydantic_core import PydanticCustomError

from archprobe.graph.nodes import Node


class KnobModel(BaseModel):
    """Base of every spec model: immutable, unknown keys are errors (typos never pass), and
    no float field takes NaN or infinity (``.nan`` compares false with every bound, so it
    would pass ``ge``/``le`` checks and poison every count)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


def _exact_int(value: Any) -> Any:
    """Refuse what pydantic's lax Literal matching takes for an int: ``True == 1`` and
    ``2.0 == 2`` in Python, so ``stride: true`` or ``radix: 2.0`` would pass as 1 and 2."""
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "Input should be an integer, not true/false")
    if isinstance(value, float):
        raise PydanticCustomError("int_type", "Input should be an integer, not a float")
    return value


EXACT_INT = BeforeValidator(_exact_int)
"""Metadata for an integer ``Literal`` field (``Annotated[Literal[1, 2], EXACT_INT]``): the
choices as exact ints, as ``StrictInt`` is for other integer fields (pydantic cannot apply
``strict`` to a Literal)."""


class PartParams(KnobModel):
    type: str


class BlockParams(PartParams):
    """Knobs of a block (``block:``)."""


class StemParams(PartParams):
    """Knobs of a stem (``stem:``)."""


class HeadParams(PartParams):
    """Knobs of a head (``head:``)."""


class TransitionParams(PartParams):
    """Knobs of a stage transition (``transition:``)."""


class Block(Protocol):
    Params: ClassVar[type[BlockParams]]

    @staticmethod
    def expand(p: BlockParams, cin: int, cout: int, stride: int, name: str) -> Node:
        """One block from ``cin`` to ``cout`` channels, downsampling by ``stride``."""
        ...


class Stem(Protocol):
    Params: ClassVar[type[StemParams]]

    @staticmethod
    def expand(p: StemParams, in_channels: int) -> tuple[tuple[Node, ...], int]:
        """The stem's top-level nodes and its output width."""
        ...


class Head(Protocol):
    Params: ClassVar[type[HeadParams]]

    @staticmethod
    def expand(p: HeadParams, cin: int) -> tuple[Node, ...]:
        """The head's top-level nodes on ``cin`` channels (pool, classifier, ...)."""
        ...


class Transition(Protocol):
    Params: ClassVar[type[TransitionParams]]

    @staticmethod
    def expand(p: TransitionParams, cin: int, cout: int, stride: int, name: str) -> Node | None:
        """The layers that take a stage from ``cin`` to ``cout`` channels at ``stride``, or None
        to leave that to the stage's first block (ResNet)."""
        ...


BLOCKS: dict[str, type[Block]] = {}
STEMS: dict[str, type[Stem]] = {}
HEADS: dict[str, type[Head]] = {}
TRANSITIONS: dict[str, type[Transition]] = {}

PARTS: dict[str, dict[str, type]] = {
    "stem": STEMS,
    "block": BLOCKS,
    "transition": TRANSITIONS,
    "head": HEADS,
}
"""Every registry by the spec key it fills."""

P = TypeVar("P")


def _register(registry: dict[str, type[P]], what: str, name: str) -> Callable[[type[P]], type[P]]:
    def deco(cls: type[P]) -> type[P]:
        if name in registry:
            raise ValueError(f"{what} {name!r} is already registered by {registry[name].__name__}")
        registry[name] = cls
        return cls

    return deco


def register_block(name: str) -> Callable[[type[Block]], type[Block]]:
    """Class decorator: make a block available as ``block: {type: name}``."""
    return _register(BLOCKS, "block", name)


def register_stem(name: str) -> Callable[[type[Stem]], type[Stem]]:
    """Class decorator: make a stem available as ``stem: {type: name}``."""
    return _register(STEMS, "stem", name)


def register_head(name: str) -> Callable[[type[Head]], type[Head]]:
    """Class decorator: make a head available as ``head: {type: name}``."""
    return _register(HEADS, "head", name)


def register_transition(name: str) -> Callable[[type[Transition]], type[Transition]]:
    """Class decorator: make a transition available as ``transition: {type: name}``."""
    return _register(TRANSITIONS, "transition", name)


def get_block(name: str) -> type[Block]:
    return BLOCKS[name]


def get_stem(name: str) -> type[Stem]:
    return STEMS[name]


def get_head(name: str) -> type[Head]:
    return HEADS[name]


def get_transition(name: str) -> type[Transition]:
    return TRANSITIONS[name]
