"""The replay of each structural node: what its module's forward (``builder/modules.py``) keeps
alive, tensor by tensor, one function per node type (torch-free).

Each function mirrors one forward: a module's input stays alive for the whole call (the caller's
frame holds it), ``out = f(out)`` frees the old ``out`` only once ``f`` has returned, and a
local list (``outs``) keeps every branch output until the module returns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from archprobe.analysis.memory.replay import Replay, Value
from archprobe.graph.nodes import Gate, Node, OpNode, Parallel, Residual, Seq, Split, join
from archprobe.graph.ops import Add, Concat

_ADD, _CAT = Add(), Concat()


def call(run: Replay, node: Node, x: Value, prefix: str) -> Value:
    """Replay ``node`` on ``x`` (held by the caller); return a value the caller owns."""
    return _NODES[type(node)](run, node, x, join(prefix, node.name))


def chain(run: Replay, nodes: tuple[Node, ...], x: Value, scope: str, owned: bool = False) -> Value:
    """``for m in modules: out = m(out)``: the old ``out`` goes once ``m`` has returned.

    ``owned``: the caller hands over its reference to ``x`` (a rebound local), so the first
    rebinding frees it; otherwise the caller's frame keeps ``x`` alive (a module argument).
    """
    cur = x if owned else x._replace(sid=run.pool.hold(x.sid))
    for child in nodes:
        nxt = call(run, child, cur, scope)
        run.pool.drop(cur.sid)
        cur = nxt
    return cur


def _alias(run: Replay, v: Value) -> Value:
    """Another reference to the same tensor (for autograd too)."""
    return v._replace(sid=run.pool.hold(v.sid))


def _op(run: Replay, node: OpNode, x: Value, scope: str) -> Value:
    return run.op(scope, node.op, (x,))


def _seq(run: Replay, node: Seq, x: Value, scope: str) -> Value:
    return chain(run, node.children, x, scope)


def _residual(run: Replay, node: Residual, x: Value, scope: str) -> Value:
    """``ResidualBlock.forward``: the block input lives until the add (it is the identity)."""
    body = chain(run, node.body, x, scope)
    identity = _alias(run, x) if node.shortcut is None else call(run, node.shortcut, x, scope)
    out = run.op(join(scope, "add"), _ADD, (body, identity))
    run.pool.drop(body.sid)  # `out = out + identity` rebinds out
    out = chain(run, node.post, out, scope, owned=True)
    run.pool.drop(identity.sid)  # a local until forward returns
    return out


def _parallel(run: Replay, node: Parallel, x: Value, scope: str) -> Value:
    """``ParallelBranches.forward``: every branch output lives in ``outs`` until return."""
    outs = [call(run, b, x, scope) for b in node.branches]
    if node.merge == "concat":
        total = run.op(join(scope, "cat"), _CAT, tuple(outs))
    else:
        total = _alias(run, outs[0])
        for i, o in enumerate(outs[1:], 1):
            nxt = run.op(join(scope, f"add{i}"), _ADD, (total, o))
            run.pool.drop(total.sid)
            total = nxt
    for o in outs:
        run.pool.drop(o.sid)
    return total


def _gate(run: Replay, node: Gate, x: Value, scope: str) -> Value:
    """``GateBlock.forward``: ``h`` lives until return, the body's result until the combine."""
    h = chain(run, node.pre, x, scope)
    a = chain(run, node.body, h, scope)
    out = run.op(join(scope, node.combine.name), node.combine.op, (h, a))
    run.pool.drop(a.sid)
    run.pool.drop(h.sid)
    return out


def _chunks(run: Replay, node: Split, x: Value, scope: str) -> list[Value]:
    """``torch.split``: views of ``x``'s storage, one autograd node for all of them (its
    backward concatenates their gradients into one of ``x``'s size)."""
    parts = [
        run.value(run.pool.hold(x.sid), (c, *x.shape[1:]), x.grad)._replace(
            channels_last=x.channels_last
        )
        for c in node.chunks
    ]
    if run.training and x.grad:
        run.node(join(scope, "split"), tuple(p.vid for p in parts), (x,))
    return parts


def _split(run: Replay, node: Split, x: Value, scope: str) -> Value:
    """``SplitBlock.forward``: ``h`` is rebound per branch, ``outs`` live until the cat."""
    parts = _chunks(run, node, x, scope)
    outs: list[Value] = []
    h: Value | None = None
    for i, (part, branch) in enumerate(zip(parts, node.branches, strict=True)):
        if node.carries(i) and outs:
            nh = run.op(join(scope, f"add{i}"), _ADD, (outs[-1], part))
        else:
            nh = _alias(run, part)
        if h is not None:
            run.pool.drop(h.sid)
        h = nh
        outs.append(chain(run, branch, h, scope))
    out = run.op(join(scope, "cat"), _CAT, tuple(outs))
    for v in [*outs, *parts, *([h] if h is not None else [])]:
        run.pool.drop(v.sid)
    return out


_NODES: dict[type, Callable[[Replay, Any, Value, str], Value]] = {
    OpNode: _op,
    Seq: _seq,
    Residual: _residual,
    Parallel: _parallel,
    Gate: _gate,
    Split: _split,
}
"""The replay of every structural node type (a new node type needs one entry here)."""
