"""The batched RegNet path (sweep/generated.py) equals the per-config path, draw by draw.

Every draw of a batch is also validated from its values (``make_spec``: the generator, the
schema) and costed by the memoised walk of its plan (``fast.spec_cost``); validity, all six Cost
fields and the message of every refused draw must agree. The shipped 400 MF file is checked, and
variants that reach every refusal (w0/wa/wm, num_stages, an empty bottleneck, widths past the
schema, an axis value the parameter model refuses) and other group widths, SE ratios, and
wm ranges. Last, a whole generation (stored keys, values, metrics, tallies) equals today's
per-draw cores path (the batched path switched off).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from archprobe.errors import SpecError
from archprobe.graph.ops import GraphError
from archprobe.sweep import generated
from archprobe.sweep.configs import Generation, config_key, make_spec
from archprobe.sweep.draws import Column, batches
from archprobe.sweep.fast import spec_cost
from archprobe.sweep.samplers import Sampler
from archprobe.sweep.spec import Axis, SweepSpec, load_sweep
from archprobe.sweep.vector import Evaluated

SWEEPS = Path(__file__).resolve().parents[2] / "specs" / "sweeps"
DRAWS = 1000


def _sweep(**axes: Any) -> SweepSpec:
    """The 400 MF sweep with its axes replaced (a tuple: a list axis; a Sampler: sampled)."""
    base = load_sweep(SWEEPS / "regnetx_400mf.yaml")
    made = []
    for name, spec in axes.items():
        key = f"regnet.{name}"
        if isinstance(spec, Sampler):
            made.append(Axis(key, ("regnet", name), sampler=spec))
        else:
            made.append(Axis(key, ("regnet", name), values=tuple(spec)))
    return dataclasses.replace(base, axes=tuple(made))


VARIANTS = {
    "shipped": load_sweep(SWEEPS / "regnetx_400mf.yaml"),
    "any stage count": _sweep(
        depth=Sampler("int", 1, 30),
        w0=Sampler("int", 8, 248, "log_uniform", 8),
        wa=Sampler("float", 0.0, 120.0),
        wm=Sampler("float", 1.05, 4.0, "log_uniform", 0.01),
        group_width=(1, 3, 8, 24, 56, 232, 2048),
        bottleneck_ratio=(0.1, 0.5, 1.0, 2.0),
        se_ratio=(None, 0.25),
    ),
    "refusals": _sweep(
        depth=(1, 4, 13, 22, 40),
        w0=(0, 12, 16, 24, 64),
        wa=(-1.0, 0.0, 8, 24.48, 36.5, 3000.0, 1e300),
        wm=(0.5, 1.0, 1.5, 2.54, 3.0),
        group_width=(8, 16, 0),
        num_stages=(None, 3, 4, 5, True),
    ),
}


def _reference(sweep: SweepSpec, cols: list[Column], i: int) -> tuple[tuple[int, ...] | None, str]:
    values = {c.axis.key: c.table[int(c.codes[i])] for c in cols}
    try:
        spec, _ = make_spec(sweep, values, i)
        return tuple(spec_cost(spec).total), ""
    except (SpecError, GraphError) as exc:
        return None, str(exc)


def _agree(ev: Evaluated, i: int, ref: tuple[tuple[int, ...] | None, str]) -> bool:
    cost, error = ref
    if cost is None:
        return not ev.valid[i] and ev.errors[i] == error
    return bool(ev.valid[i]) and tuple(ev.totals[i].tolist()) == cost and ev.errors[i] == ""


@pytest.mark.parametrize("name", list(VARIANTS))
def test_batched_regnet_costs_equal_the_per_config_path(name: str) -> None:
    sweep = VARIANTS[name]
    fast = generated.evaluator(sweep)
    assert fast is not None
    stream = batches(sweep, DRAWS // 2)  # two batches: the caches carry over between them
    valid = settled = 0
    for _ in range(2):
        cols = next(stream)
        ev = fast.evaluate(cols)
        assert ev.scalar is not None
        refs = [_reference(sweep, cols, i) for i in range(DRAWS // 2)]
        rows = [i for i in range(DRAWS // 2) if not ev.scalar[i]]
        wrong = [i for i in rows if not _agree(ev, i, refs[i])]
        assert not wrong, [(ev.errors[i], refs[i]) for i in wrong[:3]]
        # The rows left to the per-config path are settled by it (Generation.evaluate).
        full, _ = Generation(dataclasses.replace(sweep, constraints={})).evaluate(cols)
        assert all(_agree(full, i, refs[i]) for i in range(DRAWS // 2))
        valid += sum(r[0] is not None for r in refs)
        settled += len(rows)
        if name == "shipped":
            assert not ev.scalar.any()  # the arrays settle every draw of the shipped space
    assert valid >= 25 and settled >= DRAWS // 2, (valid, settled)


def test_the_variants_reach_every_refusal() -> None:
    """So the comparison above covers each kind of message (it cannot pass by having none)."""
    messages = []
    for name in ("any stage count", "refusals"):
        sweep = VARIANTS[name]
        cols = next(batches(sweep, DRAWS))
        messages += [_reference(sweep, cols, i)[1] for i in range(DRAWS)]
    text = "\n".join(messages)
    for needle in (
        "w0 must be",
        "wa must be",
        "wm must be",
        "not num_stages",
        "bottleneck_ratio",
        "block widths over",
        "stages.",
        "regnet.group_width",
        "regnet.num_stages",
    ):
        assert needle in text, needle


def test_wide_tables_pack_and_fall_back_alike() -> None:
    """num_stages refusals of up to 6 widths are keyed on packed ints, longer ones formatted
    row by row: both give the generator's message."""
    sweep = _sweep(depth=(28,), w0=(8,), wa=(40.0, 150.0), wm=(1.3, 2.0), group_width=(8,),
                   num_stages=(2,))  # fmt: skip
    fast = generated.evaluator(sweep)
    assert fast is not None
    cols = next(batches(sweep, 200))
    ev = fast.evaluate(cols)
    counts = set()
    for i in range(200):
        ref = _reference(sweep, cols, i)
        assert _agree(ev, i, ref), (ev.errors[i], ref)
        counts.add(ref[1].count(","))  # the stage count: n - 1 in the list, one after it
    assert min(counts) <= generated.PACKED < max(counts)  # both ways were taken


