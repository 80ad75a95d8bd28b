"""The catalog scan: one bad file in ``$ARCHPROBE_SPECS`` is skipped and reported in one line,
never breaks the catalog, and a FIFO or device is never opened; the on-disk index of the scan
(archprobe/spec/index.py) is used when fresh, rebuilt silently when stale or corrupt, and written
only to the cache folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from archprobe import cache
from archprobe.spec import catalog

ROOT = Path(__file__).resolve().parent.parent.parent
OLD = 1_600_000_000  # a file stamp well before any index was written (not "racy")


def cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``archprobe ARGS`` in a subprocess, with a timeout (a FIFO opened would hang it)."""
    return subprocess.run(
        [sys.executable, "-m", "archprobe", *args], capture_output=True, text=True, timeout=120,
        errors="replace",
        cwd=cwd, env={**os.environ, "PYTHONPATH": str(ROOT), **env},
    )  # fmt: skip


def _latin1(folder: Path) -> str:
    (folder / "latin1.yaml").write_bytes(b"name: r50x\n# He\xe9\n")
    return "latin1.yaml:2:5: not UTF-8 text (byte 0xe9)"


def _directory(folder: Path) -> str:
    (folder / "x.yaml").mkdir()
    return "x.yaml: a directory, not a spec file"


def _fifo(folder: Path) -> str:
    os.mkfifo(folder / "pipe.yaml")
    return "pipe.yaml: not a regular file, not a spec file"


@pytest.mark.parametrize("make", [_latin1, _directory, _fifo], ids=["latin1", "dir", "fifo"])
def test_a_bad_catalog_file_is_skipped_and_reported_once(tmp_path: Path, make: object) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "mine.yaml").write_text("extends: resnet18\nname: mine\n", encoding="utf-8")
    assert callable(make)
    reported = make(specs)
    done = cli("analyze", "resnet50", "--json", cwd=tmp_path, ARCHPROBE_SPECS=str(specs))
    assert done.returncode == 0, done.stderr
    assert '"model": "resnet50"' in done.stdout
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].endswith(reported), done.stderr
    assert lines[0].startswith(f"archprobe: skipped catalog file {specs}")
    mine = cli("analyze", "mine", "--json", cwd=tmp_path, ARCHPROBE_SPECS=str(specs))
    assert mine.returncode == 0 and '"model": "mine"' in mine.stdout  # the good file next to it


def test_show_of_a_non_utf8_file_is_one_located_line(tmp_path: Path) -> None:
    _latin1(tmp_path)
    done = cli("show", "latin1.yaml", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1].endswith("latin1.yaml:2:5: not UTF-8 text (byte 0xe9)")
    assert "Traceback" not in done.stderr


def test_a_fifo_named_on_the_command_line_is_not_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")
    done = cli("analyze", "pipe.yaml", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip().endswith("pipe.yaml: not a regular file, not a spec file")


# --- the index -----------------------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    specs = tmp_path / "specs"
    specs.mkdir()
    for name in ("a", "b"):
        path = specs / f"{name}.yaml"
        path.write_text(f"extends: resnet18\nname: {name}\naliases: [{name}1]\n", "utf-8")
        os.utime(path, (OLD, OLD))
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    return specs


def scan(folder: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, str], list[str]]:
    """Names -> file names of one fresh scan of ``folder``, and the files it parsed."""
    parsed: list[str] = []
    real = catalog.parse_file
    monkeypatch.setattr(catalog, "parse_file", lambda p: parsed.append(p.name) or real(p))
    found = catalog._scan_dir(folder)
    return {k: e.path.name for k, e in found.items()}, parsed


def test_a_fresh_index_parses_nothing(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    names, parsed = scan(folder, monkeypatch)
    assert names == {"a": "a.yaml", "a1": "a.yaml", "b": "b.yaml", "b1": "b.yaml"}
    assert parsed == ["a.yaml", "b.yaml"]
    again, parsed = scan(folder, monkeypatch)
    assert again == names and parsed == []


def test_a_changed_file_is_parsed_again(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scan(folder, monkeypatch)
    path = folder / "a.yaml"
    path.write_text("extends: resnet18\nname: c\n", encoding="utf-8")  # same size: "c" for "a"
    os.utime(path, (OLD + 1, OLD + 1))
    (folder / "b.yaml").unlink()
    names, parsed = scan(folder, monkeypatch)
    assert names == {"c": "a.yaml"} and parsed == ["a.yaml"]


def test_a_racy_file_is_always_parsed(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Written within the clock tick of the index: its stamp cannot tell a rewrite apart.
    (folder / "a.yaml").write_text("extends: resnet18\nname: a\n", encoding="utf-8")
    scan(folder, monkeypatch)
    _, parsed = scan(folder, monkeypatch)
    assert parsed == ["a.yaml"]


@pytest.mark.parametrize(
    "garbage",
    [b"\x00\xff not json", b"[]", b'{"version": 1, "folder": "x", "written_ns": 1, "records": {}}',
     b"{}", b'{"version": 1, "records": {"a.yaml": {"stamp": "x"}}}'],
)  # fmt: skip
def test_a_corrupt_index_is_rebuilt_silently(
    folder: Path, monkeypatch: pytest.MonkeyPatch, garbage: bytes
) -> None:
    names, _ = scan(folder, monkeypatch)
    files = list((folder.parent / "cache").iterdir())
    assert len(files) == 1
    files[0].write_bytes(garbage)
    again, parsed = scan(folder, monkeypatch)
    assert again == names and parsed == ["a.yaml", "b.yaml"]
    third, parsed = scan(folder, monkeypatch)  # ... and rewritten
    assert third == names and parsed == []


def test_a_forged_index_entry_is_not_trusted(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scan(folder, monkeypatch)
    (cache,) = (folder.parent / "cache").iterdir()
    text = cache.read_text(encoding="utf-8").replace('"network"', '"bogus"')
    cache.write_text(text, encoding="utf-8")
    names, parsed = scan(folder, monkeypatch)
    assert names["a"] == "a.yaml" and parsed == ["a.yaml", "b.yaml"]


def test_no_cache_and_an_unwritable_cache_still_scan(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(cache.CACHE_ENV, "off")
    assert scan(folder, monkeypatch)[0]["b1"] == "b.yaml"
    blocker = folder.parent / "file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv(cache.CACHE_ENV, str(blocker / "cache"))  # a folder under a file
    assert scan(folder, monkeypatch)[0]["b1"] == "b.yaml"
    assert not (folder.parent / "cache").exists()


def test_the_cache_folder_follows_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cache.CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_dir() == tmp_path / "xdg" / "archprobe"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")  # the spec: absolute paths only
    assert cache.cache_dir() == Path.home() / ".cache" / "archprobe"


def test_list_writes_nothing_outside_the_cache(tmp_path: Path) -> None:
    specs, cwd, cache = tmp_path / "specs", tmp_path / "cwd", tmp_path / "cache"
    for d in (specs, cwd):
        d.mkdir()
    (specs / "mine.yaml").write_text("extends: resnet18\nname: mine\n", encoding="utf-8")
    for _ in range(2):
        done = cli("list", "--json", cwd=cwd, ARCHPROBE_SPECS=str(specs),
                   ARCHPROBE_CACHE_DIR=str(cache))  # fmt: skip
        assert done.returncode == 0 and '"name": "mine"' in done.stdout, done.stderr
    assert list(cwd.iterdir()) == [] and [p.name for p in specs.iterdir()] == ["mine.yaml"]
    assert len(list(cache.glob("catalog-*.json"))) == 2  # the user's folder and the built-in one
