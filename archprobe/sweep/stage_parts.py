"""The stage parts of a batched RegNet sweep (``sweep/generated.py``), each distinct one costed
once: a stage's first block (with any transition) and the block it repeats.

A part depends on its stage index (the input resolution), its input and output widths and its
block (group width, bottleneck and SE ratios: a block id). New parts of one stage and one block
differ only in their channel counts, so they are planned once as the spec plans a stage
(``spec.expand.stage_plan``, on one of them), then the block is expanded once by its part's own
``expand`` with the widths as int64 arrays and walked once (``stacked.walk_arrays``: the ops' own
rules on arrays). A cold 400 MF sweep meets ~60k first blocks; one by one (a schema check, a plan,
a block call, a walk each) they were most of its time. Where the arrays cannot be taken (a
transition, a part that refuses arrays, an entry a rule rejects) the group is costed part by part
(``stacked.block_costs``), which also gives the per-block outcome of a refused entry.
"""

from __future__ import annotations

from typing import Any, NamedTuple, cast

import numpy as np
from numpy.typing import NDArray
from pydantic import ValidationError

from archprobe.blocks import get_block
from archprobe.blocks.base import BlockParams, TransitionParams
from archprobe.graph.cost import Cost, Shape
from archprobe.graph.ops import GraphError
from archprobe.spec.expand import BlockCall, stage_plan
from archprobe.spec.generators.regnet import STRIDE
from archprobe.spec.schema import StageSpec
from archprobe.sweep.fast import part_cost
from archprobe.sweep.keyed import FIELDS, Costs, Keys
from archprobe.sweep.stacked import block_costs, walk_arrays

Int64s = NDArray[np.int64]
Bools = NDArray[np.bool_]


class Planned(NamedTuple):
    """One part as the spec plans it: its transition's cost, its block, the block's input, and
    whether a transition takes the shape change."""

    transition: Cost
    call: BlockCall
    x: Shape
    moved: bool = False


