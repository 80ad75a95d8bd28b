"""Registries of spec parts (stems, blocks, transitions, heads). Every built-in part module is
imported here, explicitly, once; then the plugins named by ``ARCHPROBE_PLUGINS`` and the
``archprobe.plugins`` entry points are imported (``plugins.py``), before any spec is read."""

from archprobe.blocks import (  # noqa: F401  (registration side effect)
    basic,
    bottleneck,
    convnext,
    convnext_roadmap,
    efficientnet,
    heads,
    mobilenet,
    plugins,
    regnet,
    res2net,
    resnest,
    shufflenet,
    stems,
    transitions,
    vgg,
)
from archprobe.blocks.base import (
    BLOCKS,
    HEADS,
    PARTS,
    STEMS,
    TRANSITIONS,
    BlockParams,
    HeadParams,
    KnobModel,
    StemParams,
    TransitionParams,
    get_block,
    get_head,
    get_stem,
    get_transition,
    register_block,
    register_head,
    register_stem,
    register_transition,
)

__all__ = [
    "BLOCKS",
    "HEADS",
    "PARTS",
    "STEMS",
    "TRANSITIONS",
    "BlockParams",
    "HeadParams",
    "KnobModel",
    "StemParams",
    "TransitionParams",
    "get_block",
    "get_head",
    "get_stem",
    "get_transition",
    "register_block",
    "register_head",
    "register_stem",
    "register_transition",
]

# Last, so that a plugin importing from this package finds every name above bound; before any
# spec schema is assembled from the registries.
plugins.load_plugins()
