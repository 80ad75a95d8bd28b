"""ResNet option A shortcut: strided identity with zero-padded channels (ResNet §3.3)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from archprobe.graph.cost import Cost, Shape, numel
from archprobe.graph.facts import CountRule, MemoryRule, uncounted
from archprobe.graph.op import Example, GraphError, Op, register_op


def _pad_grads(op: Op, x: Shape, y: Shape, batch: int, db: int) -> tuple[int, ...]:
    # Option A shortcut = two strided slices + constant_pad_nd. Backward: pad's backward copies
    # the first cin channels (cin, ho, wo), then each slice's backward scatters into zeros of its
    # input shape: (cin, ho, w), then the input gradient itself (allocated by the node).
    cin = x[0]
    narrowed = batch * cin * y[1] * y[2] * db
    if getattr(op, "stride", 1) == 1:  # x[:, :, ::1, ::1] is x itself: no slice nodes
        return (narrowed,)
    return (narrowed, batch * cin * y[1] * x[2] * db)


@register_op("identity_pad")
@dataclass(frozen=True)
class IdentityPad(Op):
    """Option A: ``x[:, :, ::s, ::s]`` with zero channels appended; no parameters.

    As in the reference CIFAR code, the stride subsamples, so the output size is ceil(H / s).
    """

    kind: ClassVar[str] = "shortcut"
    # Slicing is a view and constant_pad_nd saves only the pad widths.
    memory: ClassVar[MemoryRule] = MemoryRule(bwd_transient=_pad_grads)
    counting: ClassVar[Mapping[str, CountRule]] = uncounted(
        analytic="0: strided slice + zero channels",
        fvcore="aten::slice ignored, aten::pad unsupported (listed)",
        thop="no thop rule (listed)",
    )

    cin: int
    cout: int
    stride: int = 1

    def out_shape(self, x: Shape, *others: Shape) -> Shape:
        self._expect_channels(x, self.cin)
        if self.cout < self.cin:
            raise GraphError(f"identity_pad shortcut cannot shrink {self.cin} to {self.cout}")
        return (self.cout, -(-x[1] // self.stride), -(-x[2] // self.stride))

    def cost_at(self, x: Shape, y: Shape, *others: Shape) -> Cost:
        return Cost(read=self.cin * y[1] * y[2], written=numel(y))

    def label(self) -> str:
        return "identity + zero pad"

    def out_channels_last(self, x_channels_last: bool) -> bool:
        return False  # constant_pad_nd allocates a contiguous result

    def forward(self, *xs: Any) -> Any:
        from torch.nn import functional as F

        x = xs[0][:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, 0, self.cout - self.cin))

    @classmethod
    def example(cls) -> Example:
        return cls(4, 6, 2), ((4, 7, 7),)
