"""Analyzers over the op graph and over built modules, each emitting :class:`Results` rows.

``results`` (the row table), ``analytic`` (counts from the graph alone), ``stages`` (ResNet Table 1
rows), ``paper`` (printed figures vs exact counts), ``compare`` (several models side by side);
``counters/`` (what FlopCounterMode, fvcore and thop count, and why), ``memory/`` (predicted and
measured memory), ``timing/`` (latency, roofline, device ceilings). This ``__init__`` imports
nothing, so each analyzer loads only what it needs (torch only where a measurement runs).
"""
