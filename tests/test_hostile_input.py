"""Hostile specs, option values and output paths (issue #18): strict types, user text escaped
for rich markup, the terminal and Markdown, and outputs refused before anything is written.

Reproducers are in tests/data/hostile/ (each names the issue's case in its first comment).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archprobe.cli.app import app
from archprobe.report.markdown import md_code, md_fenced, md_table, md_text

HOSTILE = Path(__file__).parent / "data" / "hostile"
runner = CliRunner()


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    r = runner.invoke(app, list(args), env=env)
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    return r.exit_code, r.stdout, r.stderr


def one_line(text: str) -> str:
    """The one error line of stderr (``writing PATH`` announcements aside)."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("writing ")]
    assert len(lines) == 1 and "Traceback" not in text, text
    return lines[0]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["solve", "resnet50", "--target", "nan"], "nan is not a finite number"),
        (["solve", "resnet50", "--target", "inf"], "inf is not a finite number"),
        (["solve", "resnet50", "--target=-1"], "-1 is not above zero"),
        (["check", "forms", "--min-time", "inf"], "inf is not a finite number"),
        (["compare", "resnet18", "resnet34", "--min-time", "nan"], "--min-time"),
    ],
)
def test_nan_inf_and_negative_option_values_are_usage_errors(args: list[str], says: str) -> None:
    code, _, err = invoke(*args)
    assert code == 2 and says in err and "Traceback" not in err


def test_rich_markup_in_aliases_and_sources_prints_as_written(tmp_path: Path) -> None:
    spec = HOSTILE / "markup_alias.yaml"
    (tmp_path / spec.name).write_bytes(spec.read_bytes())  # a catalog folder of it alone
    code, out, _ = invoke("list", env={"ARCHPROBE_SPECS": str(tmp_path)})
    assert code == 0 and "[/], [bold red]x" in out and "markup_alias" in out
    code, out, _ = invoke("compare", str(spec), "resnet18")
    assert code == 0 and "[/bold]x[/] <script>alert(1)</script>" in out.replace("\n", "")


def test_markdown_export_escapes_html_pipes_and_backticks(tmp_path: Path) -> None:
    md = tmp_path / "r.md"
    code, _, _ = invoke("compare", str(HOSTILE / "markup_alias.yaml"), "resnet18", "--md", str(md))
    text = md.read_text(encoding="utf-8")
    assert code == 0 and "<script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; \\|pipe\\| `tick`" in text
    assert "<br>" in text  # the stage cells' own line break is kept


def test_markdown_helpers() -> None:
    assert md_text("a<b>&c|d\ne") == "a&lt;b&gt;&amp;c\\|d e"
    assert md_code("x ``y`` z") == "```x ``y`` z```" and md_code("`a") == "`` `a ``"
    assert md_fenced(["```", "text"]) == ["````text", "```", "text", "````"]
    assert md_table(["h"], [[("a<", "b")]])[-1] == "| a&lt;<br>b |"


def test_escape_sequences_in_keys_and_text_reach_the_terminal_as_text(tmp_path: Path) -> None:
    code, _, err = invoke("analyze", str(HOSTILE / "escape_key.yaml"))
    line = one_line(err)
    assert code == 1 and "\x1b" not in err and "\x07" not in err
    assert "\\x1b[31mred\\x1b]0;title\\x07: unknown key" in line
    spec = tmp_path / "esc.yaml"
    spec.write_text('extends: resnet18\nname: esc\naliases: ["\\e[31mRED", "bidi\\u202eevil"]\n')
    code, out, _ = invoke("list", "--plain", env={"ARCHPROBE_SPECS": str(tmp_path)})
    assert code == 0 and "\\x1b[31mRED, bidi\\u202eevil" in out and "\x1b" not in out


def test_two_outputs_to_one_path_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    same = tmp_path / "same.out"
    code, out, err = invoke("compare", "resnet18", "resnet34", "--md", str(same),
                            "--html", str(tmp_path / "." / "same.out"))  # fmt: skip
    assert code == 1 and "--md is written there too" in one_line(err) and out == ""
    assert not same.exists()
    code, _, err = invoke("report", "resnet18", "resnet34", "--json", str(same), "--csv",
                          str(same), "--no-counters", "--no-memory")  # fmt: skip
    assert code == 1 and "--json is written there too" in one_line(err) and not same.exists()


@pytest.mark.parametrize(
    ("option", "path", "says"),
    [
        ("--md", "{tmp}", "is a folder; give a file path inside it"),
        ("--csv", "", "--csv: empty path; give a file name"),
        ("--md", "{tmp}/file.txt/r.md", "file.txt is a file, not a folder"),
        ("--md", "/dev/full", "/dev/full: No space left on device; the disk is full"),
    ],
)
def test_unwritable_output_paths_are_one_line(
    tmp_path: Path, option: str, path: str, says: str
) -> None:
    if path == "/dev/full" and not os.path.exists(path):
        pytest.skip("no /dev/full on this system")
    (tmp_path / "file.txt").write_text("mine")
    code, _, err = invoke("compare", "resnet18", "resnet34", option, path.format(tmp=tmp_path))
    assert code == 1 and says in one_line(err)
    assert (tmp_path / "file.txt").read_text() == "mine"


def test_schema_output_creates_its_folder_and_refuses_a_folder(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "deeper" / "schema.json"
    code, _, err = invoke("schema", "-o", str(target))
    assert code == 0 and json.loads(target.read_text())["title"] == "archprobe spec file"
    code, _, err = invoke("schema", "-o", str(tmp_path))
    assert code == 1 and "is a folder" in one_line(err)


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    r = runner.invoke(app, ["schema", "-o", str(tmp_path)], env={"ARCHPROBE_DEBUG": "1"})
    assert r.exit_code == 1 and r.exception is not None
    assert type(r.exception).__name__ == "OutputError"
