"""Traits: partial specs with a ``trait:`` key are catalog entries of their own kind.

``extends: [resnet50, deep_stem]`` resolves the trait by name, equal to the path-based
``extends`` of the catalog's resnet50c; ``archprobe list --traits`` lists them; loading a trait as
a network is one located line naming it and the fix. Counts are facts.md §9.1: ResNet-50-C and -D
have 25,576,264 params and 4,328,824,832 MACs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from archprobe.analysis.analytic import analyze_spec
from archprobe.analysis.compare import compare
from archprobe.checks import check_spec
from archprobe.cli.app import app
from archprobe.errors import SourceLoc, SpecError
from archprobe.spec import list_specs, load_spec
from archprobe.spec.catalog import SKIPPED, find_spec, list_traits
from archprobe.spec.loader import load_trait

ROOT = Path(__file__).resolve().parents[2]
TRAITS = ROOT / "specs" / "traits"
R50C = (25_576_264, 4_328_824_832)  # facts.md §9.1, resnet50c and resnet50d
SPEC_ONLY = {"name", "aliases", "paper", "published"}  # what belongs to a file, not its network


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def counts(ref: str | Path) -> tuple[int, int]:
    r = analyze_spec(ref).results
    return int(r.total("params")), int(r.total("macs"))


def trait_loc(name: str) -> SourceLoc:
    """Where the ``trait:`` value of a built-in trait file is (line and column, 1-based)."""
    path = TRAITS / f"{name}.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    line = next(i for i, text in enumerate(lines, 1) if text.startswith("trait:"))
    return SourceLoc(path, line, len("trait: ") + 1)


def test_extends_a_trait_by_name_equals_the_path(tmp_path: Path) -> None:
    by_name = write(tmp_path, "r50c.yaml", "extends: [resnet50, deep_stem]\nname: my_r50c\n")
    spec, r50c = load_spec(by_name), load_spec("resnet50c")  # resnet50c extends by path
    assert spec.model_dump(exclude=SPEC_ONLY) == r50c.model_dump(exclude=SPEC_ONLY)
    assert counts(by_name) == R50C
    assert counts("resnet50c") == R50C


def test_two_traits_by_name_make_resnet50d(tmp_path: Path) -> None:
    child = write(tmp_path, "d.yaml", "extends: [resnet50, deep_stem, avg_down]\nname: my_d\n")
    assert load_spec(child).model_dump(exclude=SPEC_ONLY) == load_spec("resnet50d").model_dump(
        exclude=SPEC_ONLY
    )
    assert counts(child) == R50C


def test_traits_are_their_own_kind_in_the_catalog() -> None:
    traits = list_traits()
    assert [t.name for t in traits] == ["avg_down", "deep_stem", "se"]
    assert all(t.kind == "trait" and t.path.parent == TRAITS for t in traits)
    assert not {t.name for t in traits} & {e.name for e in list_specs()}  # not networks
    assert find_spec("se") == TRAITS / "se.yaml"


def test_sweep_files_stay_out_of_the_catalog() -> None:
    entries = [*list_specs(), *list_traits()]
    assert not [e for e in entries if e.path.parent.name == "sweeps"]
    with pytest.raises(SpecError, match="unknown spec 'resnext50-cardinality'"):
        find_spec("resnext50-cardinality")


def test_what_a_trait_sets() -> None:
    assert load_trait("deep_stem") == {"stem.type": "deep", "stem.stem_width": 32}
    assert load_trait("avg_down") == {"block.shortcut": "avgpool_conv1x1"}
    assert load_trait(TRAITS / "se.yaml") == {"block.se.ratio": 0.0625}
    with pytest.raises(SpecError, match="not a trait"):
        load_trait("resnet50")


@pytest.mark.parametrize("ref", ["deep_stem", str(TRAITS / "deep_stem.yaml")])
def test_loading_a_trait_is_one_located_line_with_the_fix(ref: str) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(ref)
    err = info.value
    assert err.loc == trait_loc("deep_stem") and err.key_path == "trait"
    assert "'deep_stem' is a trait" in err.message and "stem.type, stem.stem_width" in err.message
    assert "`extends: [resnet50, deep_stem]`" in err.message
    assert err.format().count("\n") == 0  # not a validation dump of the missing keys


def test_a_trait_is_never_analyzed_compared_or_checked() -> None:
    for run in (lambda: analyze_spec("se"), lambda: compare(["resnet50", "se"]),
                lambda: check_spec("se")):  # fmt: skip
        with pytest.raises(SpecError, match="'se' is a trait"):
            run()


def test_a_misspelt_trait_is_located_at_its_extends_entry(tmp_path: Path) -> None:
    child = write(tmp_path, "c.yaml", "name: c\nextends: [resnet50, deep_stme]\n")
    with pytest.raises(SpecError) as info:
        load_spec(child)
    assert "unknown spec 'deep_stme'; did you mean 'deep_stem'?" in info.value.message
    assert info.value.loc == SourceLoc(child, 2, 21) and info.value.key_path == "extends.1"


def test_user_traits_compose(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A trait of one's own, in an ``ARCHPROBE_SPECS`` folder, may extend other traits."""
    write(tmp_path, "resnet_d.yaml", "trait: resnet_d\nextends: [deep_stem, avg_down]\n")
    child = write(tmp_path / "nets", "d.yaml", "extends: [resnet50, resnet_d]\nname: my_d\n")
    monkeypatch.setenv("ARCHPROBE_SPECS", str(tmp_path))
    assert "resnet_d" in [t.name for t in list_traits()]
    assert load_trait("resnet_d") == {
        "stem.type": "deep", "stem.stem_width": 32, "block.shortcut": "avgpool_conv1x1",
    }  # fmt: skip
    assert counts(child) == R50C


