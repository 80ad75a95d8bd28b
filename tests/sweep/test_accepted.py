"""A batch's store records, written from its columns, are its configs' rows (sweep/accepted.py).

The records' config JSON is checked byte for byte against the standard library's
``json.dumps(values, sort_keys=True)`` of each config's values; keys, indices and metrics against
the configs themselves, which tests/sweep/test_vector.py checks against the per-config graph walk.
A random sweep's last batch keys only what it needs: whatever the batch size, the same configs and
the same tally come out.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from archprobe.sweep.configs import MAX_DRAWS, Generation
from archprobe.sweep.draws import batches, row_ids
from archprobe.sweep.keyed import Keys
from archprobe.sweep.run import run_sweep
from archprobe.sweep.spec import SweepSpec, load_sweep

SWEEPS = Path(__file__).resolve().parents[2] / "specs" / "sweeps"
FILES = sorted(p.name for p in SWEEPS.glob("*.yaml"))
# Strings, a mapping or null, a sampled float, a key with braces to escape in a format string:
# values whose JSON is not just digits.
MIXED = """sweep: mixed
base: resnet50
mode: random
seed: 3
n: 120
axes:
  stages.0.depth: {int: [1, 3]}
  block.stride_on: ["1x1", "3x3"]
  block.se: [null, {ratio: 0.25}, {ratio: 0.0625}]
  head.dropout: {float: [0.0, 0.5]}
"""


def _mixed(tmp: Path) -> SweepSpec:
    (tmp / "mixed.yaml").write_text(MIXED, encoding="utf-8")
    return load_sweep(tmp / "mixed.yaml")


def _check_records(sweep: SweepSpec) -> int:
    checked = 0
    for batch in Generation(sweep, 97):
        configs = batch.configs()
        records = batch.records(sweep.name, 1.5)
        assert len(records) == len(configs) == len(batch)
        for config, rec in zip(configs, records, strict=True):
            assert rec[3] == json.dumps(config.values, sort_keys=True)
            assert rec[:3] == (config.key, sweep.name, config.index)
            assert rec[4:] == (*(config.metrics[k] for k in ("params", "macs", "acts")), None, 1.5)
            checked += 1
    return checked


@pytest.mark.parametrize("name", FILES)
def test_records_are_the_configs_rows(name: str) -> None:
    sweep = load_sweep(SWEEPS / name)
    if sweep.mode == "random":
        sweep = dataclasses.replace(sweep, n=min(sweep.n or 0, 150))
    assert _check_records(sweep) > 0


def test_records_of_strings_mappings_and_floats(tmp_path: Path) -> None:
    sweep = _mixed(tmp_path)
    assert _check_records(sweep) == sweep.n
    braced = dataclasses.replace(
        sweep, axes=[dataclasses.replace(a, key="{" + a.key + "}") for a in sweep.axes]
    )
    assert _check_records(braced) == sweep.n


def test_a_run_stores_what_the_configs_say(tmp_path: Path) -> None:
    sweep = dataclasses.replace(load_sweep(SWEEPS / "resnext_random_solved.yaml"), n=60)
    configs = [c for batch in Generation(sweep, 64) for c in batch]
    run_sweep(sweep, tmp_path / "s.db", batch=64)
    with sqlite3.connect(tmp_path / "s.db") as db:
        stored = db.execute("SELECT key, idx, config, macs FROM results ORDER BY idx").fetchall()
    assert [(c.key, c.index, c.values, c.metrics["macs"]) for c in configs] == [
        (k, i, json.loads(v), m) for k, i, v, m in stored
    ]
    assert all("block.width_per_group" in c.values for c in configs)


@pytest.mark.parametrize("name", ["resnext_random.yaml", "regnetx_400mf.yaml"])
def test_the_batch_size_changes_neither_configs_nor_tally(name: str) -> None:
    """Batches of 7 never cut the accepted rows; 5,000 cut them to what is still wanted."""
    sweep = load_sweep(SWEEPS / name)
    runs = []
    for size in (7, 300, 5000):
        gen = Generation(sweep, size)
        keys = [c.key for batch in gen for c in batch]
        runs.append((keys, dataclasses.astuple(gen.tally)))
    assert runs[0] == runs[1] == runs[2] and len(runs[0][0]) == sweep.n


SMALL = """sweep: small
base: resnet50
mode: random
seed: 1
n: 12
axes:
  stages.0.depth: {int: [1, 4]}
  block.groups: [1, 2, 4]
  head.dropout: [0.0, 0.2]
