"""A plain net and its residual twins differ only by their projection shortcuts (torch-free).

ResNet §4.1 compares plain and residual nets "of the same number of parameters, depth, width,
and computational cost (except for the negligible element-wise addition)" with option A, and
Table 3 adds option B's projections. Here the three variants of one catalog spec are expanded
from the same stages; the claims check that params and MACs differ exactly by the projections.
"""

from __future__ import annotations

from pathlib import Path

from archprobe.analysis.analytic import analyze
from archprobe.analysis.results import Results
from archprobe.errors import ArchprobeError
from archprobe.proofs.results import Claim, Form, Proof
from archprobe.spec.expand import expand
from archprobe.spec.loader import load_spec
from archprobe.spec.schema import ArchSpec

VARIANTS = {  # shortcut kind: (form key, name, shortcuts)
    "none": ("plain", "plain net", "no shortcuts"),
    "identity_pad": ("A", "residual, option A", "identity; zero-padded where the shape changes"),
    "conv1x1": ("B", "residual, option B", "identity; 1×1 projection + BN where the shape changes"),
}


def with_shortcut(spec: ArchSpec, kind: str) -> ArchSpec:
    """The same spec with every stage's block using shortcut ``kind``."""
    stages = []
    for stage in spec.stages:
        if "shortcut" not in type(stage.block).model_fields:
            raise ArchprobeError(f"{spec.name}: block {stage.block.type!r} has no shortcut knob")
        block = stage.block.model_copy(update={"shortcut": kind})
        stages.append(stage.model_copy(update={"block": block}))
    return spec.model_copy(update={"name": f"{spec.name}/{kind}", "stages": tuple(stages)})


def _projections(results: Results, metric: str) -> float:
    return sum(e.values.get(metric, 0) for e in results.entries if ".downsample" in e.scope)


def _form(kind: str, spec: ArchSpec) -> tuple[Form, Results]:
    graph = expand(spec)
    r = analyze(graph)
    weights = int(sum(v for op, v in r.by_op("params").items() if op in ("conv", "linear")))
    moved = int(r.total("bytes_read") + r.total("bytes_written"))
    key, name, shortcuts = VARIANTS[kind]
    params, macs = int(r.total("params")), int(r.total("macs"))
    return Form(key, name, shortcuts, params, weights, macs, len(graph.leaves), moved), r


def prove_twins(ref: ArchSpec | str | Path = "resnet34") -> Proof:
    """Plain, option-A and option-B variants of one spec: costs differ only by projections."""
    base = ref if isinstance(ref, ArchSpec) else load_spec(ref)
    built = {k: _form(k, with_shortcut(base, k)) for k in VARIANTS}
    plain, a, b = (built[k][0] for k in VARIANTS)
    rb = built["conv1x1"][1]
    proj_p, proj_m = _projections(rb, "params"), _projections(rb, "macs")
    return Proof(
        title=f"{base.name}: the plain net and its residual twins",
        ref="ResNet §4.1, Table 2–3",
        setting=f"{base.name} stages, shortcut none / identity_pad / conv1x1",
        forms=(plain, a, b),
        agreements=(),
        claims=(
            Claim(
                f"option A = plain in params ({a.params:,}) and MACs",
                a.params == plain.params and a.macs == plain.macs,
            ),
            Claim(
                f"B − plain = projection params {proj_p:,.0f}", b.params - plain.params == proj_p
            ),
            Claim(f"B − plain = projection MACs {proj_m:,.0f}", b.macs - plain.macs == proj_m),
        ),
        notes=("Option A's zero-padded identity and the adds cost no params and no MACs.",),
        conclusion=f"the residual twin adds only its shortcuts: option A is free, option B adds "
        f"{proj_p:,.0f} params and {proj_m:,.0f} MACs of 1×1 projections.",
    )
