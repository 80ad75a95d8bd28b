"""The op graph: primitive ops with shape rules and costs, structural nodes. torch-free.

``archprobe.spec.expand`` turns a spec into a Graph (it reads the block registry, which itself
builds on this package, so it is not re-exported here).
"""

from archprobe.graph.cost import Cost, Shape
from archprobe.graph.nodes import Graph, Leaf, Node, OpNode, Parallel, Residual, Section, Seq, walk
from archprobe.graph.ops import GraphError, Op

__all__ = [
    "Cost",
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
    "walk",
]
