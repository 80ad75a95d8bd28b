"""The allocation replay behind ``memory_model``: eager PyTorch's tensors, one by one (torch-free).

``Replay`` walks the graph the way the builder's modules run it (``builder/modules.py``) and keeps
every storage in a reference-counted ``_Pool``; each op's own ``memory`` fact (a
:class:`~archprobe.graph.facts.MemoryRule`, with the reasons beside it in the op's file) says what
it allocates and what autograd keeps for backward. The liveness rules are in ``model``'s docstring.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

from archprobe.errors import ArchprobeError
from archprobe.graph.cost import Shape, numel
from archprobe.graph.facts import MemoryRule
from archprobe.graph.op import Op

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


class Value(NamedTuple):
    """A tensor in the forward pass: its storage, its autograd identity and its shape."""

    sid: int
    vid: int
    shape: Shape
    grad: bool  # requires grad
    channels_last: bool = False  # channels innermost in memory (Op.out_channels_last)


class _Extras(NamedTuple):
    """Bytes of an op's tensors besides its output (from its ``MemoryRule``)."""

    saved: tuple[int, ...] = ()
    no_grad: tuple[int, ...] = ()
    workspace: tuple[int, ...] = ()
    transient: tuple[int, ...] = ()


_NO_EXTRAS = _Extras()


class _BwdNode(NamedTuple):
    """One autograd node as far as memory goes."""

    scope: str
    outs: tuple[int, ...]  # vids whose gradients it consumes (several for a split)
    inputs: tuple[int, ...]  # vids that receive a gradient
    grad_bytes: tuple[int, ...]  # new gradient per input; 0 = passes the incoming one on
    param_grads: tuple[int, ...]
    saved: tuple[int, ...]  # sids it keeps alive until it runs
    transient: tuple[int, ...]  # intermediate gradients freed inside the node chain


def rule_for(op: Op, backend: Backend, channels_last: bool = False) -> MemoryRule:
    """The memory rule an op states (its CUDA one on CUDA, its channels-last one on the CPU for
    a channels-last input, where it has them); an op without one is an error, never silently
    ignored."""
    rule = getattr(type(op), "memory", None)
    if not isinstance(rule, MemoryRule):
        raise MemoryModelError(
            f"the memory model has no rule for op {type(op).__name__}; give it a `memory` fact "
            "(archprobe.graph.facts.MemoryRule) and register it with @register_op"
        )
    special = getattr(type(op), "memory_cuda", None) if backend == "cuda" else None
    if backend != "cuda" and channels_last:
        special = getattr(type(op), "memory_channels_last", None)
    return special if isinstance(special, MemoryRule) else rule


