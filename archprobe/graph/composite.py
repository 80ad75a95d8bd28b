"""Composite ops: one leaf whose module has named sub-layers (timm's ``se``, ``conv2`` of ResNeSt,
Res2Net's ``convs``/``bns``), with a data flow that ``Seq``/``Residual``/``Parallel`` cannot say
(a channel-wise product, a softmax across splits, a chain of splits with carries).

The cost is never hand-kept: each composite lists its primitive parts (``Conv``, ``BatchNorm``,
...) with the shape each part sees, and its cost is the sum of the parts' own costs (STYLE rule 1).
Only convs carry MACs, so ``FlopCounterMode`` counts exactly 2 × these MACs (sigmoid, softmax,
mean and the products have no formula in ``torch/utils/flop_counter.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from archprobe.graph.cost import Cost, Shape
from archprobe.graph.ops import AvgPool, BatchNorm, Conv, GlobalAvgPool, GraphError, Op, ReLU

Part = tuple[Op, Shape]
"""A primitive op inside a composite and the input shape it sees."""


@dataclass(frozen=True)
class Composite(Op):
    """Base: ``kind`` is "conv" since every MAC of a composite is a conv's."""

    kind: ClassVar[str] = "conv"

    @property
    def in_channels(self) -> int:
        """Channels of the input this op takes."""
        raise NotImplementedError

    def parts(self, x: Shape) -> list[Part]:
        """The primitive ops inside, in forward order, each with its input shape."""
        raise NotImplementedError

    def own_cost(self, x: Shape, y: Shape) -> Cost:
        total = Cost()
        for op, shape in self.parts(x):
            own = op.own_cost(shape, op.out_shape(shape))
            total = total + Cost(own.params, own.buffers, own.macs, own.acts)
        return total

    def state_read(self, x: Shape) -> int:
        return sum(op.state_read(shape) for op, shape in self.parts(x))


def _chain(x: Shape, ops: list[Op]) -> list[Part]:
    out: list[Part] = []
    for op in ops:
        out.append((op, x))
        x = op.out_shape(x)
    return out


@dataclass(frozen=True)
class SqueezeExcite(Composite):
    """SE (Hu et al. §3): x · sigmoid(fc2(relu(fc1(mean(x))))), fc = 1×1 conv with bias.

    MACs 2·C·Cr (the two fcs, SE Eq. 5); params 2·C·Cr + Cr + C. Module names as timm
    ``SEModule``: ``se.fc1``, ``se.fc2``.
    """

    channels: int
    reduced: int

    def __post_init__(self) -> None:
        if self.reduced < 1:
            raise GraphError(f"SE on {self.channels} channels reduces to 0 channels")

    @property
    def in_channels(self) -> int:
        return self.channels

    def out_shape(self, x: Shape) -> Shape:
        self._expect_channels(x, self.channels)
        return x

    def parts(self, x: Shape) -> list[Part]:
        c, r = self.channels, self.reduced
        return _chain(
            x, [GlobalAvgPool(), Conv(c, r, 1, bias=True), ReLU(), Conv(r, c, 1, bias=True)]
        )

    def label(self) -> str:
        return f"SE {self.channels}→{self.reduced}"


@dataclass(frozen=True)
class SplitAttention(Composite):
    """ResNeSt split attention (facts §5.1, official ``SplAtConv2d``): 3×3 conv to R splits
    (groups K·R), BN, ReLU; sum of splits; GAP; fc1 (groups K, bias), BN, ReLU; fc2; rSoftmax
    across splits (sigmoid when R = 1); attention-weighted sum of splits. timm names:
    ``conv``, ``bn0``, ``fc1``, ``bn1``, ``fc2``."""

    cin: int
    cout: int
    stride: int
    radix: int
    groups: int
    inter: int

    @property
    def in_channels(self) -> int:
        return self.cin

    def out_shape(self, x: Shape) -> Shape:
        y = self.parts(x)[0][0].out_shape(x)
        return (self.cout, y[1], y[2])

    def parts(self, x: Shape) -> list[Part]:
        k, r, w = self.groups, self.radix, self.cout
        conv = Conv(self.cin, w * r, 3, stride=self.stride, groups=k * r)
        head = _chain(x, [conv, BatchNorm(w * r), ReLU()])
        y = conv.out_shape(x)
        fc1 = Conv(w, self.inter, 1, groups=k, bias=True)
        fc2 = Conv(self.inter, w * r, 1, groups=k, bias=True)
        return head + _chain(
            (w, y[1], y[2]), [GlobalAvgPool(), fc1, BatchNorm(self.inter), ReLU(), fc2]
        )

    def label(self) -> str:
        return f"3×3, {self.cout}, split-attention R={self.radix}" + (
            f", C={self.groups}" if self.groups > 1 else ""
        )


@dataclass(frozen=True)
class Res2NetSplits(Composite):
    """Res2Net hierarchical 3×3s (facts §4.1, official ``Bottle2neck``): split the input into
    ``scale`` chunks of ``width``; chunk i (< s−1) goes through 3×3 conv, BN, ReLU after adding the
    previous chunk's output ('normal' form); the last chunk passes unchanged, or through
    ``AvgPool2d(3, stride, 1)`` in the 'stage' form (no adds, strided convs). timm names:
    ``convs.i``, ``bns.i``, ``pool``."""

    width: int
    scale: int
    stride: int
    groups: int
    stage: bool

    def __post_init__(self) -> None:
        if self.scale < 2:
            raise GraphError(
                f"res2net scale {self.scale}: needs at least 2 splits (scale 1 is a bottleneck)"
            )

    @property
    def in_channels(self) -> int:
        return self.width * self.scale

    def out_shape(self, x: Shape) -> Shape:
        self._expect_channels(x, self.width * self.scale)
        y = self._conv().out_shape((self.width, x[1], x[2]))
        return (x[0], y[1], y[2])

    def _conv(self) -> Conv:
        return Conv(self.width, self.width, 3, stride=self.stride, groups=self.groups)

    def parts(self, x: Shape) -> list[Part]:
        split = (self.width, x[1], x[2])
        out: list[Part] = []
        for _ in range(self.scale - 1):
            out += _chain(split, [self._conv(), BatchNorm(self.width), ReLU()])
        if self.stage:
            out.append((AvgPool(3, self.stride, 1), split))
        return out

    def label(self) -> str:
        return f"3×3, {self.width}, ×{self.scale - 1} hierarchical"
