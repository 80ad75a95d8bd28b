"""Results queries and the pandas view (sums checked against hand-added op costs)."""

from __future__ import annotations

from archprobe.analysis.analytic import analyze_spec


def test_total_by_scope_by_op_agree() -> None:
    a = analyze_spec("resnet18")
    r = a.results
    layer1 = sum(leaf.cost.macs for leaf in a.graph.leaves if leaf.scope.startswith("layer1."))
    assert r.total("macs", "layer1") == layer1
    assert r.total("macs", "layer1.0.conv1") == 64 * 64 * 9 * 56 * 56  # 3×3, 64→64 at 56²
    assert sum(r.by_scope("macs").values()) == r.total("macs")
    assert set(r.by_op("params")) == {"conv", "norm", "linear"}
    assert "layer1.0" in r.by_scope("params", depth=2)


def test_to_frame_columns() -> None:
    df = analyze_spec("resnet20").results.to_frame()
    assert list(df.columns) == ["model", "scope", "op", "metric", "value", "unit", "method"]
    params = df[df.metric == "params"].value.sum()
    assert params == 269_722  # ResNet paper Table 6: 0.27M; exact count from facts-style sum
    assert set(df.method) == {"analytic"}
