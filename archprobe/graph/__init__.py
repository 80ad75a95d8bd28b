"""The op graph: primitive ops that own every fact about themselves, and structural nodes.
torch-free.

``archprobe.spec.expand`` turns a spec into a Graph (it reads the registered spec parts, which
themselves build on this package, so it is not re-exported here).
"""

from archprobe.graph.cost import Cost, Shape
from archprobe.graph.facts import Leaf
from archprobe.graph.nodes import (
    Gate,
    Graph,
    Node,
    OpNode,
    Parallel,
    Residual,
    Section,
    Seq,
    Split,
    walk,
)
from archprobe.graph.op import OPS, GraphError, Op, register_op

__all__ = [
    "OPS",
    "Cost",
    "Gate",
    "Graph",
    "GraphError",
    "Leaf",
    "Node",
    "Op",
    "OpNode",
    "Parallel",
    "Residual",
    "Section",
    "Seq",
    "Shape",
    "Split",
    "register_op",
    "walk",
]
