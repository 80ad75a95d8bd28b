"""`compare`: per-stage numbers against hand computation from the papers' block formulas,
the paper line, exports, and the library call. Ground truth is written out here from ResNeXt
§3.4 (Eq. 4: C·(cin·d + 9·d² + d·cout) per block) and ResNet Table 1, not taken from the code."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from archprobe.analysis.compare import compare
from archprobe.analysis.stages import stage_rows
from archprobe.errors import ArchprobeError
from archprobe.report.assemble import assemble
from archprobe.report.export import markdown, write_csv, write_json

# (blocks, block output width, output size) of ResNet-50 / ResNeXt-50 stages conv2..conv5
STAGES = [(3, 256, 56), (4, 512, 28), (6, 1024, 14), (3, 2048, 7)]


def bottleneck_stage(groups: int, d: int, stage: int) -> tuple[int, int]:
    """Params (conv + BN affine) and MACs of one stage, stride on the 3×3 (ResNeXt §4)."""
    n, cout, size = STAGES[stage]
    cin = 64 if stage == 0 else STAGES[stage - 1][1]
    b = (
        groups * (cout // 4) * d // 64
    )  # bottleneck width C·d (Table 1: 128, 256, 512, 1024 for 32×4d)
    params = macs = 0
    for j in range(n):
        c_in = cin if j == 0 else cout
        in_size = (
            size * 2 if (j == 0 and stage > 0) else size
        )  # the first 1×1 runs before the stride
        conv = c_in * b + 9 * b * b // groups + b * cout
        params += conv + 2 * (b + b + cout)
        macs += in_size**2 * c_in * b + size**2 * (9 * b * b // groups + b * cout)
        if j == 0:  # projection shortcut (option B): 1×1 conv + BN
            params += c_in * cout + 2 * cout
            macs += size**2 * c_in * cout
    return params, macs


@pytest.mark.parametrize(("name", "groups", "d"), [("resnet50", 1, 64), ("resnext50", 32, 4)])
def test_stage_rows_equal_hand_computation(name: str, groups: int, d: int) -> None:
    a = compare([name, "resnet18"]).models[0]
    rows = {r.label: r for r in stage_rows(a.graph, a.results, ("params", "macs"))}
    # conv1: 7×7×3×64 conv + BN at 112×112 (ResNet Table 1)
    assert rows["conv1"].values == {"params": 7 * 7 * 3 * 64 + 128, "macs": 112**2 * 7 * 7 * 3 * 64}
    for stage in range(4):
        params, macs = bottleneck_stage(groups, d, stage)
        assert rows[f"conv{stage + 2}"].values == {"params": params, "macs": macs}
    assert rows["head"].values == {"params": 2048 * 1000 + 1000, "macs": 2048 * 1000}
    assert sum(r.values["params"] for r in rows.values()) == a.results.total("params")
    assert sum(r.values["macs"] for r in rows.values()) == a.results.total("macs")


def test_stage_shapes_match_resnext_table1() -> None:
    c = compare(["resnet50", "resnext50"])
    shapes = [[r.shape for r in stage_rows(m.graph, m.results, ())] for m in c.models]
    assert shapes[0][1] == "3×3 max pool, stride 2; [1×1, 64; 3×3, 64; 1×1, 256] ×3"
    assert shapes[1][1] == "3×3 max pool, stride 2; [1×1, 128; 3×3, 128, C=32; 1×1, 256] ×3"
    assert shapes[1][4] == "[1×1, 1024; 3×3, 1024, C=32; 1×1, 2048] ×3"
    outputs = [r.output for r in stage_rows(c.models[0].graph, c.models[0].results, ())]
    assert outputs == ["112×112", "56×56", "28×28", "14×14", "7×7", "1×1"]


def test_library_call_returns_rows_for_all_models() -> None:
    c = compare(["resnet50", "resnext50", "resnet18"])
    df = c.to_frame()
    assert set(df.model) == {"resnet50", "resnext50_32x4d", "resnet18"}
    macs = df[df.metric == "macs"].groupby("model").value.sum()
    assert macs["resnet50"] == 4_089_184_256 and macs["resnext50_32x4d"] == 4_230_479_872


def test_duplicates_and_single_model_are_errors() -> None:
    with pytest.raises(ArchprobeError, match="at least two"):
        compare(["resnet50"])
    with pytest.raises(ArchprobeError, match="more than once"):
        compare(["resnext50", "resnext50_32x4d"])


def test_paper_line_and_markdown() -> None:
    text = markdown(assemble(compare(["resnet50", "resnext50"])))
    # ResNeXt Table 1: 25.5M / 25.0M params (conv + fc only), 4.1 / 4.2 G multiply-adds
    assert "| resnet50 | ResNeXt Table 1 | params | 25.5M | 25,503,912 (w/o BN) | rounded |" in text
    assert "| resnext50_32x4d | ResNeXt Table 1 | macs | 4.2G | 4,230,479,872 | rounded |" in text
    assert "DIFFERS" not in text
    assert "25,028,904 (−2.1%)" in text  # one minus sign (U+2212) in every delta


def test_csv_and_json_round_trip(tmp_path: Path) -> None:
    c = compare(["resnet20", "resnet32"])
    write_csv(assemble(c), tmp_path / "r.csv")
    write_json(assemble(c), tmp_path / "r.json")
    with (tmp_path / "r.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(c.results.rows)
    assert (
        sum(float(r["value"]) for r in rows if r["metric"] == "params" and r["model"] == "resnet20")
        == 269_722
    )
    payload = json.loads((tmp_path / "r.json").read_text())
    assert payload["rows"] == json.loads(json.dumps(c.results.to_records()))
    assert payload["stamp"]["archprobe"] and payload["models"] == ["resnet20", "resnet32"]


def test_models_with_other_stages_align_by_output_stride() -> None:
    """ResNet-50 (ImageNet, 224²) and ResNet-20 (CIFAR, 32², stem at full resolution) share
    no stage layout: rows are output strides, largest map first, the head last, and a model's
    stages that end at one stride share a row (ResNet-20's stem and first stage at 32×32)."""
    from archprobe.analysis.analytic import analyze_spec
    from archprobe.analysis.stages import aligned_stages, row_keys

    models = [analyze_spec(n) for n in ("resnet50", "resnet20")]
    aligned = aligned_stages([(m.graph, m.results) for m in models], ("macs",))
    assert row_keys(aligned) == ["1/1", "1/2", "1/4", "1/8", "1/16", "1/32", "head"]
    assert aligned[1]["1/1"].label == "conv1–conv2"  # 32×32 of a 32² input
    assert aligned[1]["1/2"].output == "16×16" and aligned[0]["1/2"].output == "112×112"
    for m, rows in zip(models, aligned, strict=True):  # nothing lost in the merge
        assert sum(r.values["macs"] for r in rows.values()) == m.results.total("macs")
    same = aligned_stages([(m.graph, m.results) for m in models[:1] * 2], ("macs",))
    assert row_keys(same) == ["conv1", "conv2", "conv3", "conv4", "conv5", "head"]
