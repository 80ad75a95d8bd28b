"""The built-in primitive ops, one module per family; importing this package registers them.

Each op states every fact about itself (shape rule, cost, torch module, memory behaviour, each
counter's convention): see :mod:`archprobe.graph.op`. The list below is explicit, so no op
depends on import order (STYLE rule 6).
"""

from archprobe.graph.op import OPS, GraphError, Op, register_op
from archprobe.graph.ops.activation import (
    GELU,
    Activation,
    Hardsigmoid,
    Hardswish,
    InPlaceActivation,
    ReLU,
    ReLU6,
    ReLUOutOfPlace,
    Sigmoid,
    SiLU,
    SiLUInPlace,
)
from archprobe.graph.ops.channels_last import ChannelsLastLinear
from archprobe.graph.ops.conv import Conv
from archprobe.graph.ops.dropout import Dropout, StochasticDepth
from archprobe.graph.ops.elementwise import Add, Concat, Mul
from archprobe.graph.ops.layer_scale import LayerScale
from archprobe.graph.ops.layernorm import LayerNorm, LayerNorm2d
from archprobe.graph.ops.linear import Linear
from archprobe.graph.ops.norm import BatchNorm
from archprobe.graph.ops.pool import (
    AdaptiveAvgPool,
    AvgPool,
    GlobalAvgPool,
    MaxPool,
    Mean,
    Pool,
)
from archprobe.graph.ops.radix import RadixSum, RadixWeighted, RSoftmax
from archprobe.graph.ops.reshape import Flatten, Permute
from archprobe.graph.ops.shortcut import IdentityPad
from archprobe.graph.ops.shuffle import ChannelShuffle

__all__ = [
    "GELU",
    "OPS",
    "Activation",
    "AdaptiveAvgPool",
    "Add",
    "AvgPool",
    "BatchNorm",
    "ChannelShuffle",
    "ChannelsLastLinear",
    "Concat",
    "Conv",
    "Dropout",
    "Flatten",
    "GlobalAvgPool",
    "GraphError",
    "Hardsigmoid",
    "Hardswish",
    "IdentityPad",
    "InPlaceActivation",
    "LayerNorm",
    "LayerNorm2d",
    "LayerScale",
    "Linear",
    "MaxPool",
    "Mean",
    "Mul",
    "Op",
    "Permute",
    "Pool",
    "RSoftmax",
    "RadixSum",
    "RadixWeighted",
    "ReLU",
    "ReLU6",
    "ReLUOutOfPlace",
    "SiLU",
    "SiLUInPlace",
    "Sigmoid",
    "StochasticDepth",
    "register_op",
]
