"""Block and stem registries: an explicit name maps to a class; a duplicate name is an error.

A block is one class holding ``Params`` (a frozen pydantic model discriminated by ``type``) and
``expand(p, cin, cout, stride, name) -> Node``. The spec schema assembles its ``block:`` union
from this registry, so adding a block needs no edit in the schema, builder or analyzers
(DESIGN §7.6).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from archprobe.graph.nodes import Node


class KnobModel(BaseModel):
    """Base of every spec model: immutable, and unknown keys are errors (typos never pass)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class BlockParams(KnobModel):
    type: str


class StemParams(KnobModel):
    type: str


class Block(Protocol):
    Params: ClassVar[type[BlockParams]]

    @staticmethod
    def expand(p: BlockParams, cin: int, cout: int, stride: int, name: str) -> Node: ...


class Stem(Protocol):
    Params: ClassVar[type[StemParams]]

    @staticmethod
    def expand(p: StemParams, in_channels: int) -> tuple[tuple[Node, ...], int]: ...


BLOCKS: dict[str, type[Block]] = {}
STEMS: dict[str, type[Stem]] = {}

B = TypeVar("B")


def _register(registry: dict[str, type[B]], what: str, name: str) -> Callable[[type[B]], type[B]]:
    def deco(cls: type[B]) -> type[B]:
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


def get_block(name: str) -> type[Block]:
    return BLOCKS[name]


def get_stem(name: str) -> type[Stem]:
    return STEMS[name]
