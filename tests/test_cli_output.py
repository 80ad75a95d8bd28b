"""The CLI's output where a script reads it: stdout redirected to a file in a real subprocess
(not a terminal, ``COLUMNS`` unset), ``--json``, ``--plain``, ``show`` as a copy command, markup
in user strings, ``--version`` and ``-h``.

Numbers are facts, not the code's output (README, facts.md §9.1): ResNet-50 has 25,557,032
params and 4,089,184,256 MACs, ResNeXt-50 (32x4d) 25,028,904 and 4,230,479,872, ResNet-18
11,689,512 params (torchvision ``num_params``; ``_ops`` are GMACs).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from archprobe.cli.app import app
from archprobe.spec import list_specs

ROOT = Path(__file__).resolve().parent.parent
RESNET50 = ("25,557,032", "4,089,184,256")
RESNEXT50 = ("25,028,904", "4,230,479,872")
runner = CliRunner()


def _env() -> dict[str, str]:
    """This environment without what would make rich think of a terminal or a width."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("COLUMNS", "LINES", "FORCE_COLOR", "TTY_COMPATIBLE")}  # fmt: skip
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return env


def piped(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    """``archprobe ARGS > file`` in a subprocess: exit code, the file's text, stderr."""
    target = tmp_path / "stdout.txt"
    with target.open("wb") as fh:
        done = subprocess.run(
            [sys.executable, "-m", "archprobe", *args], stdout=fh, stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL, env=_env(), cwd=tmp_path, timeout=300, check=False,
        )  # fmt: skip
    return done.returncode, target.read_text(encoding="utf-8"), done.stderr.decode()


# --- piped tables: full width, never cut -------------------------------------------------------


def test_piped_list_has_whole_numbers(tmp_path: Path) -> None:
    code, text, _ = piped(tmp_path, "list")
    assert code == 0 and "…" not in text
    line = next(x for x in text.splitlines() if "│ resnet50 " in x)
    assert all(n in line for n in RESNET50)
    assert any("resnext50_32x4d" in x and all(n in x for n in RESNEXT50) for x in text.splitlines())


def test_piped_solve_has_whole_numbers(tmp_path: Path) -> None:
    code, text, _ = piped(tmp_path, "solve", "resnet50", "--groups", "1,2,4,8,32")
    assert code == 0 and "…" not in text
    # C = 1 is ResNet-50 itself; C = 32, d = 4 is ResNeXt-50 (32x4d) (ResNeXt Table 2)
    assert all(n in text for n in (*RESNET50, *RESNEXT50))
    assert all(len(line.split("│")) in (1, 10) for line in text.splitlines())  # one row a line


def test_piped_compare_counters_has_whole_numbers(tmp_path: Path) -> None:
    code, text, _ = piped(tmp_path, "compare", "resnet50", "resnext50", "--counters")
    assert code == 0, text
    assert "…" not in text
    counters = text[text.index("counters reconciled") :]
    assert RESNET50[1] in counters and RESNEXT50[1] in counters
    assert "−528.128 k (−2.1%)" in text and "(-2.1%)" not in text  # one minus sign: U+2212


# --- show: a copy command ----------------------------------------------------------------------

DRIVER = """
import json, sys
from pathlib import Path
from archprobe.cli.app import app

def run(args, path):
    real, code = sys.stdout, 0
    with open(path, "w", encoding="utf-8") as fh:
        sys.stdout = fh
        try:
            app(args, prog_name="archprobe")
        except SystemExit as exc:
            code = exc.code or 0
        finally:
            sys.stdout = real
    return code

folder, outcome = Path(sys.argv[1]), {}
for name in sys.argv[2:]:
    copy, resolved = folder / f"{name}.yaml", folder / f"{name}.resolved.yaml"
    outcome[name] = {
        "show": run(["show", name], copy),
        "analyze": run(["analyze", str(copy), "--json"], folder / f"{name}.json"),
        "resolved": run(["show", name, "--resolved"], resolved),
        "analyze_resolved": run(["analyze", str(resolved), "--json"], folder / f"{name}.r.json"),
        "original": run(["analyze", name, "--json"], folder / f"{name}.o.json"),
    }
print(json.dumps(outcome))
"""
CATALOG = list_specs()


@pytest.fixture(scope="module")
def copies(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """Every catalog spec through `show NAME > NAME.yaml`, `show NAME --resolved > ...` and
    `analyze` of each copy, all in one subprocess whose stdout is a file each time."""
    folder = tmp_path_factory.mktemp("copies")
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(folder), *(e.name for e in CATALOG)],
        capture_output=True, text=True, env=_env(), cwd=folder, timeout=600, check=True,
    )  # fmt: skip
    return folder, json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize("entry", CATALOG, ids=lambda e: e.name)
