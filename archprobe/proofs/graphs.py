"""The forms the proofs compare, each described once as an op graph (torch-free).

Costs come from the analytic walk of these graphs and modules from ``build_node`` of the same
graphs (DESIGN §7.1), so a form's cost and its module cannot drift apart.

BN and ReLU placement (ResNeXt §4: the forms "are strictly equivalent, when BN and ReLU are
appropriately addressed"): BN is per channel, so a BN after a path's first or second conv is
exactly the slice of the wide BN of Fig. 3(c) over that path's channels, in training mode too.
The one BN that must move is the last: Fig. 3(c) normalises the *sum* of the paths, so forms
(a) and (b) apply one BN after the aggregation instead of one per path. ReLU follows each inner
BN and the residual add (ResNeXt §4, facts.md §1.7).
"""

from __future__ import annotations

from archprobe.blocks.layers import conv_bn
from archprobe.graph.cost import Cost, Shape
from archprobe.graph.facts import Leaf
from archprobe.graph.nodes import Node, OpNode, Parallel, Residual, Seq, children, walk
from archprobe.graph.ops import BatchNorm, Conv, IdentityPad, ReLU
from archprobe.proofs.results import Form

FORM_NAMES = {
    "a": "aggregated (Fig. 3a)",
    "b": "early concatenation (Fig. 3b)",
    "c": "grouped conv (Fig. 3c)",
}
DEPTH2_NAMES = {
    "a": "aggregated, depth 2 (Fig. 4 left)",
    "b": "dense wide (Fig. 4 right)",
    "x": "grouped 2nd layer",
    "y": "both grouped (basic, groups=C)",
}


def _block(body: tuple[Node, ...], relu: str) -> Residual:
    """Identity shortcut, ReLU after the add: every form is a whole residual block (Eq. 3)."""
    return Residual("block", body, None, (OpNode(relu, ReLU()),))


def bottleneck_forms(cardinality: int, width: int, channels: int = 256) -> dict[str, Node]:
    """ResNeXt Fig. 3 (a), (b), (c) for C = ``cardinality`` paths of width d = ``width``."""
    c, d, n = cardinality, width, channels
    head = (*conv_bn(1, n, d, 1), *conv_bn(2, d, d, 3))  # one path's 1×1 and 3×3, with BN+ReLU
    last = OpNode("bn3", BatchNorm(n))  # one BN on the aggregated sum (module docstring)
    sum_paths = tuple(Seq(str(i), (*head, OpNode("conv3", Conv(d, n, 1)))) for i in range(c))
    cat_paths = tuple(Seq(str(i), head) for i in range(c))
    return {
        "a": _block((Parallel("paths", sum_paths, "sum"), last), "relu3"),
        "b": _block(
            (Parallel("paths", cat_paths, "concat"), OpNode("conv3", Conv(c * d, n, 1)), last),
            "relu3",
        ),
        "c": _block(
            (
                *conv_bn(1, n, c * d, 1),
                *conv_bn(2, c * d, c * d, 3, groups=c),
                *conv_bn(3, c * d, n, 1, act=False),
            ),
            "relu3",
        ),
    }


def depth2_forms(cardinality: int, width: int, channels: int = 64) -> dict[str, Node]:
    """ResNeXt Fig. 4: C paths [3×3, d; 3×3, channels] summed, the dense wide block, and two
    block-diagonal look-alikes: a grouped second layer (``x``, needs C | channels) and both
    layers grouped, i.e. a basic block with groups=C (``y``, needs C | channels)."""
    c, d, n = cardinality, width, channels
    last = OpNode("bn2", BatchNorm(n))
    paths = tuple(
        Seq(str(i), (*conv_bn(1, n, d, 3), OpNode("conv2", Conv(d, n, 3)))) for i in range(c)
    )
    forms: dict[str, Node] = {
        "a": _block((Parallel("paths", paths, "sum"), last), "relu2"),
        "b": _block((*conv_bn(1, n, c * d, 3), *conv_bn(2, c * d, n, 3, act=False)), "relu2"),
    }
    if n % c == 0:
        forms["x"] = _block(
            (*conv_bn(1, n, c * d, 3), *conv_bn(2, c * d, n, 3, groups=c, act=False)), "relu2"
        )
        forms["y"] = _block(
            (
                *conv_bn(1, n, c * d, 3, groups=c),
                *conv_bn(2, c * d, n, 3, groups=c, act=False),
            ),
            "relu2",
        )
    return forms


def bn_fold_forms(channels: int, kernel: int = 3) -> dict[str, Node]:
    """A conv followed by BN, and the single conv with bias that BN folds into at inference."""
    conv = Conv(channels, channels, kernel)
    return {
        "bn": Seq("m", (OpNode("conv", conv), OpNode("bn", BatchNorm(channels)))),
        "fold": Seq("m", (OpNode("conv", Conv(channels, channels, kernel, bias=True)),)),
    }


def shortcut_forms(cin: int, cout: int, stride: int = 2) -> dict[str, Node]:
    """ResNet §3.3 shortcuts where the shape changes: option A (strided identity, zero-padded
    channels) and option B (strided 1×1 projection + BN, torchvision ``downsample``)."""
    return {
        "A": OpNode("downsample", IdentityPad(cin, cout, stride)),
        "B": Seq(
            "downsample",
            (OpNode("0", Conv(cin, cout, 1, stride=stride)), OpNode("1", BatchNorm(cout))),
        ),
    }


def _parts(node: Node) -> list[str]:
    if isinstance(node, OpNode):
        return [node.op.label()] if node.op.kind in ("conv", "shortcut") else []
    if isinstance(node, Seq):
        return [p for child in node.children for p in _parts(child)]
    if isinstance(node, Residual):
        return [p for child in node.body for p in _parts(child)]
    if not isinstance(node, Parallel):  # a gate or a split: its own notation, else its ops
        return [node.label] if node.label else [p for c in children(node) for p in _parts(c)]
    first = _parts(node.branches[0])
    how = "summed" if node.merge == "sum" else "concatenated"
    if all(_parts(b) == first for b in node.branches):
        return [f"{len(node.branches)} × [{'; '.join(first)}], {how}"]
    return [f"[{'; '.join(_parts(b))}]" for b in node.branches] + [how]


def layers(node: Node) -> str:
    """The layers in the papers' bracket notation: ``[1×1, 128; 3×3, 128, C=32; 1×1, 256]``,
    or ``32 × [1×1, 4; 3×3, 4; 1×1, 256], summed`` for parallel paths."""
    parts = _parts(node)
    return "; ".join(parts) if any("], " in p for p in parts) else f"[{'; '.join(parts)}]"


def leaves(node: Node, in_shape: Shape) -> list[Leaf]:
    """The ops of ``node`` on a sample of ``in_shape``, with shapes and costs."""
    out: list[Leaf] = []
    walk(node, in_shape, "", out)
    return out


def analytic_form(key: str, name: str, node: Node, in_shape: Shape, dtype_bytes: int = 4) -> Form:
    """A form's cost per sample, from the analytic walk of its graph alone."""
    ops = leaves(node, in_shape)
    total = Cost.total(leaf.cost for leaf in ops)
    weights = sum(leaf.cost.params for leaf in ops if leaf.op.kind in ("conv", "linear"))
    moved = (total.read + total.written) * dtype_bytes
    return Form(key, name, layers(node), total.params, weights, total.macs, len(ops), moved)
