"""Broken spec files and the exact error text a user sees for each (golden file).

Every ``tests/data/bad/*.yaml`` is one realistic mistake; files whose name starts with ``_`` are
bases that cases extend, not cases. ``tests/data/bad/expected.txt`` holds the formatted error
(``SpecError.format()``) of each case, with the ``tests/data/bad/`` prefix written as ``bad/``.

Regenerate the golden file after a deliberate message change, then review its diff:

    ARCHPROBE_UPDATE_GOLDEN=1 pytest tests/spec/test_errors.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from archprobe.errors import SpecError, SpecErrors
from archprobe.spec import load_spec
from archprobe.spec.expand import expand

ROOT = Path(__file__).resolve().parent.parent.parent
BAD = ROOT / "tests" / "data" / "bad"
GOLDEN = BAD / "expected.txt"
CASES = sorted(p.name for p in BAD.glob("*.yaml") if not p.name.startswith("_"))
HEADER = (
    "# Expected errors of tests/data/bad/*.yaml, checked by tests/spec/test_errors.py.\n"
    "# Regenerate: ARCHPROBE_UPDATE_GOLDEN=1 pytest tests/spec/test_errors.py\n"
)
MARK = "### "


def error_of(name: str) -> SpecError:
    """The error of loading and expanding one case; any other exception fails the test."""
    try:
        expand(load_spec(BAD / name))
    except SpecError as exc:
        return exc
    except Exception as exc:  # the point: nothing but SpecError may escape
        pytest.fail(f"{name}: raised {type(exc).__name__}, not SpecError: {exc}")
    pytest.fail(f"{name}: loaded and expanded without an error")


def rendered(name: str) -> str:
    text = error_of(name).format()
    return text.replace(f"{BAD}{os.sep}", "bad/").replace(f"{ROOT}{os.sep}", "")


def parse_golden(text: str) -> dict[str, str]:
    cases: dict[str, str] = {}
    name = None
    for line in text.splitlines():
        if line.startswith(MARK):
            name = line[len(MARK) :].strip()
            cases[name] = ""
        elif name is not None:
            cases[name] += line + "\n"
    return {k: v.rstrip("\n") for k, v in cases.items()}


def render_golden() -> str:
    return HEADER + "".join(f"\n{MARK}{name}\n{rendered(name)}\n" for name in CASES)


def _updating(config: pytest.Config) -> bool:
    # `--update-golden` once tests/conftest.py defines it; the environment variable meanwhile.
    return bool(config.getoption("--update-golden", default=False)) or (
        os.environ.get("ARCHPROBE_UPDATE_GOLDEN") == "1"
    )


@pytest.fixture(scope="module")
def golden(request: pytest.FixtureRequest) -> dict[str, str]:
    if _updating(request.config):
        text = render_golden()
        if not GOLDEN.is_file() or GOLDEN.read_text(encoding="utf-8") != text:
            GOLDEN.write_text(text, encoding="utf-8")
    return parse_golden(GOLDEN.read_text(encoding="utf-8"))


def test_there_are_enough_distinct_cases() -> None:
    assert len(CASES) >= 15


@pytest.mark.parametrize("name", CASES)
def test_bad_file_raises_a_located_spec_error(name: str) -> None:
    err = error_of(name)
    parts = err.errors if isinstance(err, SpecErrors) else [err]
    for part in parts:
        assert part.loc is not None, f"{name}: no file:line:col in {part.format()!r}"
        assert part.loc.file.is_file()
        assert part.loc.line >= 1 and part.loc.col >= 1
        assert part.message


@pytest.mark.parametrize("name", CASES)
def test_error_text_matches_golden(name: str, golden: dict[str, str]) -> None:
    assert name in golden, f"no golden for {name}; run with ARCHPROBE_UPDATE_GOLDEN=1"
    assert rendered(name) == golden[name]


def test_golden_has_no_stale_cases(golden: dict[str, str]) -> None:
    assert sorted(golden) == CASES


def test_errors_of_one_spec_are_reported_together() -> None:
    err = error_of("partial_as_leaf.yaml")
    assert isinstance(err, SpecErrors)
    assert [e.key_path for e in err.errors] == ["name", "stem", "block", "stages"]


def test_model_level_typo_is_reported_once_not_per_stage() -> None:
    err = error_of("unknown_key_typo.yaml")
    assert isinstance(err, SpecErrors)
    assert [e.key_path for e in err.errors] == ["block.width_per_grup"]
