"""The cached rows of ``archprobe list`` (archprobe/spec/rows.py): equal to freshly computed ones,
and never served once the spec, a base it extends, a file that shadows a base's name, the
archprobe code or a loaded plugin changed, nor when a file changed too recently to trust its
stamp. The numbers compared come from ``analyze_spec`` run afresh, not from the cache."""

from __future__ import annotations

import importlib
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from archprobe.analysis.analytic import analyze_spec
from archprobe.report.terminal.catalog import CatalogRow, catalog_rows
from archprobe.spec import catalog, find_spec, list_specs, rows

ROOT = Path(__file__).resolve().parent.parent
OLD = 1_600_000_000  # a stamp well before any row was computed (not "racy")
BASE = (ROOT / "specs/cifar/resnet20.yaml").read_text(encoding="utf-8")


def write(path: Path, text: str, when: int = OLD) -> None:
    path.write_text(text, encoding="utf-8")
    os.utime(path, (when, when))


@pytest.fixture
def specs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A catalog folder with a network ``tbase`` (ResNet-20) and ``tchild`` extending it."""
    folder = tmp_path / "specs"
    folder.mkdir()
    write(folder / "base.yaml", BASE.replace("name: resnet20", "name: tbase"))
    write(folder / "child.yaml", "extends: tbase\nname: tchild\nhead: {pool: avg, classes: 100}\n")
    monkeypatch.setenv("ARCHPROBE_SPECS", str(folder))
    monkeypatch.setenv("ARCHPROBE_CACHE_DIR", str(tmp_path / "cache"))
    catalog._catalog.cache_clear()
    yield folder
    catalog._catalog.cache_clear()


def mine(folder: Path) -> list[catalog.CatalogEntry]:
    catalog._catalog.cache_clear()  # names may have changed on disk within the test
    return [e for e in list_specs() if e.path.parent == folder]


def served(folder: Path) -> set[str]:
    """The networks of ``folder`` whose stored row is served now."""
    entries = mine(folder)
    hits = rows.cached(entries, rows.environment())
    return {e.name for e in entries if e.path in hits}


def listed(folder: Path) -> dict[str, tuple[float, float]]:
    return {r.entry.name: (r.params, r.macs) for r in catalog_rows(mine(folder))}


def fresh(name: str) -> tuple[float, float]:
    res = analyze_spec(find_spec(name)).results
    return res.total("params"), res.total("macs")


def test_cached_rows_equal_fresh_analysis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARCHPROBE_CACHE_DIR", str(tmp_path / "cache"))
    catalog._catalog.cache_clear()  # scan again: the index (rows live in it) goes to this folder
    first = catalog_rows()
    assert served_all(first)
    second = catalog_rows()
    assert second == first and len(second) == len(list_specs())
    for r in second:
        a = analyze_spec(r.entry.path)
        assert (r.params, r.macs) == (a.results.total("params"), a.results.total("macs"))
        assert (r.channels, r.size) == (a.spec.input.channels, a.spec.input.size), r.entry.name


def served_all(computed: list[CatalogRow]) -> bool:
    entries = [r.entry for r in computed]
    return set(rows.cached(entries, rows.environment())) == {e.path for e in entries}


def test_a_changed_spec_is_analysed_again(specs: Path) -> None:
    before = listed(specs)
    assert served(specs) == {"tbase", "tchild"}
    write(specs / "child.yaml", "extends: tbase\nname: tchild\nhead: {pool: avg, classes: 7}\n")
    assert served(specs) == {"tbase"}
    after = listed(specs)
    assert after["tchild"] == fresh("tchild") != before["tchild"]


def test_a_changed_base_invalidates_its_children(specs: Path) -> None:
    before = listed(specs)
    write(specs / "base.yaml", BASE.replace("name: resnet20", "name: tbase").replace("16}", "8}"))
    assert served(specs) == set()
    after = listed(specs)
    for name in ("tbase", "tchild"):
        assert after[name] == fresh(name) != before[name]


def test_a_file_shadowing_a_base_name_invalidates(
    specs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = listed(specs)
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    write(shadow / "base.yaml", BASE.replace("name: resnet20", "name: tbase").replace("64,", "48,"))
    monkeypatch.setenv("ARCHPROBE_SPECS", os.pathsep.join([str(shadow), str(specs)]))
    assert served(specs) == set()
    after = listed(specs)
    assert after["tchild"] == fresh("tchild") != before["tchild"]


def test_changed_code_invalidates_every_row(
    specs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = tmp_path / "code"
    shutil.copytree(
        ROOT / "archprobe/graph/ops", code, ignore=shutil.ignore_patterns("__pycache__")
    )
    monkeypatch.setattr(rows, "_PACKAGE", code)
    listed(specs)
    assert served(specs) == {"tbase", "tchild"}
    conv = code / "conv.py"
    os.utime(conv, ns=(conv.stat().st_atime_ns, conv.stat().st_mtime_ns + 1))
    assert served(specs) == set()


def test_a_changed_or_new_plugin_invalidates_every_row(
    specs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plugin = tmp_path / "rows_plugin.py"
    write(plugin, "# registers nothing; stands for a user's parts\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("ARCHPROBE_PLUGINS", "rows_plugin")
    importlib.import_module("rows_plugin")
    try:
        listed(specs)
        assert served(specs) == {"tbase", "tchild"}
        write(plugin, "# registers nothing; stands for a user's parts, now edited\n")
        assert served(specs) == set()
        listed(specs)
        monkeypatch.delenv("ARCHPROBE_PLUGINS")
        assert served(specs) == set()  # the plugin no longer loaded: another environment
    finally:
        sys.modules.pop("rows_plugin", None)


def test_a_file_changed_within_the_racy_window_is_not_stored(specs: Path) -> None:
    now = int(time.time())
    write(specs / "child.yaml", "extends: tbase\nname: tchild\n", when=now)
    listed(specs)
    assert served(specs) == {"tbase"}
