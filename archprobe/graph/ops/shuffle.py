"""Channel shuffle (ShuffleNet V2 §3, torchvision ``channel_shuffle``): the two halves of a
block's output interleaved, so the next block's channel split mixes information of both branches.

No arithmetic, but a full copy: ``view`` → ``transpose`` → ``contiguous`` → ``view``, and the
``contiguous`` writes every element to a new tensor. Its memory traffic is what ShuffleNet V2's
guidelines count and FLOPs do not (§2: "data I/O, data shuffle and element-wise operations …
occupy considerable amount of time"; G4, element-wise operations are non-negligible): one read
and one write of the whole map (:meth:`~archprobe.graph.op.Op.cost_at`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from archprobe.graph.cost import Shape
from archprobe.graph.facts import CountRule, MemoryRule, uncounted
from archprobe.graph.op import Example, GraphError, Op, register_op


@register_op("channel_shuffle")
@dataclass(frozen=True)
class ChannelShuffle(Op):
    """Channels regrouped as (groups, C/groups), transposed and flattened (ShuffleNet V2 uses 2)."""

    kind: ClassVar[str] = "shuffle"
    # view/transpose backwards need only sizes and contiguous (a clone) nothing: autograd keeps
    # no tensor. The output is the clone's new storage; the backward reshapes the transposed
    # gradient, which copies again (so no grad pass-through).
    memory: ClassVar[MemoryRule] = MemoryRule()
    counting: ClassVar[Mapping[str, CountRule]] = uncounted(
        analytic="0: a copy, no multiply-add (its traffic is in bytes moved)",
        # fvcore jit_analysis.py _IGNORED_OPS lists aten::view, aten::transpose, aten::contiguous.
        fvcore="aten::view/transpose/contiguous: in fvcore's ignored ops, 0 and not listed",
        thop="functional in the block's forward: no module, never seen",
    )
    aten: ClassVar[tuple[str, ...]] = ("transpose", "clone")

    groups: int = 2

    def out_shape(self, x: Shape, *others: Shape) -> Shape:
        if self.groups < 1 or x[0] % self.groups:
            raise GraphError(f"cannot shuffle {x[0]} channels in {self.groups} groups")
        return x

    def label(self) -> str:
        return f"channel shuffle, g={self.groups}"

    def out_channels_last(self, x_channels_last: bool) -> bool:
        return False  # .contiguous() of the transposed view: a fresh NCHW tensor

    def forward(self, *xs: Any) -> Any:
        x = xs[0]
        n, c, h, w = x.shape
        # torchvision shufflenetv2.py channel_shuffle, step for step.
        x = x.view(n, self.groups, c // self.groups, h, w)
        return x.transpose(1, 2).contiguous().view(n, -1, h, w)

    @classmethod
    def example(cls) -> Example:
        return cls(2), ((6, 3, 3),)
