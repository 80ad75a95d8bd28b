"""The allocation replay behind ``memory_model``: eager PyTorch's tensors, one by one (torch-free).

``Replay`` walks the graph the way ``builder.py``'s modules run it and keeps every storage in a
reference-counted ``_Pool``; an ``OpRule`` per op kind (``memory_model.RULES``, with the reasons)
says what autograd keeps for backward. The liveness rules are in ``memory_model``'s docstring.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, NamedTuple

from archprobe.errors import ArchprobeError
from archprobe.graph import ops
from archprobe.graph.composite import Composite
from archprobe.graph.cost import Shape, numel
from archprobe.graph.nodes import Node, OpNode, Parallel, Residual, Seq

Optimizer = Literal["sgd", "sgd_momentum", "adam"]
Backend = Literal["cuda", "cpu"]

STEP_BYTES = 4  # Adam's per-tensor `step` is a float32 scalar on the host (not capturable)


class MemoryModelError(ArchprobeError):
    """The graph holds an op the memory model has no rule for (never skipped silently)."""


@dataclass(frozen=True)
class LayerMemory:
    """Bytes that one op owns in a training step (inference rows have zero grads and state).

    Attributes:
        saved_bytes: storages this op is the first to keep for backward (unique, so the column
            sums to the step's saved total).
        output_bytes: bytes the op allocates for its output (0 for an in-place ReLU).
    """

    scope: str
    op: str
    params_bytes: int
    grads_bytes: int
    optimizer_bytes: int
    saved_bytes: int
    output_bytes: int


class _Pool:
    """Live storages with reference counts; a storage is freed when its last owner lets go."""

    def __init__(self) -> None:
        self._refs: dict[int, int] = {}
        self.size: dict[int, int] = {}
        self.counted: dict[int, bool] = {}
        self.live = self.peak = 0
        self.where = self.peak_at = ""

    def alloc(self, nbytes: int, counted: bool = True) -> int:
        sid = len(self.size)
        self.size[sid], self.counted[sid], self._refs[sid] = nbytes, counted, 1
        if counted:
            self.live += nbytes
            if self.live > self.peak:
                self.peak, self.peak_at = self.live, self.where
        return sid

    def hold(self, sid: int) -> int:
        self._refs[sid] += 1
        return sid

    def refs(self, sid: int) -> int:
        return self._refs.get(sid, 0)

    def drop(self, sid: int) -> None:
        self._refs[sid] -= 1
        if self._refs[sid] == 0:
            del self._refs[sid]
            if self.counted[sid]:
                self.live -= self.size[sid]


class _Value(NamedTuple):
    """A tensor in the forward pass: its storage, its autograd identity and its shape."""

    sid: int
    vid: int
    shape: Shape
    grad: bool  # requires grad


class _Extras(NamedTuple):
    """Bytes of an op's tensors besides its output (from its ``OpRule``)."""

    saved: tuple[int, ...] = ()
    no_grad: tuple[int, ...] = ()
    workspace: tuple[int, ...] = ()
    transient: tuple[int, ...] = ()


_NO_EXTRAS = _Extras()


class _BwdNode(NamedTuple):
    """One autograd node as far as memory goes."""

    scope: str
    out: int  # vid whose gradient it consumes
    inputs: tuple[int, ...]  # vids that receive a gradient
    grad_bytes: tuple[int, ...]  # new gradient per input; 0 = passes the incoming one on
    param_grads: tuple[int, ...]
    saved: tuple[int, ...]  # sids it keeps alive until it runs
    transient: tuple[int, ...]  # intermediate gradients freed inside the node chain


Sizes = Callable[[ops.Op, Shape, Shape, int, int], tuple[int, ...]]
"""(op, input shape, output shape, batch, dtype_bytes) -> bytes of each tensor."""


def _nothing(op: ops.Op, x: Shape, y: Shape, batch: int, db: int) -> tuple[int, ...]:
    return ()


@dataclass(frozen=True)
class OpRule:
    """What eager PyTorch allocates and keeps for one op kind.

    Attributes:
        inplace: the output is the input's storage (``nn.ReLU(inplace=True)``).
        saves_input / saves_output: autograd keeps that tensor for the backward formula.
        saved_extra: bytes of new tensors kept for backward (BN statistics, pool indices).
        no_grad_extra: bytes allocated and dropped inside the op under ``no_grad``.
        workspace: bytes allocated after the output and dropped before the op returns.
        grad_pass: backward hands the incoming gradient on unchanged (add, views).
        bwd_transient: bytes of intermediate gradients in the backward chain.
    """

    inplace: bool = False
    saves_input: bool = False
    saves_output: bool = False
    saved_extra: Sizes = _nothing
    no_grad_extra: Sizes = _nothing
    workspace: Sizes = _nothing
    grad_pass: bool = False
    bwd_transient: Sizes = _nothing


def rule_for(rules: Mapping[type[ops.Op], OpRule], op: ops.Op) -> OpRule:
    """The memory rule of an op; unknown ops are an error, never silently ignored."""
    try:
        return rules[type(op)]
    except KeyError:
        raise MemoryModelError(
            f"the memory model has no rule for op {type(op).__name__}; add one to its RULES"
        ) from None


def _param_tensors(op: ops.Op) -> int:
    """How many parameter tensors an op registers (optimizers keep state per tensor)."""
    if isinstance(op, Composite):  # SE, split attention, Res2Net splits: their parts' tensors
        return sum(_param_tensors(part) for part, _ in op.parts((op.in_channels, 8, 8)))
    if isinstance(op, ops.BatchNorm):
        return 2  # weight and bias
    if isinstance(op, ops.Conv | ops.Linear):
        return 2 if op.bias else 1
    return 0


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


class Replay:
    """One replay of the model's forward (and, in training, its backward) over a ``_Pool``.

    Ownership convention: ``call(node, x)`` may use ``x`` for the whole call (the caller holds it)
    and returns a value holding one reference that the caller now owns.
    """

    def __init__(
        self,
        rules: Mapping[type[ops.Op], OpRule],
        batch: int,
        dtype_bytes: int,
        training: bool,
        backend: Backend,
    ) -> None:
        self.rules, self.batch, self.db = rules, batch, dtype_bytes
        self.training, self.backend = training, backend
        self.pool = _Pool()
        self.tape: list[_BwdNode] = []
        self.rows: list[LayerMemory] = []
        self.saved: set[int] = set()
        self.host_state = 0  # Adam step counters: one per parameter tensor
        self._vids = 0

    def bytes_of(self, shape: Shape) -> int:
        return self.batch * numel(shape) * self.db

    def value(self, sid: int, shape: Shape, grad: bool) -> _Value:
        self._vids += 1
        return _Value(sid, self._vids, shape, grad)

    def call(self, node: Node, x: _Value, prefix: str) -> _Value:
        scope = _join(prefix, node.name)
        if isinstance(node, OpNode):
            return self.op(scope, node.op, (x,), node.op.out_shape(x.shape))
        if isinstance(node, Seq):
            return self.chain(node.children, x, scope)
        if isinstance(node, Residual):
            return self.residual(node, x, scope)
        return self.parallel(node, x, scope)

    def chain(self, nodes: tuple[Node, ...], x: _Value, scope: str, owned: bool = False) -> _Value:
        """``for m in modules: out = m(out)``: the old ``out`` goes once ``m`` has returned.

        ``owned``: the caller hands over its reference to ``x`` (a rebound local), so the first
        rebinding frees it; otherwise the caller's frame keeps ``x`` alive (a module argument).
        """
        cur = x if owned else x._replace(sid=self.pool.hold(x.sid))
        for child in nodes:
            nxt = self.call(child, cur, scope)
            self.pool.drop(cur.sid)
            cur = nxt
        return cur

    def residual(self, node: Residual, x: _Value, scope: str) -> _Value:
        """``ResidualBlock.forward``: the block input lives until the add (it is the identity)."""
        body = self.chain(node.body, x, scope)
        if node.shortcut is None:
            identity = x._replace(sid=self.pool.hold(x.sid))  # the same tensor, for autograd too
        else:
            identity = self.call(node.shortcut, x, scope)
        out = self.op(_join(scope, "add"), ops.Add(), (body, identity), body.shape)
        self.pool.drop(body.sid)  # `out = out + identity` rebinds out
        out = self.chain(node.post, out, scope, owned=True)
        self.pool.drop(identity.sid)  # a local until forward returns
        return out

    def parallel(self, node: Parallel, x: _Value, scope: str) -> _Value:
        """``ParallelBranches.forward``: every branch output lives in ``outs`` until return."""
        outs = [self.call(b, x, scope) for b in node.branches]
        if node.merge == "concat":
            shape = (sum(o.shape[0] for o in outs), *outs[0].shape[1:])
            # torch.cat's backward hands each input a narrow view of the gradient.
            total = self.emit(scope, "concat", OpRule(grad_pass=True), tuple(outs), shape)
        else:
            total = outs[0]._replace(sid=self.pool.hold(outs[0].sid))
            for i, o in enumerate(outs[1:], 1):
                nxt = self.op(_join(scope, f"add{i}"), ops.Add(), (total, o), total.shape)
                self.pool.drop(total.sid)
                total = nxt
        for o in outs:
            self.pool.drop(o.sid)
        return total

    def op(self, scope: str, op: ops.Op, inputs: tuple[_Value, ...], y: Shape) -> _Value:
        """One primitive op, with the extra tensors its rule gives."""
        rule = rule_for(self.rules, op)
        params = op.cost_at(inputs[0].shape, y).params * self.db
        if self.training:
            self.host_state += _param_tensors(op) * STEP_BYTES
        at = (op, inputs[0].shape, y, self.batch, self.db)
        sizes = (rule.saved_extra, rule.no_grad_extra, rule.workspace, rule.bwd_transient)
        extras = _Extras(*(f(*at) for f in sizes))
        return self.emit(scope, op.kind, rule, inputs, y, params, extras)

    def emit(
        self,
        scope: str,
        kind: str,
        rule: OpRule,
        inputs: tuple[_Value, ...],
        y: Shape,
        params: int = 0,
        extras: _Extras = _NO_EXTRAS,
    ) -> _Value:
        """Allocate one op's output (and what it keeps); record its row."""
        self.pool.where = f"forward {scope}"
        x = inputs[0]
        out_bytes = 0 if rule.inplace else self.bytes_of(y)
        sid = self.pool.hold(x.sid) if rule.inplace else self.pool.alloc(out_bytes)
        grad = self.training and (params > 0 or any(v.grad for v in inputs))
        out = self.value(sid, y, grad)
        scratch = extras.workspace + (() if grad else extras.no_grad)
        for sid in [self.pool.alloc(b) for b in scratch]:
            self.pool.drop(sid)  # allocated inside the op, dropped before it returns
        saved = self.record(scope, rule, inputs, out, params, extras) if grad else ()
        first = sum(self.pool.size[s] for s in set(saved) - self.saved)
        self.saved.update(saved)
        grads = params if self.training else 0
        self.rows.append(LayerMemory(scope, kind, params, grads, 0, first, out_bytes))
        return out

    def record(
        self,
        scope: str,
        rule: OpRule,
        inputs: tuple[_Value, ...],
        out: _Value,
        params: int,
        extras: _Extras,
    ) -> tuple[int, ...]:
        """The op's autograd node: what it keeps until backward, what backward allocates."""
        held = [inputs[0].sid] * rule.saves_input + [out.sid] * rule.saves_output
        saved = tuple(self.pool.hold(s) for s in held)
        saved += tuple(self.pool.alloc(b) for b in extras.saved)
        needs = tuple(v for v in inputs if v.grad)
        new = tuple(0 if rule.grad_pass else self.bytes_of(v.shape) for v in needs)
        pgrads = (params,) if params else ()
        vids = tuple(v.vid for v in needs)
        self.tape.append(_BwdNode(scope, out.vid, vids, new, pgrads, saved, extras.transient))
        return saved

    def cross_entropy(self, logits: _Value) -> _Value:
        """``F.cross_entropy``: log_softmax keeps its result; nll_loss keeps it and total_weight."""
        self.pool.where = "forward loss"
        probs = self.bytes_of(logits.shape)
        lsm = self.value(self.pool.alloc(probs), logits.shape, True)
        keep: tuple[int, ...] = (self.pool.hold(lsm.sid),)
        self.tape.append(
            _BwdNode("loss.log_softmax", lsm.vid, (logits.vid,), (probs,), (), keep, ())
        )
        loss = self.value(self.pool.alloc(self.db), (1, 1, 1), True)
        keep = (self.pool.hold(lsm.sid), self.pool.alloc(self.db))  # total_weight
        self.tape.append(_BwdNode("loss.nll_loss", loss.vid, (lsm.vid,), (probs,), (), keep, ()))
        self.pool.drop(lsm.sid)
        return loss

    def backward(self, loss: _Value) -> None:
        """Autograd's engine over the tape, newest node first."""
        grads = {loss.vid: self.pool.alloc(self.db)}  # loss.backward() seeds ones_like(loss)
        for node in reversed(self.tape):
            self.pool.where = f"backward {node.scope}"
            g = grads.pop(node.out, None)
            new = self.run_node(node, g) if g is not None else []
            for sid in node.saved:  # release_variables() after the node has run
                self.pool.drop(sid)
            for vid, sid in zip(node.inputs, new, strict=False):
                self.accumulate(grads, vid, sid)

    def run_node(self, node: _BwdNode, g: int) -> list[int]:
        """Allocate a node's gradients, then free its incoming gradient (the input buffer)."""
        prev: int | None = None
        for b in node.transient:  # a chain of backward steps, each freeing the one before
            t = self.pool.alloc(b)
            if prev is not None:
                self.pool.drop(prev)
            prev = t
        new = [self.pool.alloc(b) if b else self.pool.hold(g) for b in node.grad_bytes]
        for b in node.param_grads:
            self.pool.alloc(b)  # AccumulateGrad steals the fresh gradient: it is .grad now
        self.pool.drop(g)
        if prev is not None:
            self.pool.drop(prev)
        return new

    def accumulate(self, grads: dict[int, int], vid: int, sid: int) -> None:
        """InputBuffer: a second gradient is added in place into whichever one is not shared."""
        old = grads.get(vid)
        if old is None:
            grads[vid] = sid
        elif old != sid and self.pool.refs(old) == 1:
            self.pool.drop(sid)  # old.add_(new)
        elif old != sid and self.pool.refs(sid) == 1:
            grads[vid] = sid  # new.add_(old)
            self.pool.drop(old)
        else:  # both shared, or one tensor twice (x + x): old + new, out of place
            grads[vid] = self.pool.alloc(self.pool.size[sid])
            self.pool.drop(sid)
            self.pool.drop(old)

    def step(self, optimizer: Optimizer) -> None:
        """``optimizer.step()`` from the 2nd step on (state exists); SGD updates in place."""
        self.pool.where = "optimizer step"
        sizes = [r.params_bytes for r in self.rows if r.params_bytes]
        if optimizer != "adam" or not sizes:
            return
        if self.backend == "cuda":  # foreach Adam: exp_avg_sq_sqrt = _foreach_sqrt(exp_avg_sqs)
            temps = [self.pool.alloc(b) for b in sizes]
        else:  # single-tensor Adam (CPU): denom = exp_avg_sq.sqrt() / c, one layer at a time
            temps = [self.pool.alloc(2 * max(sizes))]
        for sid in temps:
            self.pool.drop(sid)

    def start(self, shape: Shape) -> _Value:
        """The input batch: resident before the step (the baseline), so never counted as live;
        its size still counts as saved when the first conv keeps it."""
        return self.value(self.pool.alloc(self.bytes_of(shape), counted=False), shape, False)
