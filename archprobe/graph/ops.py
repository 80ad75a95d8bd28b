"""Primitive ops: each carries its own shape rule and cost (STYLE rule 1), torch-free.

Cost conventions (also in README "Cost conventions"):

| op            | MACs                              | params                  | acts          |
|---------------|-----------------------------------|-------------------------|---------------|
| conv k×k, g   | Ho·Wo·Cout · (Cin/g)·k²           | Cout·(Cin/g)·k² (+Cout) | Cout·Ho·Wo    |
| linear        | Cin·Cout                          | Cin·Cout (+Cout)        | Cout          |
| batch norm    | 0 (folded into the conv at inference) | 2C (+2C+1 buffers)  | 0             |
| ReLU, add     | 0                                 | 0                       | 0             |
| pooling       | 0                                 | 0                       | 0             |

These are the papers' "FLOPs (# of multiply-adds)" (ResNet §3.3, ResNeXt §3.1) and torchvision's
``_ops``; ``FlopCounterMode`` reports exactly 2× this MAC count. ``acts`` follows fvcore/timm
(outputs of conv and linear only). ``read``/``written`` count every op's inputs, weights and
outputs: the memory access cost (MAC) of ShuffleNet V2 §2, Eq. 1–2, in elements.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from archprobe.errors import ArchprobeError
from archprobe.graph.cost import Cost, Shape, numel


class GraphError(ArchprobeError):
    """An op received a shape it cannot take (a bug in a block, or an impossible spec).

    ``scope`` names the node where it happened, once the graph walk knows it.
    """

    def __init__(self, message: str, scope: str = "") -> None:
        self.scope = scope
        super().__init__(f"{scope}: {message}" if scope else message)


def _conv_out(size: int, kernel: int, stride: int, padding: int, ceil: bool = False) -> int:
    span = size + 2 * padding - kernel
    out = (-(-span // stride) if ceil else span // stride) + 1
    if ceil and (out - 1) * stride >= size + padding:  # PyTorch: last window must start inside
        out -= 1
    if out < 1:
        raise GraphError(f"spatial size {size} is too small for kernel {kernel}, stride {stride}")
    return out


@dataclass(frozen=True)
class Op:
    """Base of all primitive ops. ``kind`` groups ops for reports (conv, norm, act, ...)."""

    kind: ClassVar[str] = "op"

    def out_shape(self, x: Shape) -> Shape:
        return x

    def own_cost(self, x: Shape, y: Shape) -> Cost:
        """Params, buffers, MACs and acts; memory traffic is added by :meth:`cost`."""
        return Cost()

    def cost(self, x: Shape) -> Cost:
        """Cost of one forward pass on a sample of shape ``x``."""
        return self.cost_at(x, self.out_shape(x))

    def cost_at(self, x: Shape, y: Shape) -> Cost:
        """Cost given the output shape already computed by :meth:`out_shape` (the graph walk)."""
        own = self.own_cost(x, y)
        read = numel(x) + own.params + self.state_read(x)
        return Cost(own.params, own.buffers, own.macs, own.acts, read, numel(y))

    def state_read(self, x: Shape) -> int:
        """Non-parameter state read per forward (e.g. BN running statistics)."""
        return 0

    def label(self) -> str:
        return self.kind

    def _expect_channels(self, x: Shape, channels: int) -> None:
        if x[0] != channels:
            raise GraphError(f"{type(self).__name__} expects {channels} channels, got {x[0]}")


@dataclass(frozen=True)
class Conv(Op):
    """2-d convolution; ``groups`` > 1 is a grouped conv (ResNeXt Fig. 3c)."""

    kind: ClassVar[str] = "conv"
    cin: int
    cout: int
    kernel: int
    stride: int = 1
    padding: int | None = None  # None = kernel // 2 ("same" for odd kernels at stride 1)
    groups: int = 1
    bias: bool = False

    def __post_init__(self) -> None:
        if min(self.cin, self.cout, self.kernel, self.stride, self.groups) < 1:
            raise GraphError(
                f"conv {self.cin}->{self.cout} k={self.kernel} s={self.stride} g={self.groups}: "
                "every size must be at least 1"
            )
        if self.cin % self.groups or self.cout % self.groups:
            raise GraphError(
                f"conv {self.cin}->{self.cout}: groups={self.groups} must divide both widths"
            )

    @property
    def pad(self) -> int:
        return self.kernel // 2 if self.padding is None else self.padding

    def out_shape(self, x: Shape) -> Shape:
        self._expect_channels(x, self.cin)
        h = _conv_out(x[1], self.kernel, self.stride, self.pad)
        w = _conv_out(x[2], self.kernel, self.stride, self.pad)
        return (self.cout, h, w)

    def own_cost(self, x: Shape, y: Shape) -> Cost:
        per_output = (self.cin // self.groups) * self.kernel * self.kernel
        params = self.cout * per_output + (self.cout if self.bias else 0)
        return Cost(params=params, macs=numel(y) * per_output, acts=numel(y))

    def label(self) -> str:
        k = f"{self.kernel}×{self.kernel}, {self.cout}"
        return k + (f", C={self.groups}" if self.groups > 1 else "")


@dataclass(frozen=True)
class BatchNorm(Op):
    """Batch norm: 2C affine params; running mean/var (2C) + num_batches_tracked are buffers."""

    kind: ClassVar[str] = "norm"
    channels: int

    def out_shape(self, x: Shape) -> Shape:
        self._expect_channels(x, self.channels)
        return x

    def own_cost(self, x: Shape, y: Shape) -> Cost:
        return Cost(params=2 * self.channels, buffers=2 * self.channels + 1)

    def state_read(self, x: Shape) -> int:
        return 2 * self.channels  # running mean and variance

    def label(self) -> str:
        return "BN"


@dataclass(frozen=True)
class ReLU(Op):
    kind: ClassVar[str] = "act"

    def label(self) -> str:
        return "ReLU"


@dataclass(frozen=True)
class Pool(Op):
    """Shared shape rule of max and average pooling (``nn.MaxPool2d``/``nn.AvgPool2d``)."""

    kind: ClassVar[str] = "pool"
    mode: ClassVar[str] = ""
    kernel: int
    stride: int
    padding: int = 0
    ceil_mode: bool = False

    def out_shape(self, x: Shape) -> Shape:
        h = _conv_out(x[1], self.kernel, self.stride, self.padding, self.ceil_mode)
        w = _conv_out(x[2], self.kernel, self.stride, self.padding, self.ceil_mode)
        return (x[0], h, w)

    def label(self) -> str:
        return f"{self.kernel}×{self.kernel} {self.mode} pool, stride {self.stride}"


@dataclass(frozen=True)
class MaxPool(Pool):
    mode: ClassVar[str] = "max"


@dataclass(frozen=True)
class AvgPool(Pool):
    """Average pool; ``count_include_pad`` as in ``nn.AvgPool2d`` (ResNet-D uses False)."""

    mode: ClassVar[str] = "avg"
    count_include_pad: bool = True


@dataclass(frozen=True)
class GlobalAvgPool(Op):
    kind: ClassVar[str] = "pool"

    def out_shape(self, x: Shape) -> Shape:
        return (x[0], 1, 1)

    def label(self) -> str:
        return "global average pool"


@dataclass(frozen=True)
class Linear(Op):
    """Fully connected layer on the flattened input."""

    kind: ClassVar[str] = "linear"
    cin: int
    cout: int
    bias: bool = True

    def out_shape(self, x: Shape) -> Shape:
        if numel(x) != self.cin:
            raise GraphError(f"linear expects {self.cin} features, got {x} = {numel(x)}")
        return (self.cout, 1, 1)

    def own_cost(self, x: Shape, y: Shape) -> Cost:
        params = self.cin * self.cout + (self.cout if self.bias else 0)
        return Cost(params=params, macs=self.cin * self.cout, acts=self.cout)

    def label(self) -> str:
        return f"{self.cout}-d fc"


@dataclass(frozen=True)
class Add(Op):
    """Element-wise sum of the residual branch and the shortcut (two inputs of shape x)."""

    kind: ClassVar[str] = "add"

    def cost_at(self, x: Shape, y: Shape) -> Cost:
        return Cost(read=2 * numel(x), written=numel(x))

    def label(self) -> str:
        return "add"


@dataclass(frozen=True)
class IdentityPad(Op):
    """ResNet option A shortcut: strided identity, new channels zero-padded (ResNet §3.3).

    As in the reference CIFAR code, the stride subsamples (``x[:, :, ::s, ::s]``), so the output
    size is ceil(H / s); no parameters.
    """

    kind: ClassVar[str] = "shortcut"
    cin: int
    cout: int
    stride: int = 1

    def out_shape(self, x: Shape) -> Shape:
        self._expect_channels(x, self.cin)
        if self.cout < self.cin:
            raise GraphError(f"identity_pad shortcut cannot shrink {self.cin} to {self.cout}")
        return (self.cout, -(-x[1] // self.stride), -(-x[2] // self.stride))

    def cost_at(self, x: Shape, y: Shape) -> Cost:
        return Cost(read=self.cin * y[1] * y[2], written=numel(y))

    def label(self) -> str:
        return "identity + zero pad"
