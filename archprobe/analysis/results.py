"""One tidy result table, many views (DESIGN §7.5).

Stored wide, one :class:`Entry` per (model, scope, op, method) with a dict of metrics, because an
analysis creates one per op and must stay cheap; read long, as rows of (model, scope, op, metric,
value, unit, method), by reports and :meth:`Results.to_frame`. Queries follow fvcore's ``total`` /
``by_module`` / ``by_operator`` with named scopes. pandas is imported only by ``to_frame``.

Result objects draw themselves in a notebook (``_repr_html_``, ``figure()``) through
:data:`VIEWS`: the drawing lives in ``report/html/notebook.py``, a layer above this one that
analysis/ never imports (tests/test_boundaries.py), so ``archprobe/__init__.py`` registers it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple

from archprobe.errors import ArchprobeError

if TYPE_CHECKING:
    import pandas as pd

UNITS = {
    "params": "count",
    "buffers": "count",
    "macs": "MAC",
    "flops": "FLOP (2×MAC)",
    "acts": "elements",
    "weight_bytes": "B",
    "bytes_read": "B",
    "bytes_written": "B",
    "peak_bytes": "B",
    "latency_s": "s",
    "latency_iqr_s": "s",
    "throughput": "images/s",
    "flops_bwd": "FLOP (2×MAC)",
    "elem_ops": "elementwise ops",
    "elem_ops_bwd": "elementwise ops",
    # memory (analysis/memory/results.py): per layer, and the step's peak above its baseline
    "params_bytes": "B",
    "grads_bytes": "B",
    "optimizer_bytes": "B",
    "saved_bytes": "B",
    "output_bytes": "B",
    "step_peak_bytes": "B",
    # roofline (RooflineReport.to_results): per layer for the whole batch, and the ceilings
    "roofline_macs": "MAC",
    "roofline_bytes": "B",
    "intensity": "MAC/B",
    "attainable_s": "s",
    "measured_s": "s",
    "forward_s": "s",
    "peak_flops": "FLOP/s",
    "bandwidth": "B/s",
    "ridge_macs_per_byte": "MAC/B",
    # latency ratios to the baseline (LatencyReport.to_results)
    "throughput_ratio": "ratio",
    "throughput_ratio_low": "ratio",  # its 95% bootstrap interval
    "throughput_ratio_high": "ratio",
    # sweeps and the width solver (sweep/results.py)
    "train_peak_bytes": "B",
    "train_peak_predicted_bytes": "B",
    "train_peak_measured_bytes": "B",
    "block_params": "count",
    "block_macs": "MAC",
    "group_width": "channels",
}
COLUMNS = ["model", "scope", "op", "metric", "value", "unit", "method"]


class Entry(NamedTuple):
    """The metrics of one op (or module) of one model, by one method."""

    model: str
    scope: str
    op: str  # conv, norm, act, pool, linear, add, shortcut ("" when unknown)
    method: str  # analytic | traced | measured
    values: Mapping[str, float]
    env: Mapping[str, Any] = {}  # device, dtype, batch, ... of measured rows; never mutated


class Row(NamedTuple):
    model: str
    scope: str
    op: str
    metric: str
    value: float
    unit: str
    method: str
    env: Mapping[str, Any] = {}  # device, dtype, batch, ... of measured rows; never mutated


def in_scope(scope: str, prefix: str) -> bool:
    """True when ``scope`` is ``prefix`` or lies under it (``layer1`` covers ``layer1.0.conv1``)."""
    return not prefix or scope == prefix or scope.startswith(prefix + ".")


View = Callable[[Any], Any]
VIEWS: dict[str, View] = {}
"""How result objects are drawn outside the terminal, by kind: ``"html"`` (a notebook's
``_repr_html_``) and ``"figures"`` (``figure()``: plotly figures by name). Registered once, by
``archprobe/__init__.py``, from ``report/html/notebook.py``."""


def register_view(kind: str, view: View) -> None:
    """Register the view of ``kind``; a second one for the same kind is an error (STYLE 6)."""
    if kind in VIEWS:
        raise ValueError(f"a {kind!r} view is already registered: {VIEWS[kind]!r}")
    VIEWS[kind] = view


def draw(kind: str, obj: object) -> Any:
    """``obj`` drawn by the registered view of ``kind`` (``"html"`` or ``"figures"``)."""
    view = VIEWS.get(kind)
    if view is None:
        raise ArchprobeError(f"no {kind!r} view is registered; `import archprobe` registers them")
    return view(obj)


def name_list(names: Sequence[str], sep: str = ", ", most: int = 3, width: int = 40) -> str:
    """Names for a one-line repr: at most ``most`` of them, each cut to ``width`` characters."""
    cut = [n if len(n) <= width else n[: width - 1] + "…" for n in names[:most]]
    more = f" (+{len(names) - most} more)" if len(names) > most else ""
    return sep.join(cut) + more


class Results:
    """Entries of one or more models; every query is a sum over matching entries."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.entries: tuple[Entry, ...] = tuple(entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __repr__(self) -> str:
        methods = ", ".join(dict.fromkeys(e.method for e in self.entries)) or "empty"
        return f"Results({name_list(self.models)}: {len(self.entries)} entries, {methods})"

    def _repr_html_(self) -> str:
        """A notebook's view: per-image totals per model, per-scope details (report/)."""
        html: str = draw("html", self)
        return html

    def __add__(self, other: Results) -> Results:
        return Results(self.entries + other.entries)

    @cached_property
    def rows(self) -> tuple[Row, ...]:
        """The long view: one row per non-zero (entry, metric)."""
        return tuple(
            Row(e.model, e.scope, e.op, metric, value, UNITS.get(metric, ""), e.method, e.env)
            for e in self.entries
            for metric, value in e.values.items()
            if value
        )

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)

    @property
    def models(self) -> list[str]:
        return list(dict.fromkeys(e.model for e in self.entries))

    def select(self, model: str | None = None, method: str | None = None) -> Results:
        return Results(
            e
            for e in self.entries
            if (model is None or e.model == model) and (method is None or e.method == method)
        )

    def total(self, metric: str, scope: str = "", model: str | None = None) -> float:
        """Sum of ``metric`` over ``scope`` and everything under it ("" = the whole model)."""
        return sum(
            e.values.get(metric, 0)
            for e in self.entries
            if in_scope(e.scope, scope) and (model is None or e.model == model)
        )

    def by_scope(self, metric: str, depth: int = 1, model: str | None = None) -> dict[str, float]:
        """Totals per scope prefix of ``depth`` components, in execution order."""
        out: dict[str, float] = defaultdict(float)
        for e in self.entries:
            if metric in e.values and (model is None or e.model == model):
                out[".".join(e.scope.split(".")[:depth])] += e.values[metric]
        return dict(out)

    def by_op(self, metric: str, model: str | None = None) -> dict[str, float]:
        """Totals per op kind (conv, norm, act, pool, linear, add, shortcut); zeros omitted."""
        out: dict[str, float] = defaultdict(float)
        for e in self.entries:
            if e.values.get(metric) and (model is None or e.model == model):
                out[e.op] += e.values[metric]
        return dict(out)

    def to_records(self) -> list[dict[str, Any]]:
        """Long rows as flat dicts; each env key becomes a column of its own."""
        records = []
        for r in self.rows:
            record = {c: getattr(r, c) for c in COLUMNS}
            record.update(r.env)
            records.append(record)
        return records

    def to_frame(self) -> pd.DataFrame:
        """The long rows as a pandas DataFrame (pandas imported here, lazily); env keys are
        extra columns after the fixed ones."""
        import pandas as pd

        records = self.to_records()
        extra = list(dict.fromkeys(k for rec in records for k in rec if k not in COLUMNS))
        return pd.DataFrame(records, columns=[*COLUMNS, *extra])
