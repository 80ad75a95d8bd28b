"""archprobe: exact costs of ResNet/ResNeXt-style CNNs from declarative specs.

Public API (torch is imported only by ``build`` and the runtime counters, lazily)::

    import archprobe
    spec = archprobe.load_spec("resnext50")        # catalog name, alias or YAML path
    results = archprobe.analyze(spec)              # analytic, torch-free
    results.total("macs")                          # 4_230_479_872 multiply-accumulates
    model = archprobe.build(spec, device="meta")   # nn.Module with torchvision names
    archprobe.profile(model).total("macs")         # any nn.Module, counted at dispatch level
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from archprobe.analysis.results import register_view
from archprobe.errors import ArchprobeError, SpecError

if TYPE_CHECKING:
    from archprobe.analysis.analytic import Analysis, analyze, analyze_spec
    from archprobe.analysis.compare import Comparison, compare
    from archprobe.analysis.counters.profile import profile
    from archprobe.analysis.results import Results
    from archprobe.builder.network import build
    from archprobe.spec import ArchSpec, list_specs, load_spec
    from archprobe.spec.expand import expand

__version__ = "0.1.0"

__all__ = [
    "Analysis",
    "ArchSpec",
    "ArchprobeError",
    "Comparison",
    "Results",
    "SpecError",
    "__version__",
    "analyze",
    "analyze_spec",
    "build",
    "compare",
    "expand",
    "list_specs",
    "load_spec",
    "profile",
]


def _notebook_view(kind: str) -> Any:
    """The ``kind`` view of ``report/html/notebook.py``, imported (with plotly) when first drawn.

    Registered here because this module sits above every layer: analysis/, checks/ and sweep/
    are below report/ and may not import it, even lazily (tests/test_boundaries.py).
    """

    def view(obj: object) -> Any:
        from archprobe.report.html import notebook

        return getattr(notebook, kind)(obj)

    return view


register_view("html", _notebook_view("html"))
register_view("figures", _notebook_view("figures"))


# The public names and the module each comes from, imported on first use (PEP 562): every
# submodule import runs this file first, so an eager import here would make `archprobe list` pay
# for pydantic's models of every part, and `build`/`profile` for torch (issue 16, start-up).
_LAZY = {
    "Analysis": "archprobe.analysis.analytic",
    "analyze": "archprobe.analysis.analytic",
    "analyze_spec": "archprobe.analysis.analytic",
    "Comparison": "archprobe.analysis.compare",
    "compare": "archprobe.analysis.compare",
    "Results": "archprobe.analysis.results",
    "ArchSpec": "archprobe.spec",
    "list_specs": "archprobe.spec",
    "load_spec": "archprobe.spec",
    "expand": "archprobe.spec.expand",
    "build": "archprobe.builder.network",  # imports torch
    "profile": "archprobe.analysis.counters.profile",  # imports torch
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'archprobe' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
