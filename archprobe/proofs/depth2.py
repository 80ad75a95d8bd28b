"""ResNeXt Fig. 4: aggregating depth-2 paths is "trivially a wide, dense module" (§3.3).

Path i is [3×3, n→d; 3×3, d→n]. Summing C of them equals one block [3×3, n→C·d; 3×3, C·d→n]
whose first conv stacks the paths' first convs and whose second conv puts the paths' second
convs side by side along its input channels (footnote 3's A₁B₁ + A₂B₂ = [A₁, A₂][B₁; B₂]):
same params, same MACs, same outputs. Nothing is gained by aggregation at depth 2.

The contrast is the block people write by mistake: a *grouped* second layer (C groups) keeps
only the diagonal blocks of that second conv, so output group j hears from path j alone. It has
1/C of the second layer's weights and cannot represent the aggregated block; grouping the first
layer too (a basic block with groups=C, what check RX001 flags) also cuts each path's input.
"""

from __future__ import annotations

from functools import partial

import torch

from archprobe.proofs.common import (
    COMPARE_SIZE,
    StateDict,
    agreement,
    as_float32,
    cat_paths,
    mapped_forms,
    measured_form,
    outputs,
    random_input,
    require_positive,
    shared,
    stacked_bn,
)
from archprobe.proofs.graphs import DEPTH2_NAMES, depth2_forms
from archprobe.proofs.results import Agreement, Claim, Form, Proof

APART = 1e-2
"""A counterexample must differ by more than this (max abs error, float64)."""

NOTE = (
    "BN as in Fig. 3: each path's inner BN is a slice of the wide BN; one BN on the sum. "
    "Weights of (b), (x), (y) are mapped from (a); eval mode, random running statistics."
)
WHY = (
    "a grouped 2nd layer keeps only the diagonal blocks of the dense 2nd conv: output group j "
    "hears from path j alone, while aggregation sums every path into every output channel. "
    "The dropped off-diagonal blocks are (C−1)/C of its weights, so no weights make it the "
    "aggregated block (it is the special case whose paths each write one output group)."
)


def to_dense(sd: StateDict, paths: int) -> StateDict:
    """Aggregated → dense wide: stacked first convs, side-by-side second convs."""
    return {
        "conv1.weight": cat_paths(sd, paths, "conv1.weight"),
        **stacked_bn(sd, paths, "bn1"),
        "conv2.weight": cat_paths(sd, paths, "conv2.weight", dim=1),
        **shared(sd, "bn2"),
    }


def _diagonal(sd: StateDict, paths: int, key: str, dim: int) -> torch.Tensor:
    """Block i of path i's ``key`` along ``dim`` (what a conv with C groups can hold)."""
    blocks = []
    for i in range(paths):
        w = sd[f"paths.{i}.{key}"]
        step = w.shape[dim] // paths
        blocks.append(w.narrow(dim, i * step, step))
    return torch.cat(blocks, 0)


def to_grouped_second(sd: StateDict, paths: int) -> StateDict:
    """The closest grouped-2nd-layer block: dense first conv, diagonal blocks of the second."""
    return {**to_dense(sd, paths), "conv2.weight": _diagonal(sd, paths, "conv2.weight", 0)}


def to_grouped_both(sd: StateDict, paths: int) -> StateDict:
    """The closest basic block with groups=C: path i also sees only input group i."""
    return {
        **to_grouped_second(sd, paths),
        "conv1.weight": _diagonal(sd, paths, "conv1.weight", 1),
    }


MAPS = {"b": to_dense, "x": to_grouped_second, "y": to_grouped_both}


def _agreements(
    cardinality: int, width: int, channels: int, size: int, seed: int
) -> list[Agreement]:
    nodes = depth2_forms(cardinality, width, channels)
    maps = {k: partial(MAPS[k], paths=cardinality) for k in nodes if k != "a"}
    modules = mapped_forms(nodes, "a", maps, seed)
    x = random_input(2, (channels, size, size), torch.float64, seed)
    outs = outputs(modules, x)
    outs32 = outputs(as_float32(modules), x.float())
    return [
        agreement(outs, "a", "b", "float64"),
        *(agreement(outs, "a", k, "float64", "differ", APART) for k in ("x", "y") if k in outs),
        agreement(outs32, "a", "b", "float32", "report"),
    ]


def _claims(forms: dict[str, Form]) -> list[Claim]:
    a, b = forms["a"], forms["b"]
    claims = [
        Claim(f"(a) and (b): equal params {a.params:,} = {b.params:,}", a.params == b.params),
        Claim(f"(a) and (b): equal MACs {a.macs:,} = {b.macs:,}", a.macs == b.macs),
    ]
    if "x" in forms:
        x = forms["x"]
        claims.append(
            Claim(
                f"(x) has fewer weights than (a): {x.weights:,} < {a.weights:,}",
                x.weights < a.weights,
            )
        )
    return claims


def prove_depth2(
    cardinality: int = 32, width: int = 4, channels: int = 64, size: int = 56, seed: int = 0
) -> Proof:
    """Build Fig. 4's aggregated and dense blocks and the grouped look-alikes; compare.

    Args:
        cardinality: C paths.
        width: d, the width of each path's first conv.
        channels: block input and output channels (64: a ResNet-18/34 conv2 basic block). The
            grouped look-alikes need C to divide it and are left out otherwise.
        size: feature map side for costs (outputs are compared on 2 images of at most
            :data:`~archprobe.proofs.common.COMPARE_SIZE`).
        seed: seed of the random weights and input.
    """
    require_positive(cardinality=cardinality, width=width, channels=channels, size=size)
    nodes = depth2_forms(cardinality, width, channels)
    shape = (channels, size, size)
    forms = {k: measured_form(k, DEPTH2_NAMES[k], n, shape) for k, n in nodes.items()}
    agreements = _agreements(cardinality, width, channels, min(size, COMPARE_SIZE), seed)
    notes = [NOTE]
    if "x" not in forms:
        notes.append(f"(x), (y) left out: C={cardinality} does not divide {channels} channels.")
    return Proof(
        title=f"ResNeXt Fig. 4: depth-2 aggregation is trivially wide, C={cardinality}, d={width}",
        ref="ResNeXt §3.3, Fig. 4, footnote 3",
        setting=f"{channels} channels, {size}×{size} input, identity shortcut, ReLU after the add",
        forms=tuple(forms.values()),
        agreements=tuple(agreements),
        claims=tuple(_claims(forms)),
        notes=(*notes, "Why (x) differs: " + WHY),
        conclusion=_conclusion(cardinality, width, agreements[0].max_abs),
    )


def _conclusion(cardinality: int, width: int, err: float) -> str:
    return (
        f"C={cardinality} paths of depth 2 are exactly one dense block of width "
        f"{cardinality * width} (max |Δ| {err:.0e}, equal params and MACs): at depth 2 "
        "aggregation adds nothing. For ResNeXt use a bottleneck (depth 3, Fig. 3); a basic "
        "block with groups=C is the block-diagonal (y), a different and smaller model."
    )