def test_show_copies_every_catalog_spec(entry: Any, copies: tuple[Path, dict[str, Any]]) -> None:
    folder, outcome = copies
    ran = outcome[entry.name]
    assert ran["show"] == 0 and ran["original"] == 0
    assert (folder / f"{entry.name}.yaml").read_bytes() == entry.path.read_bytes()  # verbatim
    original = json.loads((folder / f"{entry.name}.o.json").read_text(encoding="utf-8"))
    assert ran["analyze"] == 0
    copied = json.loads((folder / f"{entry.name}.json").read_text(encoding="utf-8"))
    assert copied["total"] == original["total"]


@pytest.mark.parametrize("entry", CATALOG, ids=lambda e: e.name)
def test_show_resolved_loads_back(entry: Any, copies: tuple[Path, dict[str, Any]]) -> None:
    folder, outcome = copies
    ran = outcome[entry.name]
    assert ran["resolved"] == 0 and ran["analyze_resolved"] == 0
    original = json.loads((folder / f"{entry.name}.o.json").read_text(encoding="utf-8"))
    resolved = json.loads((folder / f"{entry.name}.r.json").read_text(encoding="utf-8"))
    assert resolved["stages"] == original["stages"] and resolved["total"] == original["total"]


def test_show_copy_of_resnext50_is_valid_yaml(tmp_path: Path) -> None:
    code, text, err = piped(tmp_path, "show", "resnext50")
    assert code == 0 and text == (ROOT / "specs/resnext/resnext50_32x4d.yaml").read_text("utf-8")
    assert "resnext50_32x4d.yaml" in err  # where it came from: on stderr, not in the copy
    (tmp_path / "my.yaml").write_text(text, encoding="utf-8")
    code, text, _ = piped(tmp_path, "analyze", "my.yaml")
    assert code == 0 and all(n in text for n in RESNEXT50)


def test_show_validates_after_printing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: resnet50\nname: bad\nblock: {width_per_grup: 4}\n", encoding="utf-8")
    result = runner.invoke(app, ["show", str(bad)])
    assert result.exit_code == 1
    assert result.stdout == bad.read_text(encoding="utf-8")  # printed first, byte for byte
    assert f"{bad}:3:9: block.width_per_grup: unknown key" in result.stderr
    assert "Traceback" not in result.output
    result = runner.invoke(app, ["show", str(bad), "--no-check"])
    assert result.exit_code == 0 and "width_per_grup" in result.stdout
    result = runner.invoke(app, ["show", str(bad), "--resolved"])
    assert result.exit_code == 1 and f"{bad}:3:9:" in result.stderr


# --- --json and --plain ------------------------------------------------------------------------


def _json(*args: str) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_json_of_every_table_command(tmp_path: Path) -> None:
    listed = {r["name"]: r for r in _json("list")}
    assert (listed["resnet50"]["params"], listed["resnet50"]["macs"]) == (25_557_032, 4_089_184_256)
    assert "resnext50" in listed["resnext50_32x4d"]["aliases"]
    stages = _json("analyze", "resnet18")
    assert stages["total"]["params"] == 11_689_512 and len(stages["stages"]) == 6
    solved = {s["groups"]: s for s in _json("solve", "resnet50", "--groups", "1,32")["solutions"]}
    assert (solved[1]["params"], solved[1]["macs"]) == (25_557_032, 4_089_184_256)
    assert (solved[32]["width_per_group"], solved[32]["params"]) == (4, 25_028_904)
    checked = _json("check", "resnet50")
    assert checked[0]["valid"] and checked[0]["name"] == "resnet50"
    db = tmp_path / "x.db"
    sweep = str(ROOT / "specs" / "sweeps" / "resnext50_cardinality.yaml")
    assert runner.invoke(app, ["sweep", "run", sweep, "--db", str(db)]).exit_code == 0
    rows = _json("sweep", "results", str(db))["rows"]
    assert [r["macs"] for r in rows][::4] == [4_089_184_256, 4_230_479_872]


