"""The primitive op: every fact about an op lives on its class (STYLE rule 1, DESIGN §7.3).

An op states
- its **shape rule** (:meth:`Op.out_shape`) and **cost** (:meth:`Op.own_cost`; memory traffic
  follows from the shapes in :meth:`Op.cost_at`);
- the **torch module** it becomes (:meth:`Op.module`), or, for an op with no module of its own
  (a product, a softmax across splits), the **functional torch code** (:meth:`Op.forward`) that
  the builder wraps in a generic module;
- its **memory behaviour** (:attr:`Op.memory`, and :attr:`Op.memory_cuda` where cuDNN differs);
- how **each counter** counts it (:attr:`Op.counting`, one :class:`CountRule` per counter of
  :data:`~archprobe.graph.facts.COUNTERS`);
- the **aten ops** it dispatches to (:attr:`Op.aten`), which name its category in traces;
- a tiny **example** (:meth:`Op.example`), so the test suite checks every fact against torch;
- for an op whose weight is a **bare parameter** of the enclosing module rather than a module
  of its own (:attr:`Op.bare_parameter`: torchvision CNBlock's ``layer_scale``), that parameter
  (:meth:`Op.parameter`), which its :meth:`Op.forward` takes as its last argument.

:func:`register_op` refuses a class that lacks one of these facts, so a missing fact fails when
the op is defined, never in the middle of a report. Kind bases (``Elementwise`` in
``ops/elementwise.py``) supply the defaults a plain op needs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from archprobe.errors import ArchprobeError
from archprobe.graph.cost import Cost, Shape, numel, some
from archprobe.graph.facts import COUNTERS, CountRule, MemoryRule


class GraphError(ArchprobeError):
    """An op received a shape it cannot take (a bug in a block, or an impossible spec).

    ``scope`` names the node where it happened, once the graph walk knows it.
    """

    def __init__(self, message: str, scope: str = "") -> None:
        self.message, self.scope = message, scope
        super().__init__(f"{scope}: {message}" if scope else message)

    def within(self, prefix: str) -> GraphError:
        """The same error, placed under ``prefix`` (an outer module name)."""
        return GraphError(self.message, f"{prefix}.{self.scope}" if self.scope else prefix)


class OpDefinitionError(ArchprobeError):
    """An op class registered without one of the facts every op must state."""


Example = tuple["Op", tuple[Shape, ...]]
"""An op instance and the per-sample shapes of its inputs."""


@dataclass(frozen=True)
class Op:
    """Base of all primitive ops. Subclasses are frozen dataclasses of their hyper-parameters.

    Class attributes (facts):
        kind: the op's category in reports (conv, norm, act, pool, linear, add, ...).
        arity: number of inputs (2 for a sum or a product).
        memory / memory_cuda: allocation rules (``memory_cuda`` None: same as ``memory``).
        memory_channels_last: the CPU rule when the input is channels-last (None: ``memory``);
            oneDNN runs NHWC kernels with their own scratch there (see ``Conv``).
        counting: per counter key, how that counter counts the op.
        aten: aten op names (and fvcore operator keys) counted in this op's category.
    """

    kind: ClassVar[str] = ""
    arity: ClassVar[int] = 1
    memory: ClassVar[MemoryRule]
    memory_cuda: ClassVar[MemoryRule | None] = None
    memory_channels_last: ClassVar[MemoryRule | None] = None
    counting: ClassVar[Mapping[str, CountRule]]
    aten: ClassVar[tuple[str, ...]] = ()
    bare_parameter: ClassVar[bool] = False

    def out_shape(self, x: Shape, *others: Shape) -> Shape:
        """Output shape per sample for inputs of shapes ``x`` (and ``others``)."""
        return x

    def out_channels_last(self, x_channels_last: bool) -> bool:
        """Whether the output stores channels innermost (torch's channels_last strides), given
        whether the input does. Most ops keep their input's order: TensorIterator and oneDNN
        convolutions follow the input's memory format, and a permute is a view of its storage."""
        return x_channels_last

    def own_cost(self, x: Shape, y: Shape) -> Cost:
        """Params, buffers, MACs and acts; memory traffic is added by :meth:`cost_at`."""
        return Cost()

    def state_read(self, x: Shape) -> int:
        """Non-parameter state read per forward (e.g. BN running statistics)."""
        return 0

    def inputs(self, x: Shape, others: tuple[Shape, ...]) -> tuple[Shape, ...]:
        """Shapes of the further inputs; a missing one has the first input's shape."""
        return others + (x,) * (self.arity - 1 - len(others))

    def cost(self, x: Shape, *others: Shape) -> Cost:
        """Cost of one forward pass on a sample of shape ``x`` (and ``others``)."""
        rest = self.inputs(x, others)
        return self.cost_at(x, self.out_shape(x, *rest), *rest)

    def cost_at(self, x: Shape, y: Shape, *others: Shape) -> Cost:
        """Cost given the output shape already computed by :meth:`out_shape` (the graph walk):
        every input and weight is read once, the output written once (ShuffleNet V2 §2)."""
        own = self.own_cost(x, y)
        read = numel(x) + own.params + self.state_read(x)
        if others:  # most ops have one input: no generator on the hot path of a sweep
            read += sum(numel(o) for o in others)
        return Cost(own.params, own.buffers, own.macs, own.acts, read, numel(y))

    def param_tensors(self) -> int:
        """How many parameter tensors the built module registers (optimizers keep state per
        tensor)."""
        return 0

    def label(self) -> str:
        """The op in the papers' notation (``3×3, 128, C=32``)."""
        return self.kind

    def module(self) -> Any:
        """The torch module this op becomes, or None: the builder then wraps :meth:`forward`."""
        return None

    def forward(self, *xs: Any) -> Any:
        """Functional torch code of an op without a module of its own."""
        raise NotImplementedError(f"{type(self).__name__} has neither module() nor forward()")

    def parameter(self) -> Any:
        """A new, initialised ``nn.Parameter`` of a :attr:`bare_parameter` op; the builder
        registers it on the enclosing module under the node's name."""
        raise NotImplementedError(f"{type(self).__name__} has no bare parameter")

    @classmethod
    def example(cls) -> Example:
        """A small instance and its input shapes, for the tests that check every fact."""
        raise NotImplementedError

    def _expect_channels(self, x: Shape, channels: int) -> None:
        if some(x[0] != channels):
            raise GraphError(f"{type(self).__name__} expects {channels} channels, got {x[0]}")


OPS: dict[str, type[Op]] = {}
"""Every registered op class by name (built-ins and plugins)."""

OpClass = TypeVar("OpClass", bound=type[Op])


def _overrides(cls: type[Op], name: str) -> bool:
    return any(name in vars(c) for c in cls.__mro__ if c is not Op)


def missing_facts(cls: type[Op]) -> list[str]:
    """The facts an op class does not state (empty when it is complete)."""
    missing = [] if cls.kind else ["kind"]
    if not isinstance(getattr(cls, "memory", None), MemoryRule):
        missing.append("memory (a MemoryRule)")
    counting = getattr(cls, "counting", {})
    missing += [f"counting[{c!r}]" for c in COUNTERS if not isinstance(counting.get(c), CountRule)]
    if not (_overrides(cls, "module") or _overrides(cls, "forward")):
        missing.append("module() or forward()")
    if cls.bare_parameter and not (_overrides(cls, "parameter") and _overrides(cls, "forward")):
        missing.append("parameter() and forward() (a bare-parameter op)")
    if not _overrides(cls, "example"):
        missing.append("example()")
    return missing


def register_op(name: str) -> Callable[[OpClass], OpClass]:
    """Class decorator: register an op under ``name``, refusing one that misses a fact.

    Raises:
        OpDefinitionError: a fact is missing, or the name is taken.
    """

    def deco(cls: OpClass) -> OpClass:
        if name in OPS:
            raise OpDefinitionError(f"op {name!r} is already registered by {OPS[name].__name__}")
        missing = missing_facts(cls)
        if missing:
            raise OpDefinitionError(f"op {name!r} ({cls.__name__}) lacks {', '.join(missing)}")
        OPS[name] = cls
        return cls

    return deco
