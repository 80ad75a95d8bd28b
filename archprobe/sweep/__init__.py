"""Design-space sweeps (DESIGN §7.10): width solver, sweep specs, samplers, runs, SQLite store.

Everything here except the measured executors is torch-free.
"""
