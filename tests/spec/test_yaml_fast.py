"""libyaml and the pure-Python reader give one answer: the same data, the same location of every
key path and the same error, for every YAML file of the repository and for tricky documents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from archprobe.errors import SpecError
from archprobe.spec import strict_yaml

ROOT = Path(__file__).resolve().parent.parent.parent
FILES = sorted(
    p for d in ("specs", "tests/data") for p in (ROOT / d).rglob("*.yaml") if p.stat().st_size < 1e5
)
TRICKY = [
    "name: ré×50  # non-ASCII before a key\nblock: {groups: 32, café: 1}\n",
    "a: |\n  multi\n  line\nb: >-\n  folded\n  text\nc: 'it''s'\n",
    "a: &x {b: 1}\nc: *x\nd: [*x, *x]\n",
    "- 0o17\n- 0x1F\n- 1e9\n- .inf\n- ~\n- null\n- yes\n- 017\n",
    "a: !!int '017'\n",
    "a: 1\na: 2\n",
    "a: [1, 2\n",
    "\tb: 1\n",
    "a: \x1b\n",
    "a: !!python/object:os.system x\n",
]


def both(text: str, file: Path, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    out = []
    for fast in (True, False):
        monkeypatch.setattr(strict_yaml, "FAST", fast)
        try:
            out.append(strict_yaml.load_yaml(text, file))
        except SpecError as exc:
            out.append(exc.format())
    return out


@pytest.mark.skipif(not strict_yaml.FAST, reason="PyYAML without libyaml")
@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_repository_files_read_alike(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        pytest.skip("not UTF-8 (a case of its own)")
    fast, slow = both(text, path, monkeypatch)
    assert repr(fast) == repr(slow)  # not ==: a `.nan` in a bad-input file is unequal to itself


@pytest.mark.skipif(not strict_yaml.FAST, reason="PyYAML without libyaml")
@pytest.mark.parametrize("text", TRICKY)
def test_tricky_documents_read_alike(
    text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, slow = both(text, tmp_path / "doc.yaml", monkeypatch)
    assert fast == slow
