"""Shared segments on the path of ald, ast and alen: the IR that both ways of running VM
code (vmloop.py, lower.py) emit in the branch where an array reference is outside task
memory, the branch that faulted `bad array reference` before segments. An ordinary array
pays nothing for them.

A segment reference is SEG_TAG | gen << SEG_GEN_SHIFT | slot (abi.segref); the task's
slot `slot` holds, while in use, the very reference that names it (its key), so one
comparison checks the tag's slot, generation and liveness together. The table is made
when the task first holds a segment.
"""
from __future__ import annotations

from ...vm import abi
from . import layout as L
from .irb import B, c64


def seg_slot(b: B, t, r, check):
    """The slot of t that reference r names; `check(cond, code, *ops)` faults when cond:
    `bad array reference` when r is no segment reference, stale when it names no live slot."""
    check(b.cmp("!=", b.lshr(r, c64(62)), c64(1)), L.F_BADARR)
    table = b.get(t, "segs")
    check(b.isnull(table), L.F_SEGSTALE)                # it never held a segment
    slot = b.gep(table, [b.and_(r, c64(abi.SEG_SLOTS - 1))])
    check(b.cmp("!=", b.get(slot, "key"), r), L.F_SEGSTALE)
    return slot


def seg_element(b: B, t, r, idx, store: bool, check):
    """A pointer to word idx of the segment r names, with the checks of docs/vm.md."""
    slot = seg_slot(b, t, r, check)
    n = b.get(slot, "len")
    check(b.or_(b.cmp("<", idx, 0), b.cmp(">=", idx, n)), L.F_INDEX, idx, n)
    if store:
        check(b.cmp("==", b.get(slot, "rw"), 0), L.F_SEGRO)
    return b.gep(b.get(slot, "base"), [idx])


def seg_length(b: B, t, r, check):
    return b.get(seg_slot(b, t, r, check), "len")


def _either(b: B, mw, r, in_memory, in_segment):
    """Branch on whether array reference r is in task memory (its length word at r - 1
    is): in_memory() is the hot way, in_segment() the cold one; each builds its checks and
    returns a value, and the two meet in a phi."""
    seg_blk, mem_blk, join = b.block("seg"), b.block("arr"), b.block("arr.done")
    b.cbranch(b.cmp(">=", b.sub(r, c64(1)), mw, signed=False), seg_blk, mem_blk) \
        .set_weights([1, 2000])
    ends = []
    for blk, way in ((mem_blk, in_memory), (seg_blk, in_segment)):
        b.position_at_end(blk)
        v = way()
        ends.append((v, b.basic_block))
        b.branch(join)
    b.position_at_end(join)
    phi = b.phi(ends[0][0].type)
    for v, blk in ends:
        phi.add_incoming(v, blk)
    return phi


def array_element(b: B, t, mem, mw, r, idx, store: bool, check, load):
    """A pointer to element idx of array r (docs/vm.md "Arrays"): in t's memory `mem` of
    mw words, whose length words `load` reads, or in a segment."""
    def in_memory():
        n = load(b.gep(mem, [b.sub(r, c64(1))]))
        check(b.or_(b.cmp("<", idx, 0), b.cmp(">=", idx, n)), L.F_INDEX, idx, n)
        at = b.add(r, idx)
        check(b.cmp(">=", at, mw, signed=False), L.F_BADARR)
        return b.gep(mem, [at])
    return _either(b, mw, r, in_memory, lambda: seg_element(b, t, r, idx, store, check))


def array_length(b: B, t, mem, mw, r, check, load):
    return _either(b, mw, r, lambda: load(b.gep(mem, [b.sub(r, c64(1))])),
                   lambda: seg_length(b, t, r, check))
