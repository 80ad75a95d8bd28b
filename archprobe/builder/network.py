"""Graph -> ``nn.Module``: one generic module per structural node plus an op -> module table.

Module names are the graph's scopes, which follow torchvision (``layer1.0.downsample.0``), so a
torchvision checkpoint of the same architecture loads with ``strict=True``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from archprobe.graph import composite, ops
from archprobe.graph.nodes import Graph, Node, OpNode, Parallel, Residual, Seq

if TYPE_CHECKING:
    from archprobe.spec.schema import ArchSpec


class FlattenLinear(nn.Linear):
    """``fc``: flattens (N, C, 1, 1) before the matmul, so the head needs no extra module."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(torch.flatten(x, 1))


class IdentityPad(nn.Module):
    """Option A shortcut: ``x[:, :, ::s, ::s]`` with zero channels appended (ResNet §3.3)."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.extra, self.stride = cout - cin, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :, :: self.stride, :: self.stride]
        return nn.functional.pad(x, (0, 0, 0, 0, 0, self.extra))


class ResidualBlock(nn.Module):
    """``post(body(x) + downsample(x))``; body and post layers are direct children."""

    def __init__(
        self,
        body: list[tuple[str, nn.Module]],
        shortcut: nn.Module | None,
        post: list[tuple[str, nn.Module]],
    ) -> None:
        super().__init__()
        for name, module in body + post:
            self.add_module(name, module)
        if shortcut is not None:
            self.downsample = shortcut
        self._body = [name for name, _ in body]
        self._post = [name for name, _ in post]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x
        for name in self._body:
            out = getattr(self, name)(out)
        identity = self.downsample(x) if hasattr(self, "downsample") else x
        out = out + identity
        for name in self._post:
            out = getattr(self, name)(out)
        return out


class ParallelBranches(nn.Module):
    """Branches on the same input, concatenated on channels or summed."""

    def __init__(self, branches: list[tuple[str, nn.Module]], merge: str) -> None:
        super().__init__()
        for name, module in branches:
            self.add_module(name, module)
        self.merge = merge

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs: list[torch.Tensor] = [branch(x) for branch in self.children()]
        if self.merge == "concat":
            return torch.cat(outs, dim=1)
        total = outs[0]
        for o in outs[1:]:
            total = total + o
        return total


class SqueezeExcite(nn.Module):
    """SE (Hu et al. §3): ``x * sigmoid(fc2(relu(fc1(mean(x)))))``; timm ``SEModule`` names."""

    def __init__(self, channels: int, reduced: int) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(channels, reduced, 1)
        self.act = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(reduced, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.fc2(self.act(self.fc1(x.mean((2, 3), keepdim=True))))
        out: torch.Tensor = x * s.sigmoid()
        return out


class SplitAttention(nn.Module):
    """ResNeSt ``SplAtConv2d`` / timm ``SplitAttn`` (facts §5.1), with their module names."""

    def __init__(self, op: composite.SplitAttention) -> None:
        super().__init__()
        r, k, w = op.radix, op.groups, op.cout
        self.radix, self.groups = r, k
        self.conv = nn.Conv2d(op.cin, w * r, 3, op.stride, 1, groups=k * r, bias=False)
        self.bn0 = nn.BatchNorm2d(w * r)
        self.act0 = nn.ReLU(inplace=True)
        self.fc1 = nn.Conv2d(w, op.inter, 1, groups=k)
        self.bn1 = nn.BatchNorm2d(op.inter)
        self.act1 = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(op.inter, w * r, 1, groups=k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act0(self.bn0(self.conv(x)))
        n, rc = x.shape[:2]
        splits = x.view(n, self.radix, rc // self.radix, *x.shape[2:])
        gap = splits.sum(1).mean((2, 3), keepdim=True)
        attn = self.fc2(self.act1(self.bn1(self.fc1(gap))))
        # rSoftMax: softmax across the radix splits of each cardinal group, sigmoid when R = 1.
        if self.radix > 1:
            attn = attn.view(n, self.groups, self.radix, -1).transpose(1, 2).softmax(dim=1)
        else:
            attn = attn.sigmoid()
        attn = attn.reshape(n, self.radix, rc // self.radix, 1, 1)
        out: torch.Tensor = (splits * attn).sum(1)
        return out


class Res2NetSplits(nn.Module):
    """Res2Net ``Bottle2neck``'s hierarchical 3×3s (facts §4.1): ``convs``, ``bns``, ``pool``."""

    def __init__(self, op: composite.Res2NetSplits) -> None:
        super().__init__()
        w, n = op.width, op.scale - 1
        self.width, self.stage = w, op.stage
        self.convs = nn.ModuleList(
            nn.Conv2d(w, w, 3, op.stride, 1, groups=op.groups, bias=False) for _ in range(n)
        )
        self.bns = nn.ModuleList(nn.BatchNorm2d(w) for _ in range(n))
        self.relu = nn.ReLU(inplace=True)
        if op.stage:
            self.pool = nn.AvgPool2d(3, op.stride, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spx = torch.split(x, self.width, 1)
        outs: list[torch.Tensor] = []
        for i, (conv, bn) in enumerate(zip(self.convs, self.bns, strict=True)):
            sp = spx[i] if i == 0 or self.stage else outs[-1] + spx[i]
            outs.append(self.relu(bn(conv(sp))))
        outs.append(self.pool(spx[-1]) if self.stage else spx[-1])
        return torch.cat(outs, 1)


def _conv(op: Any) -> nn.Module:
    return nn.Conv2d(op.cin, op.cout, op.kernel, op.stride, op.pad, groups=op.groups, bias=op.bias)


OP_MODULES: dict[type[ops.Op], Callable[[Any], nn.Module]] = {
    ops.Conv: _conv,
    ops.BatchNorm: lambda op: nn.BatchNorm2d(op.channels),
    ops.ReLU: lambda op: nn.ReLU(inplace=True),
    ops.MaxPool: lambda op: nn.MaxPool2d(op.kernel, op.stride, op.padding, ceil_mode=op.ceil_mode),
    ops.AvgPool: lambda op: nn.AvgPool2d(
        op.kernel, op.stride, op.padding, op.ceil_mode, op.count_include_pad
    ),
    ops.GlobalAvgPool: lambda op: nn.AdaptiveAvgPool2d(1),
    ops.Linear: lambda op: FlattenLinear(op.cin, op.cout, bias=op.bias),
    ops.IdentityPad: lambda op: IdentityPad(op.cin, op.cout, op.stride),
    composite.SqueezeExcite: lambda op: SqueezeExcite(op.channels, op.reduced),
    composite.SplitAttention: SplitAttention,
    composite.Res2NetSplits: Res2NetSplits,
}
"""Every Op subclass that can appear as a graph leaf has an entry (a test enforces it).
``Add`` has none: it is the ``+`` inside ResidualBlock/ParallelBranches."""


def build_node(node: Node) -> nn.Module:
    """The module for one node (recursively)."""
    if isinstance(node, OpNode):
        return OP_MODULES[type(node.op)](node.op)
    if isinstance(node, Seq):
        return nn.Sequential(OrderedDict((c.name, build_node(c)) for c in node.children))
    if isinstance(node, Residual):
        return ResidualBlock(
            [(c.name, build_node(c)) for c in node.body],
            build_node(node.shortcut) if node.shortcut is not None else None,
            [(c.name, build_node(c)) for c in node.post],
        )
    assert isinstance(node, Parallel)
    return ParallelBranches([(b.name, build_node(b)) for b in node.branches], node.merge)


def _init_weights(model: nn.Module, zero_init_residual: bool) -> None:
    """torchvision's init: He (fan_out) for convs, BN γ=1 β=0.

    ``zero_init_residual`` zeroes γ of the last BN of each residual branch, so every block starts
    as the identity (Goyal et al. 2017, "Accurate, Large Minibatch SGD", §5.1).
    """
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    if zero_init_residual:
        for m in model.modules():
            if isinstance(m, ResidualBlock):
                norms = [
                    getattr(m, n) for n in m._body if isinstance(getattr(m, n), nn.BatchNorm2d)
                ]
                if norms:
                    nn.init.zeros_(norms[-1].weight)


def default_device() -> torch.device:
    """CUDA when present, CPU otherwise."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def build(
    spec: ArchSpec | Graph,
    device: str | torch.device | None = None,
    zero_init_residual: bool = False,
) -> nn.Module:
    """Instantiate a spec (or an expanded graph) as an ``nn.Module``.

    Args:
        spec: a validated spec or its graph.
        device: ``"cuda"``, ``"cpu"``, ``"meta"`` (no memory, for counting) or None for CUDA
            when available, else CPU.
        zero_init_residual: zero the last BN γ of each residual branch.
    """
    from archprobe.spec.expand import expand

    graph = spec if isinstance(spec, Graph) else expand(spec)
    target = default_device() if device is None else torch.device(device)
    with target:
        model = nn.Sequential(OrderedDict((n.name, build_node(n)) for n in graph.nodes))
        if target.type != "meta":
            _init_weights(model, zero_init_residual)
    return model
