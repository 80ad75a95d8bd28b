"""Block and stem registries. Every block module is imported here, explicitly, once."""

from archprobe.blocks import basic, bottleneck, res2net, resnest, stems  # noqa: F401  (registration side effect)
from archprobe.blocks.base import (
    BLOCKS,
    STEMS,
    BlockParams,
    StemParams,
    get_block,
    get_stem,
    register_block,
    register_stem,
)

__all__ = [
    "BLOCKS",
    "STEMS",
    "BlockParams",
    "StemParams",
    "get_block",
    "get_stem",
    "register_block",
    "register_stem",
]