@pytest.mark.parametrize(
    ("text", "col", "message"),
    [
        ("trait: t\nname: t\nblock: {groups: 2}\n", 8, "a network (`name:`) or a trait"),
        ("trait: [a]\nblock: {groups: 2}\n", 8, "must be a catalog name such as 'bad'"),
        ("trait: ../x.yaml\nblock: {groups: 2}\n", 8, "no '/', no .yaml"),
    ],
)
def test_a_bad_trait_key_is_located(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, col: int, message: str
) -> None:
    """A bad ``trait:`` key keeps its file out of the catalog, with a located report; the rest
    of the catalog still works (tests/spec/test_catalog_scan.py)."""
    bad = write(tmp_path, "bad.yaml", text)
    monkeypatch.setenv("ARCHPROBE_SPECS", str(tmp_path))
    assert find_spec("resnet50").name == "resnet50.yaml"  # the catalog is scanned on first use
    assert message in SKIPPED[bad]
    assert SKIPPED[bad].startswith(f"{SourceLoc(bad, 1, col)}: trait: ")


def test_a_trait_named_like_a_network_is_a_duplicate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "a.yaml", "trait: mine\nblock: {groups: 2}\n")
    write(tmp_path, "b.yaml", "extends: resnet50\nname: mine\n")
    monkeypatch.setenv("ARCHPROBE_SPECS", str(tmp_path))
    with pytest.raises(SpecError, match="catalog name 'mine' is also defined"):
        find_spec("mine")


def test_a_network_extending_a_trait_is_no_trait(tmp_path: Path) -> None:
    """``trait:`` is never inherited, as ``name:`` is not."""
    child = write(tmp_path, "c.yaml", "extends: [resnet50, se]\nname: my_se\n")
    assert load_spec(child).name == "my_se"


# --- the CLI ------------------------------------------------------------------------------------

runner = CliRunner()


def test_list_traits() -> None:
    result = runner.invoke(app, ["list", "--traits"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    for name in ("avg_down", "deep_stem", "se"):
        assert name in out and f"traits/{name}.yaml" in out
    assert "stem.type: deep" in out and "block.se.ratio: 0.0625" in out
    assert "resnext50" not in out and "resnet18" not in out  # networks are not listed


@pytest.mark.parametrize("args", [["analyze", "deep_stem"], ["compare", "resnet50", "deep_stem"],
                                  ["show", "deep_stem", "--resolved"]])  # fmt: skip
def test_a_trait_as_a_network_exits_1_without_a_traceback(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert f"{trait_loc('deep_stem')}: trait: 'deep_stem' is a trait" in result.stderr
    assert "extends: [resnet50, deep_stem]" in result.stderr
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)


def test_show_prints_a_trait_file() -> None:
    result = runner.invoke(app, ["show", "se"])
    assert result.exit_code == 0 and "trait: se" in result.stdout