@pytest.mark.parametrize("name", ["shipped", "refusals"])
def test_a_generation_equals_the_per_draw_cores_path(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stored keys, values, metrics and tallies as before (old databases resume)."""
    sweep = dataclasses.replace(VARIANTS[name], n=12)
    if name != "shipped":
        sweep = dataclasses.replace(sweep, constraints={"macs": (1e8, 1e10)})

    def run() -> tuple[list[Any], Any]:
        gen = Generation(sweep, 1000)
        configs = [(c.key, c.values, c.metrics, c.spec.model_dump()) for b in gen for c in b]
        return configs, gen.tally

    fast, fast_tally = run()
    monkeypatch.setattr(generated, "evaluator", lambda sweep: None)
    slow, slow_tally = run()
    assert len(fast) == 12 and fast == slow
    assert fast_tally == slow_tally and fast_tally.rejected > 0 and fast_tally.invalid > 0


@pytest.mark.parametrize("name", ["shipped", "any stage count"])
def test_keys_from_stage_templates_equal_the_specs_keys(name: str) -> None:
    """Accepted rows are keyed from a template per stage count and block knobs: every key
    equals the hash of the row's own spec, made by the per-config path, and so does the spec a
    config makes when asked."""
    sweep = dataclasses.replace(VARIANTS[name], n=300, constraints={})
    gen = Generation(sweep, 200)
    configs = [c for batch in gen for c in batch]
    assert gen.staged is not None and len(configs) == 300
    shapes = set()
    for c in configs:
        spec, _ = make_spec(sweep, dict(c.values), c.draw)
        assert c.key == config_key(spec, sweep), c.values
        assert c.spec.model_dump() == spec.model_dump()
        shapes.add((len(spec.stages), spec.block.model_dump_json()))
    templates = len(gen.staged.keyer.templates)  # also those of rows dropped as duplicates
    assert 3 <= len(shapes) <= templates
    if name == "shipped":  # 4 stages, a few group widths: templates shared, and filled
        assert templates <= len(configs) // 10


def test_other_sweeps_keep_their_path() -> None:
    """Depth and width axes of a fixed stage table are vector.py's (cores by depth)."""
    assert generated.evaluator(load_sweep(SWEEPS / "resnext_random.yaml")) is None
    mixed = VARIANTS["shipped"]
    extra = Axis("input.size", ("input", "size"), values=(224, 256))
    assert generated.evaluator(dataclasses.replace(mixed, axes=(*mixed.axes, extra))) is None


def test_parts_behind_a_transition_are_costed_one_by_one() -> None:
    """A transition may depend on each part's widths, so the batched path costs its stages'
    first blocks part by part; the totals still equal the per-config path's."""
    shipped = VARIANTS["shipped"]
    doc = {**shipped.base_doc, "transition": {"type": "downsample", "norm": "bn"}}
    sweep = dataclasses.replace(shipped, base_doc=doc)
    fast = generated.evaluator(sweep)
    assert fast is not None and not fast.parts.bare
    cols = next(batches(sweep, 300))
    ev = fast.evaluate(cols)
    assert ev.scalar is not None
    rows = [i for i in range(300) if not ev.scalar[i]]
    assert len(rows) > 150
    assert all(_agree(ev, i, _reference(sweep, cols, i)) for i in rows)
    assert sum(bool(ev.valid[i]) for i in rows) > 50
