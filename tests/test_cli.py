"""The CLI through typer's CliRunner: exit codes and the strings a user relies on."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from archprobe.cli.app import app

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_compare_resnet50_resnext50() -> None:
    code, out, _ = invoke("compare", "resnet50", "resnext50")
    assert code == 0
    for text in (
        "resnext50_32x4d",
        "C=32",
        "25,557,032",
        "25,028,904",
        "4,089,184,256",
        "4,230,479,872",
        "56×56",
    ):
        assert text in out


def test_analyze_and_list() -> None:
    code, out, _ = invoke("analyze", "resnet18")
    assert code == 0 and "11,689,512" in out.replace("\n", "") and "[3×3, 64; 3×3, 64]" in out
    code, out, _ = invoke("list")
    assert code == 0 and "resnext101_64x4d" in out and "resnext50" in out


def test_show_resolved_has_stage_blocks() -> None:
    code, out, _ = invoke("show", "resnext50", "--resolved")
    assert code == 0 and "width_per_group: 4" in out and "stages:" in out


def test_spec_error_is_one_line_and_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: resnet50\nname: bad\nblock: {width_per_grup: 4}\n")
    code, _, err = invoke("analyze", str(bad))
    assert code == 1
    assert f"{bad}:3:9: block.width_per_grup: unknown key; did you mean 'width_per_group'?" in err
    assert "Traceback" not in err


def test_unknown_name_suggests() -> None:
    code, _, err = invoke("analyze", "resnet5")
    assert code == 1 and "did you mean" in err


def test_compare_needs_two_models() -> None:
    code, _, err = invoke("compare", "resnet50")
    assert code == 1 and "at least two" in err


def test_schema_is_json_schema(tmp_path: Path) -> None:
    target = tmp_path / "s.json"
    code, _, _ = invoke("schema", "-o", str(target))
    schema = json.loads(target.read_text())
    assert code == 0 and schema["title"] == "archprobe spec file"
    assert "extends" in schema["properties"]
    stage = schema["$defs"]["StageEntry"]["properties"]
    assert {"depth", "width", "stride", "groups"} <= set(stage)