def test_compare_json_to_stdout() -> None:
    result = runner.invoke(app, ["compare", "resnet50", "resnext50", "--json", "-"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)  # the JSON alone: no tables around it
    assert payload["models"] == ["resnet50", "resnext50_32x4d"]
    totals = {(r["model"], r["metric"]): 0.0 for r in payload["rows"]}
    for r in payload["rows"]:
        totals[r["model"], r["metric"]] += r["value"]
    assert totals["resnet50", "params"] == 25_557_032
    assert totals["resnext50_32x4d", "macs"] == 4_230_479_872


def test_plain_tables_are_tab_separated() -> None:
    result = runner.invoke(app, ["list", "--plain"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("# archprobe catalog") and lines[1].split("\t")[0] == "name"
    assert "resnet50\t\tresnet\t224×224\t25,557,032\t4,089,184,256" in lines
    result = runner.invoke(app, ["compare", "resnet50", "resnext50", "--plain"])
    assert result.exit_code == 0 and "┃" not in result.stdout
    assert "params\t25,557,032\t25,028,904\t−528.128 k (−2.1%)" in result.stdout.splitlines()
    result = runner.invoke(app, ["list", "--plain", "--json"])
    assert result.exit_code == 2 and "not both" in result.output


# --- markup in user strings, the thop hint -------------------------------------------------------


def test_markup_in_user_specs_prints_literally(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "mine.yaml").write_text(
        'extends: resnet50\nname: mine\naliases: ["[/]", "[bold]x"]\n'
        'published: [{source: "[/bold]x[/]", params: "25557032"}]\n',
        encoding="utf-8",
    )
    env = {"ARCHPROBE_SPECS": str(specs)}
    listed = runner.invoke(app, ["list"], env=env)
    assert listed.exit_code == 0, listed.output
    assert "[/], [bold]x" in listed.stdout
    md = tmp_path / "r.md"
    compared = runner.invoke(app, ["compare", "resnet50", "mine", "--md", str(md)], env=env)
    assert compared.exit_code == 0, compared.output
    assert "[/bold]x[/]" in compared.stdout and "| mine | [/bold]x[/] |" in md.read_text()


def test_thop_hint_survives_every_view(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from archprobe.analysis.counters import reconcile as counters_mod

    real = counters_mod.importlib.util.find_spec
    monkeypatch.setattr(counters_mod.importlib.util, "find_spec",
                        lambda name, *a: None if name == "thop" else real(name, *a))  # fmt: skip
    md, html = tmp_path / "r.md", tmp_path / "r.html"
    args = ["compare", "resnet20", "resnet32", "--counters", "--md", str(md), "--html", str(html)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    for view in (result.stdout, md.read_text(encoding="utf-8"), html.read_text(encoding="utf-8")):
        words = " ".join(view.split())  # the caption may wrap at the table's width
        assert "not installed (pip install archprobe[thop])" in words


# --- --version, -h, option parity ----------------------------------------------------------------


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.startswith("archprobe ")


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path of the app, groups included (typer vendors its own click classes,
    so a group is what has ``commands``)."""
    found: list[tuple[str, ...]] = [prefix]
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):
            found += _commands(cmd, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


GROUP: Any = typer.main.get_command(app)
COMMANDS = _commands(GROUP)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(("archprobe", *c)))
def test_dash_h_is_help_everywhere(command: tuple[str, ...]) -> None:
    short, long = runner.invoke(app, [*command, "-h"]), runner.invoke(app, [*command, "--help"])
    assert short.exit_code == 0 and "Usage" in short.stdout
    assert short.stdout == long.stdout


def test_report_takes_compares_options() -> None:
    compare, report = ({o for p in GROUP.commands[n].params for o in p.opts}
                       for n in ("compare", "report"))  # fmt: skip
    shared = {"--optimizer", "--min-time", "--channels-last", "--compile", "--batch", "--device",
              "--dtype", "--measure", "--roofline"}  # fmt: skip
    assert shared <= compare and shared <= report


def test_analyze_module_is_titled_with_the_users_reference() -> None:
    ref = "tests.modules_fixture:resnet50"
    result = runner.invoke(app, ["analyze", "--module", ref])
    assert result.exit_code == 0, result.output
    assert result.stdout.lstrip().startswith(ref)  # the title: what the user asked for
    assert "matches spec: resnet50" in result.stdout  # the match: a line of its own
    data = _json("analyze", "--module", ref)
    assert (data["model"], data["match"]) == (ref, "resnet50")
    assert data["total"]["params"] == 25_557_032
