"""Memory: the allocation replay and predicted peaks (torch-free), and measured peaks (torch)."""
