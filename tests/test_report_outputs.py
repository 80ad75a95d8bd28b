"""The exports carry every part a report shows, and one assembly orders the sections.

Per-layer memory and roofline rows of the CSV/JSON exports are checked against the conv formulas
and ResNet-20's parameter count (269,722: ResNet paper Table 6, 0.27M), the other numbers against
the other representation of the same data (the prediction's totals, the stored sweep row).
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from archprobe.analysis.compare import Comparison, Measure, compare
from archprobe.analysis.timing.devices import H100_SXM
from archprobe.cli.app import app
from archprobe.report.assemble import assemble
from archprobe.report.outputs import Outputs, write_outputs

RESNET20_PARAMS = 269_722
DATA = Path(__file__).parent / "data" / "checks"


def resnet20_macs() -> int:
    """ResNet-20 (ResNet §4.2): a 3×3 conv 3 → 16 at 32², then 3 stages of 3 basic blocks (two
    3×3 convs each) at 16/32/64 channels on 32²/16²/8² maps (each stage's first conv reads the
    previous width), option-A shortcuts (no MACs), and a 64 → 10 fc."""
    macs = 32 * 32 * 16 * 3 * 9
    for i, (c, hw) in enumerate(((16, 32), (32, 16), (64, 8))):
        cin = 16 if i == 0 else c // 2
        macs += hw * hw * c * 9 * (cin + 5 * c)
    return macs + 64 * 10


def conv3x3(c: int, hw: int, batch: int, size: int = 4) -> tuple[int, int]:
    """(MACs, bytes) of a stride-1 3×3 conv c → c on an hw×hw map for a batch: input and
    output once per image, the weights once per batch."""
    weights = c * c * 9
    return hw * hw * weights * batch, ((2 * c * hw * hw) * batch + weights) * size


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`archprobe compare resnet20 resnet32 --memory --roofline --batch 2 --device cpu`
    written as CSV and JSON."""
    folder = tmp_path_factory.mktemp("exports")
    args = ["compare", "resnet20", "resnet32", "--memory", "--roofline", "--batch", "2",
            "--device", "cpu", "--csv", str(folder / "r.csv"),
            "--json", str(folder / "r.json")]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    with (folder / "r.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return {"csv": rows, "json": json.loads((folder / "r.json").read_text(encoding="utf-8"))}


def _select(rows: list[dict[str, Any]], **where: str) -> list[dict[str, Any]]:
    return [r for r in rows if all(str(r.get(k)) == v for k, v in where.items())]


def test_csv_has_per_layer_memory_rows(exported: dict[str, Any]) -> None:
    rows = _select(exported["csv"], model="resnet20", mode="training", batch="2")
    # conv1: 3×3, 3 → 16, fp32; training with SGD momentum keeps a grad and a buffer of each
    conv1 = {r["metric"]: float(r["value"]) for r in _select(rows, scope="conv1")}
    weights = 3 * 16 * 9 * 4
    assert conv1["params_bytes"] == conv1["grads_bytes"] == conv1["optimizer_bytes"] == weights
    for metric in ("params_bytes", "grads_bytes", "optimizer_bytes"):
        total = sum(float(r["value"]) for r in rows if r["metric"] == metric)
        assert total == RESNET20_PARAMS * 4, metric
    inference = _select(exported["csv"], model="resnet20", mode="inference", metric="grads_bytes")
    assert inference == []  # zeros are not rows; inference keeps no gradients
    peak = _select(rows, scope="", op="memory", metric="peak_bytes")
    assert len(peak) == 1 and peak[0]["peak_at"]


def test_per_layer_memory_sums_to_the_memory_table(exported: dict[str, Any]) -> None:
    from archprobe.analysis.memory.model import predict_training
    from archprobe.spec.expand import expand
    from archprobe.spec.loader import load_spec

    pred = predict_training(expand(load_spec("resnet20")), 2, "sgd_momentum")
    rows = _select(exported["json"]["rows"], model="resnet20", mode="training")
    saved = sum(r["value"] for r in rows if r["metric"] == "saved_bytes")
    assert saved == pred.saved_bytes  # the "saved activations" row of the memory table
    step = _select(rows, metric="step_peak_bytes", method="analytic")
    assert [r["value"] for r in step] == [pred.step_peak_bytes]


def test_csv_has_per_layer_roofline_rows(exported: dict[str, Any]) -> None:
    rows = _select(exported["csv"], model="resnet20", scope="layer1.0.conv1")
    analytic = {r["metric"]: float(r["value"]) for r in _select(rows, method="analytic")}
    macs, nbytes = conv3x3(16, 32, batch=2)
    assert (analytic["roofline_macs"], analytic["roofline_bytes"]) == (macs, nbytes)
    assert analytic["intensity"] == pytest.approx(macs / nbytes)
    assert analytic["attainable_s"] > 0
    (row,) = _select(rows, method="analytic", metric="roofline_macs")
    assert row["bound"] in ("compute", "memory") and row["layer"] == "3×3, 16"
    measured = _select(rows, method="measured", metric="measured_s")
    assert len(measured) == 1 and float(measured[0]["value"]) > 0
    assert measured[0]["device"] == "cpu" and measured[0]["batch"] == "2"
    # the per-image MACs totals are untouched by the roofline's per-batch rows
    macs_rows = _select(exported["csv"], model="resnet20", metric="macs")
    assert sum(float(r["value"]) for r in macs_rows) == resnet20_macs()


def test_json_carries_paper_and_findings(tmp_path: Path) -> None:
    c = compare(["resnet18", DATA / "rx001_trigger.yaml"])
    path = tmp_path / "r.json"
    write_outputs(assemble(c), Outputs(json=path))
    payload = json.loads(path.read_text(encoding="utf-8"))
    assert payload["findings"]["resnet18"] == []
    (found,) = payload["findings"]["rx001_trigger"]
    # tests/data/checks/expected.txt: checks/rx001_trigger.yaml:5:46: RX001 warning ...
    assert (found["code"], found["severity"]) == ("RX001", "warning")
    assert found["where"].endswith("rx001_trigger.yaml:5:46")
    published = {(p["model"], p["metric"]): p for p in payload["paper"]}
    assert published["resnet18", "params"]["exact"] == 11_689_512  # torchvision num_params


def test_reference_roofline_rows_without_roofline() -> None:
    c = compare(["resnet50", "resnext50"])
    rows = [r for r in c.results.rows if r.metric == "roofline_macs"]
    assert {r.env["ceilings"] for r in rows} == {H100_SXM.name}
    assert {r.env["batch"] for r in rows} == {1}
    # conv and fc are the only layers with MACs: at batch 1 they sum to the model's MACs
    by_model = {m: sum(r.value for r in rows if r.model == m) for m in c.results.models}
    assert by_model == {"resnet50": 4_089_184_256, "resnext50_32x4d": 4_230_479_872}
    assert c.results.total("macs", model="resnet50") == 4_089_184_256


def _with_latency(c: Comparison) -> Comparison:
    """Synthetic latency rows (no timing): the baseline 10 ms ± 1 ms, the other 20 ms ± 4 ms."""
    from archprobe.analysis.timing.latency import LatencyReport, LatencyRow

    env = {"device_name": "Test GPU", "device": "cuda", "cuda": "12.4", "driver": "550",
           "cudnn": "9.1"}  # fmt: skip
    rows = [
        LatencyRow(c.models[0].name, 1, 0.01, 0.001, 100.0, "ok", env),
        LatencyRow(c.models[1].name, 1, 0.02, 0.004, 50.0, "ok", env),
    ]
    return replace(c, latency=LatencyReport.of(rows, c.models[0].name))


def test_latency_ratio_rows_and_device_stamp() -> None:
    c = _with_latency(compare(["resnet20", "resnet32"]))
    measured = [e for e in c.results.entries if e.method == "measured"]
    other = next(e for e in measured if e.model == "resnet32")
    # ratio = 10 ms / 20 ms; rows without round samples have no interval
    assert other.values["throughput_ratio"] == pytest.approx(0.5)
    assert (
        math.isnan(other.values["throughput_ratio_low"]) and other.env["verdict"] == "no interval"
    )
    assert "throughput_ratio" not in next(e for e in measured if e.model == "resnet20").values
    report = assemble(c)
    assert report.device == "Test GPU (CUDA 12.4, driver 550, cuDNN 9.1)"


def test_section_order_of_the_assembly() -> None:
    c = _with_latency(compare(["resnet20", "resnet32"], measure=Measure(memory=True)))
    report = assemble(c)
    keys = [s.key for s in report.sections]
    assert keys == ["stages", "totals", "paper", "memory", "latency", "roofline", "checks", "specs"]
    assert report.html_sections == (
        "summary", "stages", "roofline", "memory", "latency", "checks", "specs",
    )  # fmt: skip
    # the reference roofline is drawn in the HTML only; measured parts go to the fenced block
    assert report.section("roofline").terminal == ()  # type: ignore[union-attr]
    body = "\n".join(report.markdown_body())
    assert body.index("## Stages") < body.index("## Totals") < body.index("## Paper vs exact")
    assert body.index("## Paper vs exact") < body.index("## Counters and measurements")
    assert body.index("memory: predicted vs measured") < body.index("measured latency")
    printed = report.renderables()
    assert len(printed) == sum(len(s.terminal) for s in report.sections) == 5


def test_profile_sections() -> None:
    c = compare(["resnet20", "tests.modules_fixture:cifar_resnet20"])
    report = assemble(c)
    assert [s.key for s in report.sections] == ["profiles"]
    assert report.html_sections == ("profiles",)
    assert report.markdown_body()[0] == "## Counters and measurements"
    assert [p.match for p in c.profiles] == ["resnet20", "resnet20"]


def test_to_text_keeps_every_column_of_a_table_wider_than_its_width() -> None:
    from archprobe.report.terminal.render import Table, to_text

    table = Table(title="wide")
    for i in range(12):
        table.add_column(f"column {i:02d} header", no_wrap=True)
    table.add_row(*[f"value-{i:02d}-{'x' * 8}" for i in range(12)])
    text = to_text(table, width=120)
    assert all(f"value-{i:02d}-xxxxxxxx" in text for i in range(12))  # the last ones too
    assert max(len(line) for line in text.splitlines()) > 120
