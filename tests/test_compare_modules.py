"""`compare` with `pkg.mod:factory` modules beside spec names: every model is profiled at
dispatch level and aligned by module path; measured rows work for modules as for specs."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from archprobe.analysis.compare import Measure, compare
from archprobe.analysis.counters.profile import profile
from archprobe.cli.app import app
from tests.modules_fixture import functional_cnn


def test_module_beside_spec_aligns_by_module_path() -> None:
    c = compare(["resnet50", "tests.modules_fixture:resnet50"])
    spec_name, module_name = "resnet50", "tests.modules_fixture:resnet50"
    assert c.results.models == [spec_name, module_name]
    for name in (spec_name, module_name):  # facts.md §9.1
        assert c.results.total("macs", model=name) == 4_089_184_256
        assert c.results.total("params", model=name) == 25_557_032
    assert c.results.by_scope("macs", model=spec_name) == c.results.by_scope(
        "macs", model=module_name
    )
    assert [p.match for p in c.profiles] == ["resnet50", "resnet50"]


def test_module_compare_measures_latency_and_memory(tmp_path: Path) -> None:
    md = tmp_path / "m.md"
    args = ["compare", "resnet20", "tests.modules_fixture:cifar_resnet20", "--measure",
            "latency,memory", "--min-time", "0.01", "--md", str(md)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "measured latency" in result.stdout and "macs by scope" in result.stdout
    text = md.read_text()
    assert "tests.modules_fixture:cifar_resnet20" in text and "ratio vs baseline" in text


def test_profile_measure_rows_for_any_module() -> None:
    model = functional_cnn()
    p = profile(model, input_shape=(1, 2, 4, 4), measure=["latency", "memory"], batches=(2,),
                measure_device="cpu")  # fmt: skip
    measured = [e for e in p.entries if e.method == "measured"]
    latency = [e for e in measured if "latency_s" in e.values]
    assert len(latency) == 1 and latency[0].env["batch"] == 2 and latency[0].values["latency_s"] > 0
    peaks = {e.env["mode"]: e.values["peak_bytes"] for e in measured if e.op == "memory"}
    # FunctionalCNN returns (batch, 3) logits, so the SGD training step runs too; a training
    # step keeps gradients and saved tensors, so it peaks above inference
    assert set(peaks) == {"inference", "training"} and peaks["training"] > peaks["inference"] > 0
    assert p.notes == ()


def test_compare_measure_options_apply_to_modules() -> None:
    c = compare(["resnet20", "tests.modules_fixture:cifar_resnet20"],
                measure=Measure(latency=True, min_run_time=0.01))  # fmt: skip
    assert c.latency is not None
    rows = c.latency.rows
    assert {r.model for r in rows} == {"resnet20", "tests.modules_fixture:cifar_resnet20"}
    assert all(r.ok for r in rows)


def test_module_compare_html_report(tmp_path: Path) -> None:
    html = tmp_path / "m.html"
    args = ["compare", "resnet20", "tests.modules_fixture:cifar_resnet20", "--html", str(html)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    text = html.read_text()
    assert "Profiled modules (dispatch-level counts)" in text
    assert "tests.modules_fixture:cifar_resnet20" in text and "matches spec: resnet20" in text


def test_module_report_says_which_sections_are_absent_and_why(tmp_path: Path) -> None:
    html, md = tmp_path / "m.html", tmp_path / "m.md"
    args = ["report", "resnet20", "tests.modules_fixture:cifar_resnet20", "--html", str(html),
            "--md", str(md)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    for text in (html.read_text(), md.read_text()):
        assert "absent because tests.modules_fixture:cifar_resnet20 is a module" in text
        for section in ("counters", "predicted memory", "roofline", "check findings and specs"):
            assert f"{section}: " in text.replace("resolved specs", "specs")
