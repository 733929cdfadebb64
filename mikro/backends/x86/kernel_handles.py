"""Handles on the move, anonymous channels and names built at run time, in the native
kernel: the same rules as mikro/vm/kernel.py ("handles on the move", "names built at run
time"), as a part of KernelIR (kernel_ir.py) of their own.

A message of send_move, call_move or reply_move carries chandle x of its sender as word
0. A sender that waits keeps x and its words in its saved a1..a4, in a state of its own
(ST_SENDM, ST_CALLM_SEND), in the same MANY FIFO as plain senders, so messages keep their
order; recv meets such a sender only through one test of the queue head's state (or the
ONE peer's), and takes it out of line (recv_moved, take_moved). When the message is
taken, x leaves the sender's table and lands in the lowest free slot of the receiver's
(move_end): a slot is {chan, word}, so it moves as two words, and the channel end (ONE)
or the connection (MANY client) is told its new task and slot.

A name built at run time is packed into NAME_WORDS words (abi.pack_name). One that a
string of the program has is that string's registry entry (found by binary search in a
sorted table of the program's names, `literal_names`), so it meets `channel("text")` and
`open("text")`, which stay an index; any other lives in a treap (a binary search tree
ordered by the packed name, heap-ordered by a priority drawn from splitmix64 per node):
O(log n) expected to find, add and remove, whatever order names come in. A node goes when
its channel closes with no opener waiting, so a run making names forever stays bounded.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ctypes

from llvmlite import ir

from ...vm import abi, isa
from . import layout as L
from .irb import B, I64, I64P, c64

A0 = isa.A0
NW = L.NAME_WORDS
ROW = NW + 1        # a row of the literal names' table: the packed name, its registry index


def literal_names(strings: list[str], ids: list[int]) -> list[int]:
    """The program's strings that are valid run-time names (1 to NAME_MAX bytes of UTF-8,
    no NUL), one row each (the packed name, the registry index), sorted by packed name
    as unsigned words, flattened: the table `lit_find` searches."""
    rows = {}
    for text, nid in zip(strings, ids):
        raw = text.encode()
        if 1 <= len(raw) <= abi.NAME_MAX and 0 not in raw:
            rows[abi.pack_name(raw)] = nid
    order = sorted(rows, key=lambda key: [w & (2**64 - 1) for w in key])
    return [v for key in order for v in (*key, rows[key])]


class HandlesIR:
    """Mixed into KernelIR: the functions of moves and names, and their syscalls."""

    # what KernelIR (kernel_ir.py) provides, declared for the type checker
    CH_FULL: ir.Constant
    f: dict[str, ir.Function]
    lay: Any
    T: Any
    Ch: Any
    out: Any
    if TYPE_CHECKING:
        def err(self, b: B, t, code: str) -> Any: ...
        def done(self, b: B) -> Any: ...
        def chandle(self, b: B, t, h) -> Any: ...
        def live_mslot(self, b: B, t, h, fail) -> Any: ...

    def _handles(self):
        self._move_end()
        self._take_moved()
        self._name_cmp()
        self._name_read()
        self._lit_find()
        self._name_find()
        self._name_up()
        self._name_add()
        self._name_drop()

    # -- moving a chandle ------------------------------------------------------------------
    def _move_end(self):
        """move_end(k, src, x, dst) -> slot: chandle x of src moves to dst's lowest free
        slot (dst has one); the end or connection it holds is told where it is now."""
        fn, b = self._fn("move_end", I64, [self.K, self.T, I64, self.T], "never")
        k, src, x, dst = fn.args
        from_ = b.gep(b.fp(src, "ch"), [c64(0), x])
        c, word = b.get(from_, "chan"), b.get(from_, "word")
        s = b.call(self.f["ch_alloc"], [dst])
        to = b.gep(b.fp(dst, "ch"), [c64(0), s])
        b.put(to, "chan", c)
        b.put(to, "word", word)
        b.call(self.f["ch_free"], [src, x])
        with b.if_else(b.cmp("==", b.and_(word, c64(L.K_MASK)), L.K_ONE)) as (one, client):
            with one:
                with b.if_else(b.cmp("==", self.end(b, to), 0)) as (first, second):
                    with first:
                        b.put(c, "t0", dst)
                        b.put(c, "s0", s)
                    with second:
                        b.put(c, "t1", dst)
                        b.put(c, "s1", s)
            with client:
                cn = self.conn(b, to)
                b.put(cn, "client", dst)
                b.put(cn, "slot", s)
        # the end may be ready already (a message came while src held it): a select of
        # dst must test the slot, whose hint no event will set now
        b.put(dst, "sel_hint", b.or_(b.get(dst, "sel_hint"), b.shl(c64(1), s)))
        self.rec(b, k, "move", dst, s, src, a=x)
        b.ret(s)

    def _take_moved(self):
        """take_moved(k, r, q, hv, cid, out): receiver r (with a free slot) takes the message
        of q, waiting in send_move or call_move: the chandle moves, r's results (hv, its
        new slot, the words) go to out[1..5]; a call now waits for the reply. And
        recv_moved(k, t, c, out) -> 1 when server t took the message at the head of c's
        FIFO, whose head carried a chandle; 0 when the head is now a plain message or none:
        while t's table is full, each such sender at the head fails with E_NOSPACE."""
        fn, b = self._fn("take_moved", ir.VoidType(), [self.K, self.T, self.T, I64, I64, I64P],
                         "never")
        k, r, q, hv, cid, out = fn.args
        is_call = b.zext(b.cmp("==", b.get(q, "state"), L.ST_CALLM_SEND), I64)
        words = [b.get(q, "regs", A0 + 2 + i) for i in range(abi.MSG_WORDS - 1)]
        ns = b.call(self.f["move_end"], [k, q, b.get(q, "regs", A0 + 1), r])
        self.rec(b, k, "recv", r, hv, q, a=is_call, bb=cid, words=[ns] + words)
        for i, v in enumerate([hv, ns] + words):
            b.store(v, b.gep(out, [c64(1 + i)]))
        with b.if_else(b.cmp("!=", is_call, 0)) as (call, send):
            with call:
                b.put(q, "state", L.ST_CALL_REPLY)
            with send:
                b.call(self.f["wake"], [k, q, c64(0)])
        b.ret_void()

        fn, b = self._fn("recv_moved", I64, [self.K, self.T, self.Ch, I64P], "never")
        k, t, c, out = fn.args
        head = b.block()
        b.branch(head)
        b.position_at_end(head)
        q = b.get(c, "qhead")
        with b.when(b.isnull(q)):
            b.ret(c64(0))
        with b.when(b.not_(self.moving(b, q))):
            b.ret(c64(0))
        self._dequeue(b, c, "q", q)
        with b.when(b.cmp("==", b.get(t, "ch_used"), self.CH_FULL)):
            b.call(self.f["wake"], [k, q, c64(abi.ERRORS["E_NOSPACE"][0])])
            b.branch(head)
        cn = self.conn(b, self.slot(b, q, b.get(q, "wait_handle")))
        m = b.call(self.f["mh_alloc"], [t])
        is_call = b.zext(b.cmp("==", b.get(q, "state"), L.ST_CALLM_SEND), I64)
        self.mfill(b, b.gep(b.get(t, "mh"), [m]), cn, is_call)
        b.call(self.f["take_moved"], [k, t, q, self.mhandle(b, t, m), b.get(cn, "id"), out])
        b.ret(c64(1))

    @staticmethod
    def moving(b: B, q):
        """q (not null) waits in send_move or call_move."""
        st = b.get(q, "state")
        return b.or_(b.cmp("==", st, L.ST_SENDM), b.cmp("==", st, L.ST_CALLM_SEND))

    def recv_one_moved(self, b: B, k, t, h, pt, block):
        """recv on a ONE end whose peer pt waits in send_move or call_move: take its
        message, or (t's table full) fail the sender with E_NOSPACE and wait."""
        with b.when(b.cmp("==", b.get(t, "ch_used"), self.CH_FULL)):
            b.call(self.f["wake"], [k, pt, c64(abi.ERRORS["E_NOSPACE"][0])])
            block()
        b.call(self.f["take_moved"], [k, t, pt, h, c64(0), self.out])
        self.done(b)

    def movable(self, b: B, t, h, x):
        """Chandle x of t may travel on h: a chandle in use (E_BADHANDLE; a live mhandle:
        E_INVAL), not a MANY server end and not h itself (E_INVAL)."""
        _, kind = self.chandle(b, t, x)
        with b.when(b.or_(b.cmp("==", kind, L.K_SERVER), b.cmp("==", x, h)), likely=False):
            self.err(b, t, "E_INVAL")

    def _send_move(self, b, k, t, a, is_call):
        h, x, words = a[0], a[1], a[2:5]
        slot, kind = self.chandle(b, t, h)
        with b.when(b.cmp("==", kind, L.K_SERVER), likely=False):
            self.err(b, t, "E_INVAL")
        self.movable(b, t, h, x)
        c = b.get(slot, "chan")
        with b.when(b.cmp("!=", b.get(c, "dead"), 0), likely=False):
            self.err(b, t, "E_CLOSED")
        one = b.cmp("==", kind, L.K_ONE)
        pt, ps = self.peer(b, c, self.end(b, slot))
        r, rs = b.select(one, pt, b.get(c, "t0")), b.select(one, ps, b.get(c, "s0"))
        taking = self.waits(b, r, (L.ST_RECV,), rs)
        with b.when(taking):
            with b.when(b.cmp("==", b.get(r, "ch_used"), self.CH_FULL), likely=False):
                self.err(b, t, "E_NOSPACE")
        self.rec(b, k, "call" if is_call else "send", t, h, r, words=[x] + words)
        with b.when(taking):
            hv, cid = b.var(rs), b.var(0)
            with b.when(b.not_(one)):
                m = b.call(self.f["mh_alloc"], [r])
                cn = self.conn(b, slot)
                self.mfill(b, b.gep(b.get(r, "mh"), [m]), cn, int(is_call))
                b.store(self.mhandle(b, r, m), hv)
                b.store(b.get(cn, "id"), cid)
            ns = b.call(self.f["move_end"], [k, t, x, r])
            self.rec(b, k, "recv", r, b.load(hv), t, a=int(is_call), bb=b.load(cid),
                     words=[ns] + words)
            for i, v in enumerate([b.load(hv), ns] + list(words)):
                b.put(r, "regs", v, A0 + 1 + i)
            b.call(self.f["wake"], [k, r, c64(0)])
            if is_call:
                self.block_on(b, t, L.ST_CALL_REPLY, h)
            else:
                self.done(b)
        with b.when(b.not_(one)):
            self._enqueue(b, c, "q", t)
        self._keep_words(b, t, [x] + words, A0 + 1)
        self.block_on(b, t, L.ST_CALLM_SEND if is_call else L.ST_SENDM, h)

    def _sys_send_move(self, b, k, t, a):
        self._send_move(b, k, t, a, False)

    def _sys_call_move(self, b, k, t, a):
        self._send_move(b, k, t, a, True)

    def reply_to(self, b: B, t, h, on_mslot, on_chandle):
        """The caller a reply through h answers (a variable; null: nobody waits) and the
        mhandle slot to free once it is answered (-1: h is a chandle). A value that is no
        live mhandle gives E_BADHANDLE; then on_mslot(ms, caller) or on_chandle(caller)
        checks the rest and finds the caller."""
        caller = b.var(b.null(self.T), self.T)
        mslot = b.var(-1)
        with b.if_else(b.cmp(">=", h, abi.CH_SLOTS, signed=False)) as (mh, ch):
            with mh:
                s, ms = self.live_mslot(b, t, h, lambda: self.err(b, t, "E_BADHANDLE"))
                b.store(s, mslot)
                on_mslot(ms, caller)
            with ch:
                on_chandle(caller)
        return caller, mslot

    def _sys_reply_move(self, b, k, t, a):
        h, x, words = a[0], a[1], a[2:5]

        def through_mhandle(ms, caller):
            self.movable(b, t, h, x)
            snd = self.msender(b, ms)
            with b.when(b.cmp("!=", self.mwaits(b, ms), 0)):
                with b.when(b.cmp("==", b.get(snd, "state"), L.ST_CALLB_REPLY), likely=False):
                    self.err(b, t, "E_INVAL")      # a callbuf is answered by replybuf
                with b.when(b.cmp("==", b.get(snd, "state"), L.ST_CALL_REPLY)):
                    b.store(snd, caller)
            with b.when(b.isnull(b.load(caller)), likely=False):
                self.err(b, t, "E_CLOSED")         # nobody waits for this answer

        def through_chandle(caller):
            used = b.and_(b.lshr(b.get(t, "ch_used"), h), c64(1))
            with b.when(b.cmp("==", used, 0), likely=False):
                self.err(b, t, "E_BADHANDLE")
            self.movable(b, t, h, x)
            slot = self.slot(b, t, h)
            c = b.get(slot, "chan")
            pt, ps = self.peer(b, c, self.end(b, slot))
            ok = b.and_(b.and_(b.cmp("==", self.kind(b, slot), L.K_ONE),
                               b.cmp("==", b.get(c, "dead"), 0)),
                        self.waits(b, pt, (L.ST_CALL_REPLY,), ps))
            with b.when(b.not_(ok), likely=False):
                self.err(b, t, "E_INVAL")
            b.store(pt, caller)

        caller, mslot = self.reply_to(b, t, h, through_mhandle, through_chandle)
        s = b.load(mslot)
        w = b.load(caller)
        with b.when(b.cmp("==", b.get(w, "ch_used"), self.CH_FULL), likely=False):
            self.err(b, t, "E_NOSPACE")
        self.rec(b, k, "reply", t, h, w, words=[x] + words)
        ns = b.call(self.f["move_end"], [k, t, x, w])
        for i, v in enumerate([ns] + list(words)):
            b.put(w, "regs", v, A0 + 1 + i)
        b.call(self.f["wake"], [k, w, c64(0)])
        with b.when(b.cmp(">=", s, 0)):
            b.call(self.f["mh_free"], [t, s])
        self.done(b)

    # -- anonymous channels ------------------------------------------------------------------
    def _sys_pair(self, b, k, t, a):
        free = b.not_(b.get(t, "ch_used"))
        # fewer than two free slots: none, or one (clearing its bit leaves none)
        with b.when(b.cmp("==", b.and_(free, b.sub(free, c64(1))), 0), likely=False):
            self.err(b, t, "E_NOSPACE")
        raw = b.call(self.f["kalloc"], [k, c64(8 * len(L.STRUCTS["Chan"]))])
        with b.when(b.isnull(raw), likely=False):
            self.err(b, t, "E_NOSPACE")
        c = b.bitcast(raw, self.Ch)
        s0 = b.call(self.f["ch_alloc"], [t])
        s1 = b.call(self.f["ch_alloc"], [t])
        b.put(c, "name", -1)
        b.put(c, "kind", abi.ONE)
        for end, s in enumerate((s0, s1)):
            b.put(c, f"t{end}", t)
            b.put(c, f"s{end}", s)
            self.set_slot(b, b.gep(b.fp(t, "ch"), [c64(0), s]), c, L.K_ONE, end=end)
        self.rec(b, k, "pair", t, s0, a=s1)
        self.setres(b, s0, 1)
        self.setres(b, s1, 2)
        self.done(b)

    # -- names built at run time -------------------------------------------------------------
    def _name_cmp(self):
        """name_cmp(a, b) -> -1, 0, 1: two packed names, as unsigned words in order."""
        fn, b = self._fn("name_cmp", I64, [I64P, I64P], "never")
        x, y = fn.args
        for j in range(NW):
            u, v = b.load(b.gep(x, [c64(j)])), b.load(b.gep(y, [c64(j)]))
            with b.when(b.cmp("!=", u, v)):
                b.ret(b.select(b.cmp("<", u, v, signed=False), c64(-1), c64(1)))
        b.ret(c64(0))

    def _name_read(self):
        """name_read(k, t, ref, key) -> length, or -1: the name in array ref of t packed
        into key (kernel.md, "Names built at run time")."""
        fn, b = self._fn("name_read", I64, [self.K, self.T, I64, I64P], "never")
        k, t, ref, key = fn.args
        mw = b.get(k, "mem_words")
        with b.when(b.cmp(">=", b.sub(ref, c64(1)), mw, signed=False)):
            b.ret(c64(-1))
        ln = self._mem_word(b, t, b.sub(ref, c64(1)))
        with b.when(b.or_(b.cmp("<", ln, 0), b.cmp(">", ln, b.sub(mw, ref)))):
            b.ret(c64(-1))
        for j in range(NW):
            b.store(c64(0), b.gep(key, [c64(j)]))
        lim = b.select(b.cmp("<", ln, abi.NAME_MAX + 1), ln, c64(abi.NAME_MAX + 1))
        i = b.var(0)
        head, body, done = b.block(), b.block(), b.block()
        b.branch(head)
        b.position_at_end(head)
        iv = b.load(i)
        b.cbranch(b.cmp("<", iv, lim), body, done)
        b.position_at_end(body)
        v = self._mem_word(b, t, b.add(ref, iv))
        with b.when(b.cmp("==", v, 0)):
            b.branch(done)
        # not a byte, or a byte past the longest name
        bad = b.or_(b.cmp(">=", b.sub(v, c64(1)), 255, signed=False), b.cmp("==", iv, abi.NAME_MAX))
        with b.when(bad):
            b.ret(c64(-1))
        at = b.gep(key, [b.lshr(iv, c64(3))])
        b.store(b.or_(b.load(at), b.shl(v, b.mul(b.and_(iv, c64(7)), c64(8)))), at)
        b.store(b.add(iv, c64(1)), i)
        b.branch(head)
        b.position_at_end(done)
        n = b.load(i)
        bad = b.or_(b.cmp("==", n, 0), b.cmp(">", n, abi.NAME_MAX))
        b.ret(b.select(bad, c64(-1), n))

    def _lit_find(self):
        """lit_find(k, key) -> the registry index of the string that is that name, or -1:
        a binary search of the table literal_names made."""
        fn, b = self._fn("lit_find", I64, [self.K, I64P], "never")
        k, key = fn.args
        rows = self._prog(b, k, "lits") if self.generic else \
            b.gep(self.g_lits, [c64(0), c64(0)], inbounds=True)
        lo, hi = b.var(0), b.var(self._count(b, k, "nlits", getattr(self, "nlits", 0)))
        head, body, done = b.block(), b.block(), b.block()
        b.branch(head)
        b.position_at_end(head)
        b.cbranch(b.cmp("<", b.load(lo), b.load(hi)), body, done)
        b.position_at_end(body)
        mid = b.lshr(b.add(b.load(lo), b.load(hi)), c64(1))
        row = b.gep(rows, [b.mul(mid, c64(ROW))])
        d = b.call(self.f["name_cmp"], [row, key])
        with b.when(b.cmp("==", d, 0)):
            b.ret(b.load(b.gep(row, [c64(NW)])))
        with b.if_else(b.cmp("<", d, 0)) as (below, above):
            with below:
                b.store(b.add(mid, c64(1)), lo)
            with above:
                b.store(mid, hi)
        b.branch(head)
        b.position_at_end(done)
        b.ret(c64(-1))

    @staticmethod
    def _key_of(b: B, node):
        return b.fp(node, "key", c64(0))

    def _name_find(self):
        """name_find(k, key) -> the tree's node of that name, or null."""
        N = self.lay.ptr("Name")
        fn, b = self._fn("name_find", N, [self.K, I64P], "never")
        k, key = fn.args
        x = b.var(b.get(k, "names"), N)
        head, body = b.block(), b.block()
        b.branch(head)
        b.position_at_end(head)
        xv = b.load(x)
        with b.when(b.isnull(xv)):
            b.ret(xv)
        b.branch(body)
        b.position_at_end(body)
        d = b.call(self.f["name_cmp"], [key, self._key_of(b, xv)])
        with b.when(b.cmp("==", d, 0)):
            b.ret(xv)
        b.store(b.select(b.cmp("<", d, 0), b.get(xv, "left"), b.get(xv, "right")), x)
        b.branch(head)

    def _name_up(self):
        """name_up(k, x): rotate x above its parent."""
        N = self.lay.ptr("Name")
        fn, b = self._fn("name_up", ir.VoidType(), [self.K, N], "never")
        k, x = fn.args
        p = b.get(x, "parent")
        g = b.get(p, "parent")
        left = b.icmp_unsigned("==", b.get(p, "left"), x)
        mid = b.select(left, b.get(x, "right"), b.get(x, "left"))
        with b.if_else(left) as (lt, rt):
            with lt:
                b.put(p, "left", mid)
                b.put(x, "right", p)
            with rt:
                b.put(p, "right", mid)
                b.put(x, "left", p)
        with b.when(b.not_(b.isnull(mid))):
            b.put(mid, "parent", p)
        b.put(p, "parent", x)
        b.put(x, "parent", g)
        self._relink(b, k, g, p, x)
        b.ret_void()

    def _name_add(self):
        """name_add(k, key, len) -> a new node for that name (not in the tree yet), or
        null when the system refuses the memory."""
        N = self.lay.ptr("Name")
        fn, b = self._fn("name_add", N, [self.K, I64P, I64], "never")
        k, key, n = fn.args
        node = b.var(b.get(k, "names_free"), N)
        with b.if_else(b.isnull(b.load(node))) as (fresh, reuse):
            with fresh:
                raw = b.call(self.f["kalloc"], [k, c64(ctypes.sizeof(L.C["Name"]))])
                b.store(b.bitcast(raw, N), node)
            with reuse:
                nd = b.load(node)
                b.put(k, "names_free", b.get(nd, "left"))
                for f in ("chan", "whead", "wtail", "left", "right", "parent"):
                    b.put(nd, f, b.null(b.fp(nd, f).type.pointee))
        nd = b.load(node)
        with b.when(b.isnull(nd)):
            b.ret(nd)
        for j in range(NW):
            b.put(nd, "key", b.load(b.gep(key, [c64(j)])), c64(j))
        b.put(nd, "len", n)
        # its priority: splitmix64 of the count of nodes made, so that no order of names
        # can unbalance the tree
        seq = b.add(b.get(k, "names_seq"), c64(abi.SPLITMIX[0]))
        b.put(k, "names_seq", seq)
        z = b.mul(b.xor(seq, b.lshr(seq, c64(30))), c64(abi.SPLITMIX[1]))
        z = b.mul(b.xor(z, b.lshr(z, c64(27))), c64(abi.SPLITMIX[2]))
        b.put(nd, "prio", b.xor(z, b.lshr(z, c64(31))))
        # down to its leaf place, then up while its priority beats its parent's
        p = b.var(b.null(N), N)
        x = b.var(b.get(k, "names"), N)
        head, body, place = b.block(), b.block(), b.block()
        b.branch(head)
        b.position_at_end(head)
        b.cbranch(b.isnull(b.load(x)), place, body)
        b.position_at_end(body)
        xv = b.load(x)
        b.store(xv, p)
        d = b.call(self.f["name_cmp"], [key, self._key_of(b, xv)])
        b.store(b.select(b.cmp("<", d, 0), b.get(xv, "left"), b.get(xv, "right")), x)
        b.branch(head)
        b.position_at_end(place)
        pv = b.load(p)
        b.put(nd, "parent", pv)
        with b.if_else(b.isnull(pv)) as (root, child):
            with root:
                b.put(k, "names", nd)
            with child:
                d = b.call(self.f["name_cmp"], [key, self._key_of(b, pv)])
                with b.if_else(b.cmp("<", d, 0)) as (lt, rt):
                    with lt:
                        b.put(pv, "left", nd)
                    with rt:
                        b.put(pv, "right", nd)
        up, rise, done = b.block(), b.block(), b.block()
        b.branch(up)
        b.position_at_end(up)
        par = b.get(nd, "parent")
        b.cbranch(b.isnull(par), done, rise)
        b.position_at_end(rise)
        with b.when(b.cmp(">=", b.get(par, "prio"), b.get(nd, "prio"), signed=False)):
            b.branch(done)
        b.call(self.f["name_up"], [k, nd])
        b.branch(up)
        b.position_at_end(done)
        b.ret(nd)

    def _name_drop(self):
        """name_drop(k, x): x leaves the tree (rotated down to a leaf) for the free list."""
        N = self.lay.ptr("Name")
        fn, b = self._fn("name_drop", ir.VoidType(), [self.K, N], "never")
        k, x = fn.args
        head, down, leaf = b.block(), b.block(), b.block()
        b.branch(head)
        b.position_at_end(head)
        lc, rc = b.get(x, "left"), b.get(x, "right")
        b.cbranch(b.and_(b.isnull(lc), b.isnull(rc)), leaf, down)
        b.position_at_end(down)
        pick_left = b.or_(b.isnull(rc), b.and_(
            b.not_(b.isnull(lc)),
            b.cmp(">", b.get(b.select(b.isnull(lc), rc, lc), "prio"),
                  b.get(b.select(b.isnull(rc), lc, rc), "prio"), signed=False)))
        b.call(self.f["name_up"], [k, b.select(pick_left, lc, rc)])
        b.branch(head)
        b.position_at_end(leaf)
        self._relink(b, k, b.get(x, "parent"), x, b.null(N))
        b.put(x, "left", b.get(k, "names_free"))
        b.put(k, "names_free", x)
        b.ret_void()

    def _relink(self, b: B, k, g, old, new):
        """Where g (null: the root) pointed at old, it points at new."""
        with b.if_else(b.isnull(g)) as (root, inner):
            with root:
                b.put(k, "names", new)
            with inner:
                with b.if_else(b.icmp_unsigned("==", b.get(g, "left"), old)) as (lt, rt):
                    with lt:
                        b.put(g, "left", new)
                    with rt:
                        b.put(g, "right", new)

    def _read_name(self, b: B, k, t, ref, key):
        """The length of the name in array ref of t, packed into key: E_INVAL when it is
        not a valid name."""
        n = b.call(self.f["name_read"], [k, t, ref, key])
        with b.when(b.cmp("<", n, 0), likely=False):
            self.err(b, t, "E_INVAL")
        return n

    def _lookup(self, b: B, k, t, key, n):
        """(Reg*, index or -1, node or null) of packed name key of length n: the entry of
        the string that is that name, else its node in the tree, made when missing
        (E_NOSPACE when the system refuses the memory)."""
        N = self.lay.ptr("Name")
        R = self.lay.ptr("Reg")
        nm = b.call(self.f["lit_find"], [k, key])
        node = b.var(b.null(N), N)
        with b.when(b.cmp("<", nm, 0)):
            found = b.call(self.f["name_find"], [k, key])
            b.store(found, node)
            with b.when(b.isnull(found)):
                made = b.call(self.f["name_add"], [k, key, n])
                with b.when(b.isnull(made), likely=False):
                    self.err(b, t, "E_NOSPACE")
                b.store(made, node)
        nd = b.load(node)
        lit = b.gep(b.get(k, "reg"), [b.select(b.cmp("<", nm, 0), c64(0), nm)])
        return b.select(b.isnull(nd), lit, b.bitcast(nd, R)), nm, nd

    def name_fields(self, b: B, c):
        """A channel's name as `channel` and `open` events carry it: (a, words, n)."""
        nd = b.get(c, "entry")
        dyn = b.not_(b.isnull(nd))
        words, n = [b.var(0) for _ in range(abi.MSG_WORDS)], b.var(0)
        with b.when(dyn):
            for j, w in enumerate(words):
                b.store(b.get(nd, "key", c64(j)), w)
            b.store(b.get(nd, "len"), n)
        return b.get(c, "name"), [b.load(w) for w in words], b.load(n)

    def unregister_name(self, b: B, k, c):
        """Channel c, named at run time, is gone: its node loses it, and leaves the tree
        when no opener waits for the name either."""
        nd = b.get(c, "entry")
        with b.when(b.not_(b.isnull(nd))):
            with b.when(b.icmp_unsigned("==", b.get(nd, "chan"), c)):
                b.put(nd, "chan", b.null(self.Ch))
                with b.when(b.isnull(b.get(nd, "whead"))):
                    b.call(self.f["name_drop"], [k, nd])

    def _sys_channel_at(self, b, k, t, a):
        ref, kind = a
        bad = b.and_(b.cmp("!=", kind, abi.ONE), b.cmp("!=", kind, abi.MANY))
        with b.when(bad, likely=False):
            self.err(b, t, "E_INVAL")
        key = b.gep(b.var(None, ir.ArrayType(I64, NW)), [c64(0), c64(0)])
        n = self._read_name(b, k, t, ref, key)
        with b.when(b.cmp("==", b.get(t, "ch_used"), self.CH_FULL), likely=False):
            self.err(b, t, "E_NOSPACE")
        reg, nm, nd = self._lookup(b, k, t, key, n)
        self._make_channel(b, k, t, reg, nm, nd, kind)

    def _sys_open_at(self, b, k, t, a):
        key = b.gep(b.var(None, ir.ArrayType(I64, NW)), [c64(0), c64(0)])
        n = self._read_name(b, k, t, a[0], key)
        with b.when(b.cmp("==", b.get(t, "ch_used"), self.CH_FULL), likely=False):
            self.err(b, t, "E_NOSPACE")
        reg, nm, _ = self._lookup(b, k, t, key, n)
        self._open_reg(b, k, t, reg, nm, a[0])
