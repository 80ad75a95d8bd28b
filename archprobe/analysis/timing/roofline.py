"""Per-layer roofline: arithmetic intensity, bound and attainable time of every conv and linear.

The analytic part is torch-free (importable without torch); measurement (device ceilings by
micro-benchmark, per-layer times by ``torch.profiler``) imports torch inside the functions.

For a layer with ``macs`` multiply-accumulates moving ``bytes`` to and from DRAM, on a device with
peak ``P`` FLOP/s and bandwidth ``B`` bytes/s (Williams, Waterman and Patterson, "Roofline",
CACM 2009)::

    intensity  = macs / bytes                       (MAC per byte; FLOP per byte = 2×)
    attainable = max(2·macs / P, bytes / B)         (seconds: the roofline's lower bound)
    bound      = "compute" if 2·macs / P >= bytes / B else "memory"
    ridge      = P / B                              (FLOP per byte where the two meet)

``bytes`` is ShuffleNet V2's memory access cost (facts.md §7.2) at the dtype's size: each
layer reads its input and weights once and writes its output once. Inputs and outputs scale with
the batch, weights are read once per batch. It assumes **no cache reuse between ops** (every
activation makes a round trip to DRAM) and perfect reuse within an op, so it understates traffic
for a kernel that re-reads tiles and overstates it where consecutive layers meet in cache (small
maps, CPU L2/L3, GPU L2 of 50 MB on H100). Under autocast every tensor is counted at 2 bytes.

Why ResNeXt's grouped 3×3 is memory-bound where ResNet's dense 3×3 is not: the grouped conv
does 1/C of the multiply-adds per output element of a dense conv of its width, but still reads
and writes whole feature maps (ShuffleNet V2 guideline G2), so its intensity is far lower.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from archprobe.analysis.analytic import Analysis, analyze_spec
from archprobe.analysis.results import Entry, Results
from archprobe.analysis.timing.devices import DeviceCeilings, MathMode, math_mode
from archprobe.analysis.timing.layer_times import FORWARD
from archprobe.graph.facts import Leaf
from archprobe.graph.nodes import Graph
from archprobe.graph.ops import Conv
from archprobe.spec.schema import ArchSpec

DTYPE_BYTES = {"fp32": 4, "fp16": 2, "bf16": 2}
Bound = Literal["compute", "memory"]


@dataclass(frozen=True)
class LayerRoofline:
    """One conv or linear layer for one batch. Times in seconds, traffic in bytes.

    Attributes:
        op: the layer in the papers' notation, e.g. "3×3, 128, C=32" (stride as "/2").
        kernel: spatial kernel size (1 for linear layers).
        measured_s: profiler time per call of the batch; None when not measured.
        kind: the op kind ("conv" or "linear"), the ``op`` column of its result rows.
    """

    scope: str
    stage: str
    op: str
    kernel: int
    macs: int
    bytes: int
    attainable_s: float
    bound: Bound
    measured_s: float | None = None
    kind: str = "conv"

    @property
    def intensity(self) -> float:
        """Multiply-accumulates per byte moved."""
        return self.macs / self.bytes

    @property
    def flops_per_byte(self) -> float:
        """FLOPs (2×MAC) per byte moved: the x axis of a roofline plot."""
        return 2 * self.intensity

    @property
    def below_bound(self) -> bool:
        """Measured faster than the roofline allows: a measurement-attribution error (the
        profiler gave this range less than its kernels' time, or caches served traffic the
        no-reuse byte count sends to DRAM), never a performance above the ceiling."""
        return self.measured_s is not None and self.measured_s < self.attainable_s

    @property
    def achieved_flops(self) -> float | None:
        """FLOP/s attained (2·MACs / measured); None when unmeasured or :attr:`below_bound`."""
        if self.measured_s is None or self.below_bound or self.measured_s <= 0:
            return None
        return 2 * self.macs / self.measured_s


@dataclass(frozen=True)
class Group:
    """Totals over a set of layers (a stage, or the stage's 3×3 convs)."""

    layers: int
    memory_bound: int
    macs: int
    bytes: int
    attainable_s: float
    measured_s: float | None
    below_bound: int = 0

    @property
    def bound_summary(self) -> str:
        """``memory-bound: 0 of 3 layers``."""
        return f"memory-bound: {self.memory_bound} of {self.layers} layer" + "s" * (
            self.layers != 1
        )

    @property
    def intensity(self) -> float:
        """MACs per byte of the group as a whole (not a mean of per-layer intensities)."""
        return self.macs / self.bytes if self.bytes else 0.0

    @classmethod
    def of(cls, rows: Sequence[LayerRoofline]) -> Group:
        measured = [r.measured_s for r in rows]
        total = None if None in measured or not rows else sum(m for m in measured if m is not None)
        bound = sum(r.bound == "memory" for r in rows)
        flagged = sum(r.below_bound for r in rows)
        return cls(len(rows), bound, sum(r.macs for r in rows), sum(r.bytes for r in rows),
                   sum(r.attainable_s for r in rows), total, flagged)  # fmt: skip


@dataclass(frozen=True)
class StageRoofline:
    """A stage's layers (``all``) and, of those, its 3×3 convs (``conv3x3``, grouped or dense)."""

    stage: str
    all: Group
    conv3x3: Group


@dataclass(frozen=True)
class RooflineReport:
    """Per-layer roofline of one model at one batch size on one device."""

    model: str
    batch: int
    dtype: str
    math: MathMode
    ceilings: DeviceCeilings
    layers: tuple[LayerRoofline, ...]
    env: Mapping[str, Any] = field(default_factory=dict)
    forward_s: float | None = None  # the profiled forward pass: every kernel, not only the layers
    latency_s: float | None = None  # unprofiled end-to-end median of the interleaved warm-up

    @property
    def layers_s(self) -> float | None:
        """Sum of the conv and linear layers' measured times (None unless all are measured)."""
        return sum(r.measured_s or 0.0 for r in self.layers) if self.measured else None

    @property
    def below_bound(self) -> list[LayerRoofline]:
        """Layers measured faster than their bound (attribution errors: see LayerRoofline)."""
        return [r for r in self.layers if r.below_bound]

    @property
    def ridge_flops_per_byte(self) -> float:
        return self.ceilings.ridge(self.math)

    @property
    def ridge_macs_per_byte(self) -> float:
        return self.ridge_flops_per_byte / 2

    @property
    def measured(self) -> bool:
        return all(r.measured_s is not None for r in self.layers)

    def stages(self) -> list[StageRoofline]:
        """One summary per stage (conv1 … conv5, head), in execution order."""
        labels = list(dict.fromkeys(r.stage for r in self.layers))
        out = []
        for label in labels:
            rows = [r for r in self.layers if r.stage == label]
            k3 = [r for r in rows if r.kernel == 3]
            out.append(StageRoofline(label, Group.of(rows), Group.of(k3)))
        return out

    def with_times(
        self, seconds: Mapping[str, float], env: Mapping[str, Any], latency_s: float | None = None
    ) -> RooflineReport:
        """A copy with measured times (by scope, the forward under :data:`FORWARD`), env and
        the unprofiled end-to-end latency."""
        layers = tuple(replace(r, measured_s=seconds[r.scope]) for r in self.layers)
        forward = seconds.get(FORWARD)
        return replace(self, layers=layers, env={**self.env, **env}, forward_s=forward,
                       latency_s=latency_s)  # fmt: skip

    def to_results(self) -> Results:
        """The report as entries, for the whole batch (``env["batch"]``); per model (scope "",
        op "roofline"): the ceilings and the profiled ``forward_s``; per layer: ``roofline_macs``,
        ``roofline_bytes`` (apart from the per-image ``macs``, so a comparison's totals stay per
        image), ``intensity`` (MAC/B), ``attainable_s`` and, measured, ``measured_s``. The bound
        ("compute" | "memory") is ``env["bound"]``, the op label ``env["layer"]``."""
        c, out = self.ceilings, []
        env = {"batch": self.batch, "dtype": self.dtype, "math": self.math, "ceilings": c.name}
        peaks = {"peak_flops": c.flops(self.math), "bandwidth": c.bandwidth,
                 "ridge_macs_per_byte": self.ridge_macs_per_byte}  # fmt: skip
        ceilings = {**env, "source": c.source}
        out.append(Entry(self.model, "", "roofline", "analytic", peaks, ceilings))
        if self.forward_s is not None:
            timed = {"forward_s": self.forward_s}
            if self.layers_s is not None:
                timed["layers_s"] = self.layers_s
            if self.latency_s is not None:
                timed["latency_s"] = self.latency_s
            out.append(Entry(self.model, "", "roofline", "measured", timed, self.env))
        for r in self.layers:
            where = {"stage": r.stage, "layer": r.op}
            values = {"roofline_macs": r.macs, "roofline_bytes": r.bytes,
                      "intensity": r.intensity, "attainable_s": r.attainable_s}  # fmt: skip
            out.append(Entry(self.model, r.scope, r.kind, "analytic", values,
                             {**env, **where, "bound": r.bound}))  # fmt: skip
            if r.measured_s is not None:
                timed = {"measured_s": r.measured_s}
                if r.achieved_flops is not None:
                    timed["achieved_flops"] = r.achieved_flops
                flag = {"below_bound": r.below_bound}
                out.append(Entry(self.model, r.scope, r.kind, "measured", timed,
                                 {**self.env, **where, **flag}))  # fmt: skip
        return Results(out)


def _label(leaf: Leaf) -> str:
    op = leaf.op
    stride = f", /{op.stride}" if isinstance(op, Conv) and op.stride > 1 else ""
    return op.label() + stride


def layer_roofline(
    leaf: Leaf, stage: str, batch: int, dtype_bytes: int, peak: float, bandwidth: float
) -> LayerRoofline:
    """The roofline of one conv/linear leaf; ``peak`` in FLOP/s, ``bandwidth`` in bytes/s."""
    c = leaf.cost
    weights = c.params  # read once per batch; Cost.read = input + params (+ BN state, not here)
    elements = (c.read - weights + c.written) * batch + weights
    macs = c.macs * batch
    nbytes = elements * dtype_bytes
    compute_s, memory_s = 2 * macs / peak, nbytes / bandwidth
    bound: Bound = "compute" if compute_s >= memory_s else "memory"
    kernel = leaf.op.kernel if isinstance(leaf.op, Conv) else 1
    return LayerRoofline(leaf.scope, stage, _label(leaf), kernel, macs, nbytes,
                         max(compute_s, memory_s), bound, kind=leaf.op.kind)  # fmt: skip


def roofline_layers(graph: Graph) -> list[Leaf]:
    """The conv and linear leaves: the layers a roofline covers (the rest do no MACs)."""
    return [leaf for leaf in graph.leaves if leaf.op.kind in ("conv", "linear")]


def analytic_roofline(
    ref: Analysis | ArchSpec | str | Path,
    batch: int,
    dtype: str,
    ceilings: DeviceCeilings,
    math: MathMode | None = None,
) -> RooflineReport:
    """The roofline from the graph alone (no torch): intensity, bound, attainable time.

    Args:
        ref: an analysis, a spec, or a catalog name / YAML path.
        batch: images per forward pass.
        dtype: "fp32", "fp16" or "bf16" (sets bytes per element and, by default, the math mode).
        ceilings: the device's peaks (``devices.lookup`` or :func:`measure_ceilings`).
        math: the peak to use; default fp32 for fp32 (tf32 needs CUDA: see :func:`roofline`).
    """
    a = ref if isinstance(ref, Analysis) else analyze_spec(ref)
    mode: MathMode = math or math_mode(dtype, "cpu", tf32=False)
    peak, size = ceilings.flops(mode), DTYPE_BYTES[dtype]
    layers = tuple(
        layer_roofline(leaf, a.graph.section_of(leaf.scope), batch, size, peak, ceilings.bandwidth)
        for leaf in roofline_layers(a.graph)
    )
    return RooflineReport(a.name, batch, dtype, mode, ceilings, layers)


def roofline(
    ref: ArchSpec | str | Path,
    batch: int = 1,
    device: str = "auto",
    dtype: str = "fp32",
    channels_last: bool = False,
    measure: bool = True,
    iters: int = 5,
    ceilings: DeviceCeilings | None = None,
) -> RooflineReport:
    """One model's roofline: :func:`roofline_measure.rooflines` of a single model (measured
    unless ``measure`` is False; see there for the arguments)."""
    from archprobe.analysis.timing.roofline_measure import rooflines

    (report,) = rooflines([ref], batch, device, dtype, channels_last, measure, iters, ceilings)
    return report
