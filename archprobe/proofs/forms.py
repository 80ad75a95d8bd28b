"""ResNeXt Fig. 3: the three forms of an aggregated block are one function at one cost.

Form (a) is the definition, y = x + Σᵢ 𝒯ᵢ(x) (Eq. 3). Its random weights are mapped exactly to
(b), early concatenation (footnote 3: A₁B₁ + A₂B₂ = [A₁, A₂][B₁; B₂], so the paths' last 1×1s
become one 1×1 over the concatenation), and to (c), where the first 1×1s stack into one wider
1×1 and path i's 3×3 becomes group i of a grouped 3×3 (§3.3). Outputs agree to rounding; params
and MACs are equal; speed is not (§4: (c) is "more succinct and faster").
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import torch

from archprobe.proofs.common import (
    COMPARE_SIZE,
    StateDict,
    agreement,
    as_float32,
    build_forms,
    cat_paths,
    mapped_forms,
    measured_form,
    outputs,
    random_input,
    require_positive,
    shared,
    stacked_bn,
)
from archprobe.proofs.graphs import FORM_NAMES, bottleneck_forms
from archprobe.proofs.results import Agreement, Claim, Form, Proof, Timing
from archprobe.proofs.timing import TimingPlan, time_forms

DEFAULT_TIMING = TimingPlan()
"""One image per forward, CPU (and CUDA when present), about 0.2 s of measurement per form."""

BN_NOTE = (
    "BN and ReLU (ResNeXt §4, 'when BN and ReLU are appropriately addressed'): BN is per "
    "channel, so each path's BN after its 1×1 and 3×3 is the slice of the wide BN in (c); the "
    "last BN normalises the aggregated sum, once, in every form. ReLU after each inner BN and "
    "after the residual add. Compared in eval mode with random running statistics, and in "
    "training mode (batch statistics)."
)


def to_concat(sd: StateDict, paths: int) -> StateDict:
    """(a) → (b): the paths' last 1×1s side by side along their input channels."""
    out = {k: v for k, v in sd.items() if ".conv3." not in k}
    out["conv3.weight"] = cat_paths(sd, paths, "conv3.weight", dim=1)
    return out


def to_grouped(sd: StateDict, paths: int) -> StateDict:
    """(a) → (c): stacked first 1×1s and 3×3s (path i = group i), side-by-side last 1×1s."""
    return {
        "conv1.weight": cat_paths(sd, paths, "conv1.weight"),
        **stacked_bn(sd, paths, "bn1"),
        "conv2.weight": cat_paths(sd, paths, "conv2.weight"),
        **stacked_bn(sd, paths, "bn2"),
        "conv3.weight": cat_paths(sd, paths, "conv3.weight", dim=1),
        **shared(sd, "bn3"),
    }


def _agreements(
    cardinality: int, width: int, channels: int, size: int, seed: int
) -> list[Agreement]:
    maps = {"b": partial(to_concat, paths=cardinality), "c": partial(to_grouped, paths=cardinality)}
    modules = mapped_forms(bottleneck_forms(cardinality, width, channels), "a", maps, seed)
    x = random_input(2, (channels, size, size), torch.float64, seed)
    outs = outputs(modules, x)
    outs32 = outputs(as_float32(modules), x.float())
    train = outputs({k: m.train() for k, m in modules.items()}, x)  # BN on batch statistics
    return [
        *(agreement(outs, "a", k, "float64") for k in maps),
        *(agreement(train, "a", k, "float64, train-mode BN") for k in maps),
        *(agreement(outs32, "a", k, "float32", "report") for k in maps),
    ]


def _claims(forms: Sequence[Form], cardinality: int, width: int, channels: int) -> list[Claim]:
    c, d, n = cardinality, width, channels
    eq4 = c * (n * d + 3 * 3 * d * d + d * n)
    params = {f.params for f in forms}
    macs = {f.macs for f in forms}
    return [
        Claim(f"equal params: {' = '.join(f'{f.params:,}' for f in forms)}", len(params) == 1),
        Claim(f"equal MACs: {' = '.join(f'{f.macs:,}' for f in forms)}", len(macs) == 1),
        Claim(
            f"conv weights = Eq. 4, C·({n}·d + 3·3·d·d + d·{n}) = {eq4:,}",
            all(f.weights == eq4 for f in forms),
        ),
    ]


def _conclusion(forms: Sequence[Form], timings: Sequence[Timing], max_err: float) -> str:
    a, c = forms[0], forms[-1]
    text = (
        f"one function at one cost: equal params and MACs, outputs equal to {max_err:.0e} "
        f"(float64). Not one speed: (a) runs {a.ops} ops and moves {a.bytes_moved / 2**20:.0f} "
        f"MiB, (c) {c.ops} ops and {c.bytes_moved / 2**20:.0f} MiB"
    )
    for device in dict.fromkeys(t.device for t in timings):
        by = {t.form: t.median_s for t in timings if t.device == device}
        text += f"; on {device} (c) is {by['a'] / by['c']:.1f}× faster than (a)"
    return text + " — why ResNeXt implements Fig. 3(c) (§4)."


def prove_forms(
    cardinality: int = 32,
    width: int = 4,
    channels: int = 256,
    size: int = 56,
    timing: TimingPlan | None = DEFAULT_TIMING,
    seed: int = 0,
) -> Proof:
    """Build Fig. 3 (a), (b), (c), map the weights, compare outputs, costs and speed.

    Args:
        cardinality: C, the number of paths (groups).
        width: d, the bottleneck width of each path.
        channels: block input and output channels (256 in Fig. 3).
        size: feature map side for costs and timing (56: conv2, ResNeXt Table 2). Outputs are
            compared on 2 images of at most :data:`COMPARE_SIZE`.
        timing: how to time the forms (float32), or None not to.
        seed: seed of the random weights and input.
    """
    require_positive(cardinality=cardinality, width=width, channels=channels, size=size)
    nodes = bottleneck_forms(cardinality, width, channels)
    shape = (channels, size, size)
    forms = tuple(measured_form(k, FORM_NAMES[k], n, shape) for k, n in nodes.items())
    agreements = _agreements(cardinality, width, channels, min(size, COMPARE_SIZE), seed)
    modules = build_forms(nodes, torch.float32) if timing else {}
    timings = time_forms(modules, shape, timing) if timing else ()
    max_err = max(a.max_abs for a in agreements if a.dtype == "float64")
    return Proof(
        title=f"ResNeXt Fig. 3: three forms of one block, C={cardinality}, d={width}",
        ref="ResNeXt §3.3, §4, Eq. 3–4, footnote 3",
        setting=f"{channels} channels, {size}×{size} input, identity shortcut, ReLU after the add",
        forms=forms,
        agreements=tuple(agreements),
        claims=tuple(_claims(forms, cardinality, width, channels)),
        notes=(BN_NOTE,),
        conclusion=_conclusion(forms, timings, max_err),
        timings=timings,
    )