class Replay:
    """One replay of the model's forward (and, in training, its backward) over a ``_Pool``.

    Ownership convention: a structural node's replay (``walk.call``) may use its input for the
    whole call (the caller holds it) and returns a value holding one reference the caller owns.
    """

    def __init__(self, batch: int, dtype_bytes: int, training: bool, backend: Backend) -> None:
        self.batch, self.db = batch, dtype_bytes
        self.training, self.backend = training, backend
        self.pool = _Pool()
        self.tape: list[_BwdNode] = []
        self.rows: list[LayerMemory] = []
        self.saved: set[int] = set()
        self.host_state = 0  # Adam step counters: one per parameter tensor
        self._vids = 0

    def bytes_of(self, shape: Shape) -> int:
        return self.batch * numel(shape) * self.db

    def value(self, sid: int, shape: Shape, grad: bool) -> Value:
        self._vids += 1
        return Value(sid, self._vids, shape, grad)

    def op(self, scope: str, op: Op, inputs: tuple[Value, ...]) -> Value:
        """One primitive op on ``inputs``, with the extra tensors its rule gives."""
        rule = rule_for(op, self.backend, inputs[0].channels_last)
        x, others = inputs[0].shape, tuple(v.shape for v in inputs[1:])
        y = op.out_shape(x, *others)
        params = op.cost_at(x, y, *others).params * self.db
        if self.training:
            self.host_state += op.param_tensors() * STEP_BYTES
        at = (op, x, y, self.batch, self.db)
        sizes = (rule.saved_extra, rule.no_grad_extra, rule.workspace, rule.bwd_transient)
        extras = _Extras(*(f(*at) for f in sizes))
        out = self.emit(scope, op.kind, rule, inputs, y, params, extras)
        return out._replace(channels_last=op.out_channels_last(inputs[0].channels_last))

    def emit(
        self,
        scope: str,
        kind: str,
        rule: MemoryRule,
        inputs: tuple[Value, ...],
        y: Shape,
        params: int = 0,
        extras: _Extras = _NO_EXTRAS,
    ) -> Value:
        """Allocate one op's output (and what it keeps); record its row."""
        self.pool.where = f"forward {scope}"
        x = inputs[0]
        alias = rule.alias or (rule.eval_alias and not self.training)
        out_bytes = 0 if alias else self.bytes_of(y)
        sid = self.pool.hold(x.sid) if alias else self.pool.alloc(out_bytes)
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
        rule: MemoryRule,
        inputs: tuple[Value, ...],
        out: Value,
        params: int,
        extras: _Extras,
    ) -> tuple[int, ...]:
        """The op's autograd node: what it keeps until backward, what backward allocates."""
        held = [inputs[i].sid for i in rule.saves] + [out.sid] * rule.saves_output
        saved = tuple(self.pool.hold(s) for s in held)
        saved += tuple(self.pool.alloc(b) for b in extras.saved)
        self.node(scope, (out.vid,), inputs, rule.grad_pass, params, saved, extras.transient)
        return saved

    def node(
        self,
        scope: str,
        outs: tuple[int, ...],
        inputs: tuple[Value, ...],
        grad_pass: bool = False,
        params: int = 0,
        saved: tuple[int, ...] = (),
        transient: tuple[int, ...] = (),
    ) -> None:
        """Put an autograd node on the tape: it turns the gradients of ``outs`` into gradients of
        the ``inputs`` that need one (new tensors of their size unless ``grad_pass``)."""
        needs = tuple(v for v in inputs if v.grad)
        new = tuple(0 if grad_pass else self.bytes_of(v.shape) for v in needs)
        pgrads = (params,) if params else ()
        vids = tuple(v.vid for v in needs)
        self.tape.append(_BwdNode(scope, outs, vids, new, pgrads, saved, transient))

    def cross_entropy(self, logits: Value) -> Value:
        """``F.cross_entropy``: log_softmax keeps its result; nll_loss keeps it and total_weight."""
        self.pool.where = "forward loss"
        probs = self.bytes_of(logits.shape)
        lsm = self.value(self.pool.alloc(probs), logits.shape, True)
        keep: tuple[int, ...] = (self.pool.hold(lsm.sid),)
        self.node("loss.log_softmax", (lsm.vid,), (logits,), saved=keep)
        loss = self.value(self.pool.alloc(self.db), (1, 1, 1), True)
        keep = (self.pool.hold(lsm.sid), self.pool.alloc(self.db))  # total_weight
        self.node("loss.nll_loss", (loss.vid,), (lsm,), saved=keep)
        self.pool.drop(lsm.sid)
        return loss

    def backward(self, loss: Value) -> None:
        """Autograd's engine over the tape, newest node first."""
        grads = {loss.vid: self.pool.alloc(self.db)}  # loss.backward() seeds ones_like(loss)
        for node in reversed(self.tape):
            self.pool.where = f"backward {node.scope}"
            gs = [grads.pop(v) for v in node.outs if v in grads]
            new = self.run_node(node, gs) if gs else []
            for sid in node.saved:  # release_variables() after the node has run
                self.pool.drop(sid)
            for vid, sid in zip(node.inputs, new, strict=False):
                self.accumulate(grads, vid, sid)

    def run_node(self, node: _BwdNode, gs: list[int]) -> list[int]:
        """Allocate a node's gradients, then free its incoming gradients (the input buffers)."""
        prev: int | None = None
        for b in node.transient:  # a chain of backward steps, each freeing the one before
            t = self.pool.alloc(b)
            if prev is not None:
                self.pool.drop(prev)
            prev = t
        new = [self.pool.alloc(b) if b else self.pool.hold(gs[0]) for b in node.grad_bytes]
        for b in node.param_grads:
            self.pool.alloc(b)  # AccumulateGrad steals the fresh gradient: it is .grad now
        for g in gs:
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

    def start(self, shape: Shape) -> Value:
        """The input batch: resident before the step (the baseline), so never counted as live;
        its size still counts as saved when the first conv keeps it."""
        return self.value(self.pool.alloc(self.bytes_of(shape), counted=False), shape, False)