class StageParts:
    """Dense ids and costs of first and repeated blocks, kept across batches."""

    def __init__(
        self, transition: TransitionParams, sizes: dict[int, tuple[int, int]],
        blocks: list[BlockParams | None],
    ) -> None:  # fmt: skip
        self.transition = transition
        # A transition may depend on each part's widths (a plugin's could add layers only where
        # they differ), so the arrays take only parts without one; others go part by part.
        self.bare = transition.type == "none"
        self.sizes = sizes  # stage -> input (H, W), stage 0's given; shared with the evaluator
        self.blocks = blocks  # block id -> its params (None: refused), the evaluator's list
        self.firsts, self.first_costs = Keys(), Costs()
        self.repeats, self.repeat_costs = Keys(), Costs()
        self.stages: dict[tuple[int, int], StageSpec | None] = {}  # (width, block id)

    def __len__(self) -> int:
        return max(len(self.firsts), len(self.repeats), len(self.stages))

    def first_ids(self, stage: Int64s, win: Int64s, w: Int64s, blk: Int64s) -> Int64s:
        """Each stage's first block (with any transition) as a dense id of (stage index, width
        in, width, block)."""
        ids, new = self.firsts.lookup(stage | win << 9 | w << 26 | blk << 43)
        self._add(self.first_costs, stage[new], win[new], w[new], blk[new], first=True)
        return ids

    def repeat_ids(self, stage: Int64s, w: Int64s, blk: Int64s) -> Int64s:
        """Each stage's repeated block as a dense id of (stage index, width, block)."""
        ids, new = self.repeats.lookup(stage | w << 9 | blk << 26)
        self._add(self.repeat_costs, stage[new], w[new], w[new], blk[new], first=False)
        return ids

    def _add(self, costs: Costs, stage: Int64s, win: Int64s, w: Int64s, blk: Int64s,
             first: bool) -> None:  # fmt: skip
        """Cost new parts, by stage in order (a stage's input resolution is its predecessor's
        output, found from its first blocks) and block, and append them to ``costs``."""
        rows = np.zeros((len(stage), len(FIELDS)), dtype=np.int64)
        bad = np.ones(len(stage), dtype=bool)
        for s in np.unique(stage).tolist():
            for b in np.unique(blk[stage == s]).tolist():
                at = np.flatnonzero((stage == s) & (blk == b))
                rows[at], bad[at] = self._group(s, win[at], w[at], b, first)
        costs.extend(rows, bad)

    def _group(self, s: int, win: Int64s, w: Int64s, blk: int, first: bool
               ) -> tuple[Int64s, Bools]:  # fmt: skip
        """Costs of stage ``s``'s parts of block ``blk`` (widths ``win`` -> ``w``), and which
        the schema or the graph refuses (the per-config path reports them)."""
        rows = np.zeros((len(w), len(FIELDS)), dtype=np.int64)
        if self.blocks[blk] is None or (s if first else s + 1) not in self.sizes:
            return rows, np.ones(len(w), dtype=bool)
        bad = np.array([self._stage(width, blk) is None for width in w.tolist()], dtype=bool)
        ok = np.flatnonzero(~bad)
        if not len(ok):
            return rows, bad
        k = int(ok[0])
        plan = self._plan(s, int(win[k]), int(w[k]), blk, first)
        got = None
        if plan is not None and self.bare:
            got = self._arrays(s, plan, win[ok], w[ok], first)
        if got is not None:
            rows[ok] = got
            return rows, bad
        for i, cost in zip(ok.tolist(), self._each(s, win[ok], w[ok], blk, first), strict=True):
            rows[i], bad[i] = cost or Cost(), cost is None
        return rows, bad

    def _arrays(self, s: int, plan: Planned, win: Int64s, w: Int64s, first: bool
                ) -> Int64s | None:  # fmt: skip
        """The parts' costs from one expansion of the planned block on the width arrays; None
        where the block or a rule refuses the arrays."""
        call, cin, cout = plan.call, cast(Any, win if first else w), cast(Any, w)  # int arrays
        if plan.moved or (call.cin, call.cout) != (int(cin[0]), int(w[0])):
            return None  # the plan put the shape change elsewhere: part by part
        p, x = call.params, (cin, *(self.sizes[s] if first else self.sizes[s + 1]))
        try:
            node = get_block(p.type).expand(p, cin, cout, call.stride, call.scope[-1:])
            rows, y = walk_arrays(node, x, len(w))
        except (GraphError, TypeError, ValueError):
            return None
        if np.ndim(y[1]) or np.ndim(y[2]):
            return None  # one stride and input size give one output size; else part by part
        if first:
            self._arrived(s, y)
        return rows

    def _each(self, s: int, win: Int64s, w: Int64s, blk: int, first: bool) -> list[Cost | None]:
        """The parts' costs, each planned and walked on its own (stacked where they allow)."""
        planned = [self._plan(s, a, b, blk, first) for a, b in zip(win.tolist(), w.tolist(),
                                                                   strict=True)]  # fmt: skip
        known = [p for p in planned if p is not None]
        costs = iter(block_costs([(p.call, p.x) for p in known]))
        out: list[Cost | None] = []
        for p in planned:
            got = next(costs) if p is not None else None
            if p is None or got is None or isinstance(got, GraphError):
                out.append(None)
                continue
            if first:
                self._arrived(s, got[1])
            out.append(p.transition + got[0])
        return out

    def _arrived(self, s: int, y: Shape) -> None:
        """Stage ``s``'s output resolution: the next stage's input (the same for every part)."""
        h, w = int(y[1]), int(y[2])
        if self.sizes.setdefault(s + 1, (h, w)) != (h, w):
            raise AssertionError(f"stage {s}: output {y}, not {self.sizes[s + 1]}")

    def _stage(self, width: int, blk: int) -> StageSpec | None:
        """A stage of ``width`` channels and block ``blk`` as the schema checks it (cached)."""
        key = (width, blk)
        if key not in self.stages:
            try:
                self.stages[key] = StageSpec.model_validate(
                    {"depth": 2, "width": width, "stride": STRIDE, "block": self.blocks[blk]}
                )
            except ValidationError:
                self.stages[key] = None
        return self.stages[key]

    def _plan(self, s: int, cin: int, width: int, blk: int, first: bool) -> Planned | None:
        """One part as ``stage_plan`` plans it; None if the schema or the graph refuses it."""
        st = self._stage(width, blk)
        if st is None or (s if first else s + 1) not in self.sizes:
            return None
        try:
            sp = stage_plan(self.transition, st, s, cin)
            if not first:
                assert sp.repeat is not None  # depth 2
                return Planned(Cost(), sp.repeat, (width, *self.sizes[s + 1]))
            x = (cin, *self.sizes[s])
            trans, y = part_cost(sp.transition, x, memo=False) if sp.transition else (Cost(), x)
        except GraphError:
            return None
        return Planned(trans, sp.first, y, bool(sp.transition))
