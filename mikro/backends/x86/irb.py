"""A thin layer over llvmlite's IRBuilder: struct fields by name, i64 constants, variables;
and the VM's integer rules on IR values, which both ways of running VM code share."""
from __future__ import annotations

from contextlib import contextmanager

from llvmlite import ir

I8 = ir.IntType(8)
I32 = ir.IntType(32)
I64 = ir.IntType(64)
I128 = ir.IntType(128)
I8P = I8.as_pointer()
I64P = I64.as_pointer()


def c64(n: int) -> ir.Constant:
    return ir.Constant(I64, n & 0xFFFFFFFFFFFFFFFF)


class B:
    """IRBuilder with helpers; `layout` maps struct names to field indices."""

    def __init__(self, fn: ir.Function, layout, entry_name: str = "entry"):
        self.fn = fn
        self.layout = layout
        self.entry = fn.append_basic_block(entry_name)
        self.b = ir.IRBuilder(self.entry)

    def __getattr__(self, name):
        return getattr(self.b, name)

    # -- struct fields ----------------------------------------------------------------
    def fp(self, ptr, field: str, idx=None):
        sname = ptr.type.pointee.name[3:]
        fi = self.layout.index[sname][field]
        zero = ir.Constant(I32, 0)
        path = [zero, ir.Constant(I32, fi)]
        if idx is not None:
            path.append(idx if isinstance(idx, ir.Value) else c64(idx))
        return self.b.gep(ptr, path, inbounds=True)

    def get(self, ptr, field: str, idx=None):
        ins = self.b.load(self.fp(ptr, field, idx))
        ins.set_metadata("tbaa", self.tag(ptr.type.pointee.name[3:] + "." + field))
        return ins

    def put(self, ptr, field: str, val, idx=None):
        if isinstance(val, int):
            val = c64(val)
        ins = self.b.store(val, self.fp(ptr, field, idx))
        ins.set_metadata("tbaa", self.tag(ptr.type.pointee.name[3:] + "." + field))

    def load_as(self, ptr, tag: str):
        """A load from an array outside the structures (the ready ring, a connection
        set, ...), tagged as its own type so that it does not alias the fields."""
        ins = self.b.load(ptr)
        ins.set_metadata("tbaa", self.tag(tag))
        return ins

    def store_as(self, val, ptr, tag: str):
        self.b.store(val, ptr).set_metadata("tbaa", self.tag(tag))

    def tag(self, name: str):
        """A type-based alias tag: each struct field (and task memory) is its own type, so
        LLVM may keep one field in a register across stores to another."""
        m = self.fn.module
        tags = m.__dict__.setdefault("_mk_tbaa", {})
        if name not in tags:
            if None not in tags:
                tags[None] = m.add_metadata([ir.MetaDataString(m, "mikro tbaa")])
            ty = m.add_metadata([ir.MetaDataString(m, name), tags[None], ir.Constant(I64, 0)])
            tags[name] = m.add_metadata([ty, ty, ir.Constant(I64, 0)])
        return tags[name]

    # -- values -------------------------------------------------------------------------
    def var(self, init, ty=I64, name=""):
        """A local variable (alloca in the entry block; mem2reg makes it SSA)."""
        with self.b.goto_block(self.entry):
            if self.entry.instructions:
                self.b.position_before(self.entry.instructions[0])
            slot = self.b.alloca(ty, name=name)
        if init is not None:
            self.b.store(ir.Constant(ty, init) if isinstance(init, int) else init, slot)
        return slot

    def block(self, name=""):
        return self.fn.append_basic_block(name)

    def cmp(self, op: str, a, b, signed=True):
        if isinstance(b, int):
            b = c64(b)
        if isinstance(a, int):
            a = c64(a)
        return (self.b.icmp_signed if signed else self.b.icmp_unsigned)(op, a, b)

    def isnull(self, p):
        return self.b.icmp_unsigned("==", p, ir.Constant(p.type, None))

    def null(self, ty):
        return ir.Constant(ty, None)

    @contextmanager
    def when(self, cond, likely=None):
        """if cond: ...; likely=False marks the block cold (errors, faults), so LLVM lays
        it out of line and keeps its work off the hot path."""
        with self.b.if_then(cond, likely=likely):
            yield

    def loop_range(self, n, body):
        """for i in range(n): body(i)   (n an int or i64 value)."""
        i = self.var(0)
        head, loop, done = self.block("for.head"), self.block("for.body"), self.block("for.end")
        self.b.branch(head)
        self.b.position_at_end(head)
        iv = self.b.load(i)
        self.b.cbranch(self.cmp("<", iv, n), loop, done)
        self.b.position_at_end(loop)
        body(iv)
        if not self.b.block.is_terminated:
            self.b.store(self.b.add(iv, c64(1)), i)
            self.b.branch(head)
        self.b.position_at_end(done)


# -- the VM's integer rules (docs/vm.md) on IR values: one definition for the program's
# compiled code (lower.py) and the native interpreter (vmloop.py)
def divrem(b: B, x, y, is_div: bool):
    """x / y or x % y for y != 0 (the caller faults on 0): MIN / -1 = MIN and MIN % -1 = 0,
    where the hardware would trap."""
    m1 = b.cmp("==", y, -1)
    safe = b.select(m1, c64(1), y)
    r = b.sdiv(x, safe) if is_div else b.srem(x, safe)
    return b.select(m1, b.sub(c64(0), x) if is_div else c64(0), r)


def shift(b: B, f, x, y):
    """A shift by the count's low 6 bits."""
    return f(x, b.and_(y, c64(63)))


def compare(b: B, rel: str, x, y):
    """1 or 0, signed."""
    return b.zext(b.icmp_signed(rel, x, y), I64)


def alloc_too_big(b: B, heap_top, n, sp, mem_words):
    """An array of n words (and its length word) would pass sp or the end of memory, in
    exact arithmetic."""
    need = b.add(b.add(b.sext(heap_top, I128), ir.Constant(I128, 1)), b.sext(n, I128))
    return b.or_(b.icmp_signed(">", need, b.sext(sp, I128)),
                 b.icmp_signed(">", need, b.sext(mem_words, I128)))


def below_heap(b: B, sp, size, heap_top):
    """sp - size < heap_top in exact arithmetic: `enter size` overflows the stack."""
    low = b.sub(b.sext(sp, I128), b.sext(size, I128))
    return b.icmp_signed("<", low, b.sext(heap_top, I128))
