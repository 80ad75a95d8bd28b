"""Load a user's model from ``package.module:factory`` with errors that say what went wrong.

Importing user code imports whatever it imports (torch, usually); only ``--module`` gets here.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from typing import Any

from archprobe.errors import ArchprobeError
from archprobe.units import parse_positive_ints


def is_module_ref(ref: str) -> bool:
    """True for ``pkg.mod:factory`` (a module reference), False for spec names and paths."""
    mod, sep, attr = ref.partition(":")
    return bool(sep and mod and attr) and "/" not in ref and not ref.endswith((".yaml", ".yml"))


def parse_kwargs(text: str | None) -> dict[str, Any]:
    """``'{"num_classes": 10}'`` -> a dict; anything else is a user error."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArchprobeError(f"--kwargs {text!r} is not JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise ArchprobeError(f"--kwargs must be a JSON object like '{{\"num_classes\": 10}}', "
                             f"got {text!r}")  # fmt: skip
    return value


def parse_shape(text: str) -> tuple[int, ...]:
    """``"1,3,224,224"`` -> ``(1, 3, 224, 224)``."""
    shape = parse_positive_ints(text)
    if shape is None:
        raise ArchprobeError(f"--input {text!r}: expected positive integers like 1,3,224,224")
    return shape


def load_module(ref: str, kwargs: dict[str, Any] | None = None) -> Any:
    """Import ``pkg.mod`` and call ``factory(**kwargs)``; the result must be an ``nn.Module``.

    Raises:
        ArchprobeError: a malformed reference, a module that does not import, a missing
            factory, a factory that raises, or one that returns something else than a module.
    """
    mod_name, _, attr = ref.partition(":")
    if not is_module_ref(ref):
        raise ArchprobeError(f"{ref!r}: expected package.module:factory, e.g. mymodels:my_resnet")
    module = _import(ref, mod_name)
    factory = getattr(module, attr, None)
    if factory is None or not callable(factory):
        public = sorted(
            n for n in vars(module) if not n.startswith("_") and callable(vars(module)[n])
        )
        raise ArchprobeError(
            f"{ref}: {mod_name} has no callable {attr!r} (callables: {', '.join(public)})"
        )
    return _call(ref, factory, kwargs or {})


def _import(ref: str, mod_name: str) -> Any:
    # Like `python -m`, the working directory is importable (a console script's sys.path lacks
    # it); only while importing, so the interpreter's path is left as it was.
    cwd = os.getcwd()
    added = cwd not in sys.path
    if added:
        sys.path.insert(0, cwd)
    try:
        return importlib.import_module(mod_name)
    except (SystemExit, KeyboardInterrupt) as exc:  # not archprobe's exit: say whose it was
        raise ArchprobeError(f"{ref}: importing {mod_name!r} {_stopped(exc)}") from exc
    except Exception as exc:  # the user's import error, shown with its own message
        raise ArchprobeError(
            f"{ref}: cannot import {mod_name!r}: {type(exc).__name__}: {exc}"
        ) from exc
    finally:
        if added:
            sys.path.remove(cwd)


def _call(ref: str, factory: Any, kwargs: dict[str, Any]) -> Any:
    from torch import nn

    try:
        model = factory(**kwargs)
    except (SystemExit, KeyboardInterrupt) as exc:
        raise ArchprobeError(f"{ref}: the factory {_stopped(exc)}") from exc
    except Exception as exc:  # the factory's own error, shown with the arguments it got
        raise ArchprobeError(
            f"{ref}: the factory raised {type(exc).__name__}: {exc} (kwargs: {json.dumps(kwargs)})"
        ) from exc
    if not isinstance(model, nn.Module):
        raise ArchprobeError(f"{ref}: the factory returned {type(model).__name__}, not nn.Module")
    return model


def _stopped(exc: SystemExit | KeyboardInterrupt) -> str:
    """How user code stopped: a ``sys.exit`` (e.g. a script's ``main()`` or argparse run at
    import) would otherwise end archprobe silently with the user's exit code."""
    if isinstance(exc, KeyboardInterrupt):
        return "was interrupted (KeyboardInterrupt)"
    return (
        f"called sys.exit({exc.code!r}) (SystemExit); code run at import or by the factory "
        'must not exit: guard a script\'s entry point with `if __name__ == "__main__":`'
    )
