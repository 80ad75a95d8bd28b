"""Counting at dispatch level and reconciling counters: analytic, FlopCounterMode, fvcore, thop.

``conventions`` predicts each counter's number from the graph (torch-free); the other modules
run counters on built modules and import torch.
"""