"""


def test_row_ids_name_values_across_batches(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(SMALL, encoding="utf-8")
    sweep = load_sweep(tmp_path / "s.yaml")
    stream = batches(sweep, 50)
    pairs: dict[tuple[object, ...], int] = {}
    for cols in (next(stream), next(stream), next(stream)):
        ids = row_ids(cols)
        assert ids is not None
        for i, v in enumerate(ids.tolist()):
            assert pairs.setdefault(tuple(c.python()[i] for c in cols), v) == v
    assert len(set(pairs.values())) == len(pairs) == 24  # every value tuple, one id each
    floats = dataclasses.replace(sweep, axes=[*sweep.axes, *_mixed(tmp_path).axes[-1:]])
    assert row_ids(next(batches(floats, 10))) is None  # a float sampler has no exact code


def test_every_config_of_a_small_space_once_and_its_repeats_counted(tmp_path: Path) -> None:
    """n = the whole space (4 depths x 3 groups x 2 dropouts = 24): all found, and the tally's
    duplicates are the draws whose values came before (counted by brute force)."""
    (tmp_path / "s.yaml").write_text(SMALL, encoding="utf-8")
    sweep = dataclasses.replace(load_sweep(tmp_path / "s.yaml"), n=24)
    gen = Generation(sweep, 16)
    configs = [c for batch in gen for c in batch]
    assert len({json.dumps(c.values, sort_keys=True) for c in configs}) == len(configs) == 24
    seen: set[tuple[object, ...]] = set()
    repeats, drawn = 0, 0
    for cols in batches(sweep, 16):
        for row in zip(*(c.python() for c in cols), strict=True):
            if drawn == gen.tally.drawn:
                break
            repeats += row in seen
            seen.add(row)
            drawn += 1
        if drawn == gen.tally.drawn:
            break
    assert gen.tally.duplicates == repeats > 0 and gen.tally.invalid == gen.tally.rejected == 0


def _drawn_per_batch(gen: Generation, batches_wanted: int) -> list[int]:
    sizes, before = [], 0
    for _ in gen:
        sizes.append(gen.tally.drawn - before)
        before = gen.tally.drawn
        if len(sizes) == batches_wanted:
            break
    return sizes


def test_constrained_batches_draw_about_a_batch_of_configs(tmp_path: Path) -> None:
    """RegNetX at 400 MF keeps about 1 draw in 220: after its first batch, a batch draws
    enough for about ``size`` configs (at most MAX_DRAWS); a grid, every draw new and kept,
    keeps ``size`` draws a batch."""
    regnet = dataclasses.replace(load_sweep(SWEEPS / "regnetx_400mf.yaml"), n=10**6)
    gen = Generation(regnet, 200)
    sizes = _drawn_per_batch(gen, 4)
    assert sizes[0] <= 200 and all(10_000 <= s <= MAX_DRAWS for s in sizes[1:]), sizes
    rate = gen.accepted / gen.tally.drawn
    assert 1 / 400 < rate < 1 / 100  # the premise: about 1 in 220
    listed = SMALL.replace("mode: random", "mode: grid").replace("{int: [1, 4]}", "[1, 2, 3, 4]")
    (tmp_path / "s.yaml").write_text(listed, encoding="utf-8")
    grid = load_sweep(tmp_path / "s.yaml")  # 4 x 3 x 2 configs
    assert _drawn_per_batch(Generation(grid, 5), 9) == [5, 5, 5, 5, 4]


def test_keys_are_dense_ids_stable_across_lookups() -> None:
    """Keys.lookup against a dict of first sight, on batches with repeats and new keys."""
    rng = np.random.default_rng(3)
    keys, seen = Keys(), dict[int, int]()
    for _ in range(20):
        packed = rng.integers(-(1 << 40), 1 << 40, 300) // (1 << 34)  # ~130k values: repeats
        ids, new = keys.lookup(packed)
        fresh = sorted({int(k) for k in packed} - set(seen))
        assert sorted(int(k) for k in packed[new]) == fresh  # one row of each new key
        base = len(seen)
        seen.update({k: base + i for i, k in enumerate(fresh)})  # new ids in key order
        assert ids.tolist() == [seen[int(k)] for k in packed]
    assert len(keys) == len(seen)
