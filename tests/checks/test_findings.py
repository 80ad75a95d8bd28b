"""Spec findings: every code has a spec that triggers it and one that does not, and the exact
text a user sees is a golden file (``tests/data/checks/expected.txt``).

Cases are ``tests/data/checks/<code>_trigger*.yaml`` and ``<code>_clean*.yaml``; ``invalid_*``
files must fail validation instead (an impossible spec is never a finding). Regenerate the
golden file after a deliberate message change, then review its diff:

    ARCHPROBE_UPDATE_GOLDEN=1 pytest tests/checks/test_findings.py
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from archprobe.checks import CHECKS, Finding, Hit, check_spec, register_check, run_checks
from archprobe.errors import SpecError
from archprobe.spec import list_specs, spec_from_dict

ROOT = Path(__file__).resolve().parent.parent.parent
DATA = ROOT / "tests" / "data" / "checks"
GOLDEN = DATA / "expected.txt"
CASES = sorted(p.name for p in DATA.glob("*.yaml"))
HEADER = (
    "# Expected findings of tests/data/checks/*.yaml, checked by tests/checks/test_findings.py.\n"
    "# Regenerate: ARCHPROBE_UPDATE_GOLDEN=1 pytest tests/checks/test_findings.py\n"
)
MARK = "### "


def rendered(name: str) -> str:
    """The findings (or the validation error) of one case, with ``checks/`` for the folder."""
    try:
        lines = [f.format() for f in check_spec(DATA / name).findings] or ["(no findings)"]
    except SpecError as exc:
        lines = [exc.format()]
    return "\n".join(lines).replace(f"{DATA}{os.sep}", "checks/")


def render_golden() -> str:
    return HEADER + "".join(f"\n{MARK}{name}\n{rendered(name)}\n" for name in CASES)


def parse_golden(text: str) -> dict[str, str]:
    cases: dict[str, list[str]] = {}
    name = ""
    for line in text.splitlines():
        if line.startswith(MARK):
            name = line[len(MARK) :].strip()
            cases[name] = []
        elif name:
            cases[name].append(line)
    return {k: "\n".join(v).strip("\n") for k, v in cases.items()}


@pytest.fixture(scope="module")
def golden() -> dict[str, str]:
    if os.environ.get("ARCHPROBE_UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(render_golden(), encoding="utf-8")
    return parse_golden(GOLDEN.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", CASES)
def test_findings_match_golden(name: str, golden: dict[str, str]) -> None:
    assert name in golden, f"no golden for {name}; run with ARCHPROBE_UPDATE_GOLDEN=1"
    assert rendered(name) == golden[name]


def test_golden_has_no_stale_cases(golden: dict[str, str]) -> None:
    assert sorted(golden) == CASES


def _codes(name: str) -> set[str]:
    return {f.code for f in check_spec(DATA / name).findings}


@pytest.mark.parametrize("code", sorted(CHECKS))
def test_every_code_has_a_trigger_and_a_clean_spec(code: str) -> None:
    triggers = sorted(DATA.glob(f"{code.lower()}_trigger*.yaml"))
    cleans = sorted(DATA.glob(f"{code.lower()}_clean*.yaml"))
    assert triggers and cleans, f"{code}: add {code.lower()}_trigger.yaml and _clean.yaml"
    for path in triggers:
        found = [f for f in check_spec(path).findings if f.code == code]
        assert found, f"{path.name} does not trigger {code}"
        for f in found:  # located in the user's own file, at a real line
            assert f.where is not None and f.where.file == path and f.where.line > 1
            assert f.severity == CHECKS[code].severity and f.ref == CHECKS[code].ref
    for path in cleans:
        assert code not in _codes(path.name), f"{path.name} triggers {code}"


def test_codes_are_stable_and_documented() -> None:
    assert {"RX001", "RX002", "SH001", "SH002", "SH003"} <= set(CHECKS)
    for check in CHECKS.values():
        assert check.fn.__doc__ and check.ref and check.title
    assert any(c.severity == "error" for c in CHECKS.values())


def test_duplicate_code_is_an_error() -> None:
    with pytest.raises(ValueError, match="already registered"):
        register_check("RX001", "warning", "again", "nowhere")(lambda s, g, r: iter(()))
    with pytest.raises(ValueError, match="two capitals"):
        register_check("X1", "warning", "bad code", "nowhere")
    with pytest.raises(ValueError, match="severity"):
        register_check("ZZ999", "fatal", "bad severity", "nowhere")  # type: ignore[arg-type]
    assert "ZZ999" not in CHECKS


def test_groups_not_dividing_is_a_validation_error_not_a_finding() -> None:
    with pytest.raises(SpecError, match="groups=3 must divide both widths") as info:
        check_spec(DATA / "invalid_groups.yaml")
    assert info.value.loc is not None and info.value.loc.file.name == "invalid_groups.yaml"


def test_error_severity_sets_has_errors() -> None:
    assert check_spec(DATA / "sh002_trigger.yaml").has_errors
    assert not check_spec(DATA / "rx001_trigger.yaml").has_errors


# VGG §2.2: the width doubles after each max pool "until it reaches 512", so conv5 keeps 512
# channels at half conv4's resolution and each of its convs costs a quarter of one in conv4
# (462,422,016 vs 1,849,688,064 MACs, torchvision vgg16_bn features.34 vs features.27): a real
# departure from the doubling template, which SH001 is right to report.
KNOWN = {f"vgg{n}{bn}": ("SH001",) for n in (11, 13, 16, 19) for bn in ("", "_bn")}


@pytest.mark.parametrize("entry", list_specs(), ids=lambda e: e.name)
def test_catalog_is_clean(entry: object) -> None:
    findings = check_spec(entry.path).findings  # type: ignore[attr-defined]
    assert tuple(f.code for f in findings) == KNOWN.get(entry.name, ())


def test_run_checks_selected_codes_and_specs_built_in_code() -> None:
    spec = spec_from_dict(
        {
            "name": "in_code",
            "input": {"size": 32},
            "stem": {"type": "cifar"},
            "block": {"type": "basic", "shortcut": "identity_pad"},
            "stages": [
                {"depth": 1, "width": 16, "stride": 1},
                {"depth": 1, "width": 24, "stride": 1},
            ],
        }
    )
    found = run_checks(spec, codes=["SH003"])
    assert [f.code for f in found] == ["SH003"]
    assert found[0].format().startswith("<dict>:1:1: SH003 info: conv3 (layer2)")


def test_finding_format() -> None:
    f = Finding("RX001", "warning", "msg", None, "ResNeXt §3.3")
    assert f.format() == "<spec>: RX001 warning: msg [ResNeXt §3.3]"
    assert Hit("m", None).where is None


def test_checks_import_without_torch() -> None:
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "import archprobe.checks, archprobe.report.terminal.checks, archprobe.cli.check\n"
        "import archprobe.proofs.results, archprobe.proofs.graphs, archprobe.proofs.twins\n"
        "from archprobe.checks import check_spec\n"
        "assert check_spec('resnext50').findings == ()\n"
        "assert archprobe.proofs.twins.prove_twins('resnet18').ok\n"
        "assert 'torch' not in [m for m in sys.modules if sys.modules[m] is not None]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
