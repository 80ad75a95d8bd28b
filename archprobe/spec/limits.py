"""Resource budgets of spec reading, in one place (README "Limits").

A spec is a few kilobytes of YAML; the largest shipped network (EfficientNet-B7, RegNetY-128GF)
has under 100 blocks and the deepest (CIFAR ResNet-110) 54. Each budget below is orders of
magnitude above that, and each exists because a tiny hostile file could otherwise take minutes and
gigabytes before failing (issue 18: 421 bytes of nested YAML aliases, 1.8–3.3 GB; an ``extends:``
list of 8 copies of a base, 5 levels deep, 32,768 base loads). Exceeding one is a located
:class:`~archprobe.errors.SpecError` that names the limit, raised before the costly work starts.
"""

from __future__ import annotations

MAX_FILE_BYTES = 1 << 20
"""Bytes in one spec file (1 MiB; checked before the file is read, so a 3 GB file costs nothing)."""

MAX_STRING_CHARS = 10_000
"""Characters in one YAML scalar (a name, a citation)."""

MAX_YAML_NODES = 100_000
"""Values in one document after alias expansion (``*name`` repeats the node ``&name`` marks)."""

MAX_YAML_DEPTH = 64
"""Nesting depth of mappings and lists in one document."""

MAX_EXTENDS_FILES = 256
"""Files (distinct or repeated) one spec's ``extends:`` tree may name, itself included."""

MAX_EXTENDS_DEPTH = 32
"""Length of one ``extends:`` chain (a spec, its base, the base's base, ...)."""

MAX_STAGES = 512
"""Stages in one network."""

MAX_BLOCKS = 8192
"""Blocks in one network (the sum of the stage depths; ResNet-1202 has 600)."""
