"""Timing: measurement settings, latency, device ceilings and the per-layer roofline.

``devices`` and the analytic roofline are torch-free; measurements import torch lazily.
"""
