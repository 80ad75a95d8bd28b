"""Analytic costs from the op graph alone: no torch, no instantiation (pycls speed, no twin).

Conventions (MACs canonical; see ``archprobe.graph.ops`` for the per-op table):
- ``macs``: conv + linear multiply-accumulates; BN, ReLU, pooling and adds are 0 (the papers'
  "FLOPs", torchvision ``_ops``). ``FlopCounterMode`` reports exactly ``2 × macs``.
- ``params`` includes BN γ/β; BN running statistics are ``buffers`` (torchvision ``num_params``).
  The ResNeXt paper's 25.5M for ResNet-50 is params without BN (facts.md §1.1).
- ``acts``: conv and linear output elements (fvcore/timm "activations").
- ``bytes_read``/``bytes_written``: memory traffic of every op at ``dtype_bytes`` per element
  (ShuffleNet V2 §2 "MAC"), ``weight_bytes`` = params × ``dtype_bytes``.
All values are per sample (batch 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path

from archprobe.analysis.results import Entry, Results
from archprobe.graph.cost import Cost
from archprobe.graph.nodes import Graph
from archprobe.spec.expand import expand
from archprobe.spec.loader import load_spec
from archprobe.spec.schema import ArchSpec

METRICS = ("params", "buffers", "macs", "acts", "weight_bytes", "bytes_read", "bytes_written")


def graph_entries(graph: Graph, dtype_bytes: int = 4) -> list[Entry]:
    """One entry per op, holding every metric of :data:`METRICS`."""
    name = graph.name
    return [
        Entry(
            name,
            leaf.scope,
            leaf.op.kind,
            "analytic",
            {
                "params": c.params,
                "buffers": c.buffers,
                "macs": c.macs,
                "acts": c.acts,
                "weight_bytes": c.params * dtype_bytes,
                "bytes_read": c.read * dtype_bytes,
                "bytes_written": c.written * dtype_bytes,
            },
        )
        for leaf in graph.leaves
        for c in (leaf.cost,)
    ]


_SCALED = {"weight_bytes": "params", "bytes_read": "read", "bytes_written": "written"}
_COST = attrgetter("cost")
_FIELD = {name: attrgetter(name) for name in Cost._fields}


class GraphResults(Results):
    """The analytic results of one graph. The per-op table (one :class:`Entry` per op) is built
    on first use; a whole-model total of a metric of :data:`METRICS` is summed from the leaves'
    costs directly, so ``analyze(spec).total("macs")`` builds no table (issue 16)."""

    def __init__(self, graph: Graph, dtype_bytes: int = 4) -> None:
        self.graph = graph
        self.dtype_bytes = dtype_bytes
        self._entries: tuple[Entry, ...] | None = None

    @property
    def entries(self) -> tuple[Entry, ...]:
        if self._entries is None:
            self._entries = tuple(graph_entries(self.graph, self.dtype_bytes))
        return self._entries

    @entries.setter
    def entries(self, value: tuple[Entry, ...]) -> None:
        self._entries = value

    def total(self, metric: str, scope: str = "", model: str | None = None) -> float:
        if scope or metric not in METRICS or model not in (None, self.graph.name):
            return super().total(metric, scope, model)
        field = _FIELD[_SCALED.get(metric, metric)]
        # C-level getters over the leaves: a generator of getattr calls was a tenth of the total
        total: int = sum(map(field, map(_COST, self.graph.leaves)))
        return total * self.dtype_bytes if metric in _SCALED else total


def analyze(spec: ArchSpec | Graph | str, dtype_bytes: int = 4) -> Results:
    """Analytic params, buffers, MACs, activations and bytes of a spec, per op scope.

    Args:
        spec: a spec, its graph, or a catalog name / YAML path.
        dtype_bytes: bytes per element for the byte metrics (4 = fp32, 2 = fp16/bf16).
    """
    if isinstance(spec, str):
        spec = load_spec(spec)
    graph = spec if isinstance(spec, Graph) else expand(spec)
    return GraphResults(graph, dtype_bytes)


@dataclass(frozen=True)
class Analysis:
    """A spec with its graph and analytic results: what reports need about one model."""

    spec: ArchSpec
    graph: Graph
    results: Results

    @property
    def name(self) -> str:
        return self.graph.name


def analyze_spec(ref: ArchSpec | str | Path, dtype_bytes: int = 4) -> Analysis:
    """Load (if needed), expand and analyze one spec."""
    spec = ref if isinstance(ref, ArchSpec) else load_spec(ref)
    graph = expand(spec)
    return Analysis(spec, graph, GraphResults(graph, dtype_bytes))
