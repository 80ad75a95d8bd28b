"""Sweep analysis (archprobe.sweep.analysis): the frame, and Pareto/EDF/trend against oracles
written independently here (brute force, or numbers worked out by hand)."""

from __future__ import annotations

import math
import random
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archprobe.sweep.analysis import (
    axis_columns,
    axis_values,
    bin_axis,
    edf,
    load_frame,
    pareto_front,
    trend,
)
from archprobe.sweep.store import Store


def _row(
    sweep: str,
    idx: int,
    config: dict[str, Any],
    measured: dict[str, Any] | None = None,
    cost: int = 1,
) -> dict[str, Any]:
    return {
        "key": f"{sweep}-{idx}", "sweep": sweep, "idx": idx, "config": config,
        "params": 10 * cost, "macs": 100 * cost, "acts": 1000 * cost, "measured": measured,
    }  # fmt: skip


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Two sweeps, one with a list-valued axis; a timed row, an OOM row, a measured-name clash."""
    ok = {"latency_s": 0.02, "latency_iqr_s": 0.001, "status": "ok", "macs": 7}
    oom = {"latency_s": float("nan"), "latency_iqr_s": None, "status": "oom"}
    path = tmp_path / "s.db"
    store = Store(path)
    store.add(
        [
            _row("b", 0, {"block.groups": 2, "stages": [1, 2]}, cost=3),
            _row("a", 1, {"block.groups": 1}, ok, cost=2),
            _row("a", 0, {"block.groups": 4}, oom),
        ]
    )
    store.close()
    return path


def test_load_frame_columns_order_and_derived(db: Path) -> None:
    df = load_frame(db)
    assert list(df.columns) == [
        "key", "sweep", "idx", "params", "macs", "acts", "block.groups", "stages",
        "latency_s", "latency_iqr_s", "status", "measured.macs", "latency_ms", "latency_iqr_ms",
    ]  # fmt: skip
    assert df["key"].tolist() == ["a-0", "a-1", "b-0"]  # sweep, then index order
    assert df["macs"].tolist() == [100, 200, 300]  # analytic MACs kept; measured one renamed
    assert df["measured.macs"].tolist()[1] == 7
    assert df["latency_ms"].tolist()[1] == pytest.approx(20.0)
    assert math.isnan(df["latency_ms"][0]) and math.isnan(df["latency_iqr_ms"][0])  # oom
    assert math.isnan(df["latency_ms"][2])  # sweep b measured nothing
    assert df["stages"][2] == "[1, 2]"  # lists as JSON text, so they can be grouped
    assert axis_columns(df) == ["block.groups", "stages"]
    assert df.attrs["measured"] == ["latency_s", "latency_iqr_s", "status", "measured.macs"]


def test_load_frame_missing_db_is_an_error_and_not_created(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such sweep database"):
        load_frame(tmp_path / "nope.db")
    assert not (tmp_path / "nope.db").exists()


def _dominated(p: tuple[float, float], q: tuple[float, float]) -> bool:
    """Whether q dominates p (both minimised)."""
    return q[0] <= p[0] and q[1] <= p[1] and (q[0] < p[0] or q[1] < p[1])


def _brute_front(xs: list[float], ys: list[float]) -> set[int]:
    pts = {i: (x, y) for i, (x, y) in enumerate(zip(xs, ys, strict=True))
           if not (math.isnan(x) or math.isnan(y))}  # fmt: skip
    return {i for i, p in pts.items() if not any(_dominated(p, q) for q in pts.values())}


def test_pareto_hand_example_with_ties() -> None:
    df = pd.DataFrame({
        "x": [1, 1, 2, 2, 3, 3, 0, 4, float("nan"), 1],
        "y": [5, 6, 3, 3, 3, 1, 9, 0, -1, 5],
    })  # fmt: skip
    front = pareto_front(df, "x", "y")
    # (1,5) twice: duplicates stay; (2,3) twice; (3,3) loses to (2,3); NaN x left out.
    assert front.index.tolist() == [6, 0, 9, 2, 3, 5, 7]
    assert front["x"].tolist() == sorted(front["x"].tolist())


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.one_of(st.integers(0, 6), st.just(-99))),
                max_size=40))  # fmt: skip
def test_pareto_matches_brute_force(points: list[tuple[int, int]]) -> None:
    # Small integer ranges force ties; -99 stands for a NaN.
    xs = [float(x) for x, _ in points]
    ys = [math.nan if y == -99 else float(y) for _, y in points]
    front = pareto_front(pd.DataFrame({"x": xs, "y": ys}), "x", "y")
    assert set(front.index) == _brute_front(xs, ys)
    pairs = list(zip(front["x"], front["y"], strict=True))
    assert pairs == sorted(pairs)


def test_pareto_random_floats_and_scale() -> None:
    rng = random.Random(0)
    xs = [rng.lognormvariate(0, 1) for _ in range(400)]
    ys = [1 / x + rng.random() for x in xs]
    front = pareto_front(pd.DataFrame({"x": xs, "y": ys}), "x", "y")
    assert set(front.index) == _brute_front(xs, ys)
    n = 200_000  # brute force would take hours; one sort takes well under a second
    big = pd.DataFrame(
        {"x": [rng.random() for _ in range(n)], "y": [rng.random() for _ in range(n)]}
    )
    start = time.perf_counter()
    pareto_front(big, "x", "y")
    assert time.perf_counter() - start < 2.0


def test_pareto_empty_when_all_nan() -> None:
    df = pd.DataFrame({"x": [math.nan, 1.0], "y": [1.0, math.nan]})
    assert pareto_front(df, "x", "y").empty


@pytest.fixture
def tiny() -> pd.DataFrame:
    return pd.DataFrame({
        "g": [1, 1, 1, 2, 2, None],
        "m": [3.0, 1.0, 3.0, 2.0, math.nan, 5.0],
    })  # fmt: skip


def test_edf_by_hand(tiny: pd.DataFrame) -> None:
    e = edf(tiny, "m")  # values 1, 2, 3, 3, 5 (NaN left out): n = 5
    assert list(e.columns) == ["value", "fraction"]
    assert e["value"].tolist() == [1.0, 2.0, 3.0, 5.0]
    assert e["fraction"].tolist() == pytest.approx([1 / 5, 2 / 5, 4 / 5, 1.0])


def test_edf_per_axis_value_by_hand(tiny: pd.DataFrame) -> None:
    e = edf(tiny, "m", by="g")  # g=1: 1, 3, 3; g=2: 2 (its NaN left out); g=None left out
    assert list(e.columns) == ["g", "value", "fraction"]
    assert e["g"].tolist() == [1, 1, 2] and e["value"].tolist() == [1.0, 3.0, 2.0]
    assert e["fraction"].tolist() == pytest.approx([1 / 3, 1.0, 1.0])


def test_trend_by_hand(tiny: pd.DataFrame) -> None:
    t = trend(tiny, "g", "m")
    assert list(t.columns) == ["g", "count", "median", "min", "max", "mean"]
    assert t["g"].tolist() == [1, 2] and t["count"].tolist() == [3, 1]
    assert t["median"].tolist() == [3.0, 2.0] and t["min"].tolist() == [1.0, 2.0]
    assert t["max"].tolist() == [3.0, 2.0] and t["mean"].tolist() == pytest.approx([7 / 3, 2.0])


def test_bin_axis_and_axis_values() -> None:
    df = pd.DataFrame({"few": [1, 2, 2, 8] * 25, "many": list(range(100)), "s": ["b", "a"] * 50})
    assert bin_axis(df, "few").equals(df["few"])
    assert bin_axis(df, "s").equals(df["s"])
    binned = bin_axis(df, "many", bins=8)
    assert binned.nunique() == 8
    assert binned.is_monotonic_increasing  # bins keep the axis order
    assert abs(binned - df["many"]).max() <= 100 / 8  # each value sits near its bin's median
    assert axis_values(df, "s") == ["a", "b"]
    mixed = pd.DataFrame({"a": [2, "x", 1]})
    assert axis_values(mixed, "a") == [1, 2, "x"]
