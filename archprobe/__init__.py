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

from typing import TYPE_CHECKING, Any

from archprobe.analytic import Analysis, analyze, analyze_spec
from archprobe.compare import Comparison, compare
from archprobe.errors import ArchprobeError, SpecError
from archprobe.graph.expand import expand
from archprobe.results import Results
from archprobe.spec import ArchSpec, list_specs, load_spec

if TYPE_CHECKING:
    from archprobe.builder import build
    from archprobe.profiler import profile

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


def __getattr__(name: str) -> Any:
    if name == "build":  # imports torch: only on first use
        from archprobe.builder import build

        return build
    if name == "profile":  # imports torch: only on first use
        from archprobe.profiler import profile

        return profile
    raise AttributeError(f"module 'archprobe' has no attribute {name!r}")
