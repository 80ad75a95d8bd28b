"""Numeric proofs of the papers' block equivalences (ResNeXt Fig. 3 and 4, BN folding, ResNet
shortcut options).

Each form is described once as an op graph (:mod:`archprobe.proofs.graphs`, torch-free): costs
come from the analytic walk, modules from ``builder.network.build_node`` (DESIGN §7.1). The
torch modules here (``forms``, ``depth2``, ``equivalences``) map weights between forms and
measure the output difference; :mod:`archprobe.proofs.results` holds their torch-free results,
which the reports render. This package ``__init__`` imports nothing, so the results and graphs
load without torch.
"""
