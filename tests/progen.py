"""Hypothesis strategies that write random, valid `.mk` programs.

Used by the differential tests: every generated program must give the same RunResult on
every backend. Programs cover the integer rules (edge values, every operator, division
that may fault), control flow (nested ifs, bounded loops, break/continue, calls of
generated functions, recursion with a bounded depth), arrays (in and out of range, and references forged from them), shared segments and
IPC topologies (servers with a random transform and per-client state, clients calling
and sending, pushes, closes).
"""
from __future__ import annotations

from hypothesis import strategies as st

MIN, MAX = -(1 << 63), (1 << 63) - 1
EDGE = [0, 1, -1, 2, 63, 64, MIN, MAX, MIN + 1, MAX - 1, 0x5555_5555_5555_5555]
BINOPS = ["+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>", ">>>",
          "==", "!=", "<", "<=", ">", ">=", "&&", "||"]
UNOPS = ["-", "~", "!"]


def literal(draw) -> str:
    v = draw(st.one_of(st.sampled_from(EDGE), st.integers(-1000, 1000), st.integers(MIN, MAX)))
    if v == MIN:
        return "(-9223372036854775807 - 1)"
    return f"({v})" if v < 0 else str(v)


def expr(draw, names: list[str], depth: int = 3) -> str:
    """An integer expression over the variables in `names`."""
    choice = draw(st.integers(0, 9 if depth > 0 else 2))
    if choice <= 1 or not names and choice == 2:
        return literal(draw)
    if choice == 2:
        return draw(st.sampled_from(names))
    if choice == 3:
        return f"{draw(st.sampled_from(UNOPS))}({expr(draw, names, depth - 1)})"
    op = draw(st.sampled_from(BINOPS))
    return f"({expr(draw, names, depth - 1)} {op} {expr(draw, names, depth - 1)})"


class _Body:
    """Writes the statements of one task or function body."""

    def __init__(self, draw, names: list[str], fns: list[tuple[str, int]], indent: int = 1):
        self.draw, self.names, self.fns, self.indent = draw, list(names), fns, indent
        self.lines: list[str] = []
        self.counter = 0

    def emit(self, text: str) -> None:
        self.lines.append("    " * self.indent + text)

    def fresh(self) -> str:
        self.counter += 1
        return f"v{self.indent}_{self.counter}"

    def value(self, depth: int = 2) -> str:
        draw = self.draw
        if self.fns and draw(st.integers(0, 4)) == 0:
            name, arity = draw(st.sampled_from(self.fns))
            args = ", ".join(expr(draw, self.names, 1) for _ in range(arity))
            return f"{name}({args})"
        return expr(draw, self.names, depth)

    def block(self, n: int, in_loop: bool = False) -> None:
        for _ in range(n):
            self.statement(in_loop)

    def statement(self, in_loop: bool) -> None:
        draw = self.draw
        kind = draw(st.integers(0, 9 if self.indent < 4 else 4))
        if kind <= 1 or not self.names:
            name = self.fresh()
            self.emit(f"let {name} = {self.value()}")
            self.names.append(name)
        elif kind == 2:
            self.emit(f"{draw(st.sampled_from(self.names))} = {self.value()}")
        elif kind == 3:
            op = draw(st.sampled_from(["+=", "-=", "*=", "^=", "|=", "&=", "<<=", ">>="]))
            self.emit(f"{draw(st.sampled_from(self.names))} {op} {self.value(1)}")
        elif kind == 4:
            self.emit(f"print({', '.join(self.value(1) for _ in range(draw(st.integers(1, 3))))})")
        elif kind in (5, 6):
            self.emit(f"if {self.value(1)} {{")
            self.nested(draw(st.integers(1, 3)), in_loop)
            if draw(st.booleans()):
                self.emit("} else {")
                self.nested(draw(st.integers(1, 2)), in_loop)
            self.emit("}")
        elif kind == 7:
            i = self.fresh()
            bound = draw(st.integers(0, 6))
            self.emit(f"let {i} = 0")
            self.emit(f"while {i} < {bound} {{")
            self.emit(f"    {i} += 1")
            self.names.append(i)
            self.nested(draw(st.integers(1, 3)), True)
            self.emit("}")
        elif kind == 8 and in_loop:
            self.emit(f"if {self.value(1)} {{ {draw(st.sampled_from(['break', 'continue']))} }}")
        elif kind == 9:
            a = self.fresh()
            n = draw(st.integers(0, 5))
            self.emit(f"let {a} = array({n})")
            idx = draw(st.integers(-1, n))           # out of range faults, on every backend
            self.emit(f"{a}[{idx}] = {self.value(1)}")
            self.emit(f"print({a}[{draw(st.integers(0, max(n - 1, 0)))}], len({a}))")
            if draw(st.integers(0, 2)) == 0:
                # a forged reference: an array plus an offset, anywhere in or out of the
                # task's memory (its stack, its saved fp and lr, the edges, wrapping values)
                f = self.fresh()
                off = draw(st.one_of(st.integers(-8, 8), st.sampled_from(
                    [32767, 32766, 32768, -32768, MAX, MIN + 1, 1 << 40])))
                self.emit(f"let {f} = {a} + ({off})")
                self.emit(f"{f}[{draw(st.integers(-1, 3))}] = {self.value(1)}")
                self.emit(f"print({f}[{draw(st.integers(-1, 3))}], len({f}))")
        else:
            self.emit(f"print({self.value()})")

    def nested(self, n: int, in_loop: bool) -> None:
        inner = _Body(self.draw, self.names, self.fns, self.indent + 1)
        inner.counter = self.counter + 100 * self.indent
        inner.block(n, in_loop)
        self.lines.extend(inner.lines)


@st.composite
def compute_programs(draw) -> str:
    """Tasks doing arithmetic, control flow, arrays and calls of generated functions."""
    out: list[str] = []
    fns: list[tuple[str, int]] = []
    for f in range(draw(st.integers(0, 3))):
        arity = draw(st.integers(0, 3))
        params = [f"p{i}" for i in range(arity)]
        body = _Body(draw, params, list(fns))
        body.block(draw(st.integers(0, 4)))
        out.append(f"fn f{f}({', '.join(params)}) {{")
        out.extend(body.lines)
        out.append(f"    return {expr(draw, params, 2)}")
        out.append("}")
        fns.append((f"f{f}", arity))
    ntasks = draw(st.integers(1, 3))
    for t in range(ntasks):
        body = _Body(draw, ["id"], fns)
        body.block(draw(st.integers(1, 6)))
        out.append(f"task t{t}(id) {{")
        out.extend(body.lines)
        out.append("}")
    for t in range(ntasks):
        out.append(f"spawn t{t}({t + 1})")
    return "\n".join(out) + "\n"


@st.composite
def ipc_programs(draw) -> str:
    """Random topologies: servers with a transform and per-client state, clients that call,
    send, receive pushes or close; a 1-to-1 ping-pong pair; sometimes a faulting server."""
    out: list[str] = []
    nservers = draw(st.integers(1, 3))
    for s in range(nservers):
        transform = expr(draw, ["x", "y", "d"], 2)
        fault = draw(st.integers(0, 5)) == 0
        out += [
            f"task server{s} {{",
            f'    let ch = channel("s{s}", MANY)',
            "    loop {",
            "        let m, x, y = recv(ch)",
            "        let d = data(m)",
            "        set_data(m, d + 1)",
            "        if x == -1 { close(m); continue }",
            f"        if x == -2 {{ push(ch, conn(m), d, {s}) }}",
            *(["        assert(x != 7, \"seven\")"] if fault else []),
            f"        reply(m, {transform}, d, conn(m))",
            "    }",
            "}",
        ]
    nclients = draw(st.integers(1, 4))
    for c in range(nclients):
        target = draw(st.integers(0, nservers - 1))
        body = [f"task client{c}(id) {{", f'    let c = open("s{target}")']
        for i in range(draw(st.integers(1, 6))):
            action = draw(st.integers(0, 6))
            x = draw(st.sampled_from([0, 1, 7, 9, 100, -5, MAX]))
            if action <= 2:
                body.append(f"    let r{i}, d{i}, k{i} = call(c, {x}, id)")
                body.append(f'    print("client", id, r{i}, d{i}, k{i})')
            elif action == 3:
                body.append(f"    send(c, {x}, id)")
            elif action == 4:
                body.append(f"    let e{i}, r{i} = try call(c, -1)")
                body.append(f'    print("dropped", id, e{i}, r{i})')
            elif action == 5:
                body.append("    send(c, -2, id)")
                body.append(f"    let h{i}, w{i}, s{i} = recv(c)")
                body.append(f'    print("pushed", id, w{i}, s{i}, h{i} == c)')
            else:
                body.append("    yield()")
        if draw(st.booleans()):
            body.append("    close(c)")
        body.append('    print("client", id, "done")')
        body.append("}")
        out += body
    if draw(st.booleans()):
        n = draw(st.integers(1, 5))
        out += [
            "task ping(n) {",
            '    let p = channel("pp", ONE)',
            "    let i = 0",
            "    while i < n {",
            "        let r = call(p, i)",
            "        assert(r == i * 2)",
            "        i += 1",
            "    }",
            '    print("ping done", n)',
            "}",
            "task pong {",
            '    let p = open("pp")',
            "    loop {",
            "        let e, h, x = try recv(p)",
            "        if e != 0 { break }",
            "        reply(h, x * 2)",
            "    }",
            '    print("pong saw the end")',
            "}",
            f"spawn ping({n})",
            "spawn pong()",
        ]
    order = draw(st.permutations([f"spawn server{s}()" for s in range(nservers)]
                                 + [f"spawn client{c}({c + 1})" for c in range(nclients)]))
    out += order
    return "\n".join(out) + "\n"


@st.composite
def buffer_programs(draw) -> str:
    """Long messages: servers that take buffers of a random size into an array (cut to fit)
    and answer with a random slice of it; clients that send and call with random ranges,
    some outside their arrays (the error is printed), and reply buffers of any size; and
    sometimes a 1-to-1 pair streaming a buffer back and forth."""
    out: list[str] = []
    nservers = draw(st.integers(1, 2))
    for s in range(nservers):
        cap = draw(st.integers(0, 12))
        transform = expr(draw, ["x", "n", "sum"], 2)
        out += [
            f"task bserver{s} {{",
            f'    let ch = channel("b{s}", MANY)',
            f"    let r = array({cap})",
            "    loop {",
            "        let m, x, off, k, n = recvbuf(ch, r)",
            "        let sum = 0",
            "        let i = 0",
            "        while i < n && i < len(r) { sum += r[i] * (i + 1); r[i] += x; i += 1 }",
            "        if x == -1 { close(m); continue }",
            f"        let e = try replybuf(m, r, off, k, {transform}, sum, n)",
            "        if e != 0 { replybuf(m, 0, 0, 0, e, sum, n) }",
            "    }",
            "}",
        ]
    nclients = draw(st.integers(1, 3))
    small = st.sampled_from([0, 0, 1, 1, 2, 3, 5, 8, 13, -1, MAX])
    for c in range(nclients):
        target = draw(st.integers(0, nservers - 1))
        size = draw(st.integers(0, 10))
        body = [f"task bclient{c}(id) {{", f'    let c = open("b{target}")',
                f"    let a = array({size})", "    let j = 0",
                f"    while j < {size} {{ a[j] = j * id + {draw(st.integers(-9, 9))}; j += 1 }}"]
        for i in range(draw(st.integers(1, 5))):
            action = draw(st.integers(0, 4))
            off, n, k = draw(st.sampled_from([0, 0, 0, 1, 2, -1])), draw(small), draw(small)
            x = draw(st.sampled_from([0, 1, 7, -1, 100]))
            rsize = draw(st.integers(0, 6))
            if action <= 2:
                body += [f"    let b{i} = array({rsize})",
                         f"    let e{i}, r{i}, s{i}, n{i}, l{i} = try callbuf(c, a, {off}, {n}, b{i}, {x}, {draw(small)}, {k})",
                         f'    print("call", id, e{i}, r{i}, s{i}, n{i}, l{i})']
                if rsize:
                    body.append(f'    print("got", b{i}[0], b{i}[{rsize - 1}])')
            elif action == 3:
                body += [f"    let e{i} = try sendbuf(c, a, {off}, {n}, {x})",
                         f'    print("send", id, e{i})']
            else:
                body.append("    yield()")
        body += ['    print("bclient", id, "done")', "}"]
        out += body
    if draw(st.booleans()):
        n, size = draw(st.integers(1, 4)), draw(st.integers(0, 6))
        out += [
            "task bping(n) {",
            '    let p = channel("bp", ONE)',
            f"    let a = array({size})",
            "    let back = array(3)",
            "    let i = 0",
            "    while i < n {",
            f"        if {size} > 0 {{ a[i % {size or 1}] = i }}",
            f"        let r, _, _, l = callbuf(p, a, 0, {size}, back, i)",
            '        print("bping", r, l, back[0], back[1], back[2])',
            "        i += 1",
            "    }",
            "}",
            "task bpong {",
            '    let p = open("bp")',
            f"    let r = array({draw(st.integers(0, 6))})",
            "    loop {",
            "        let e, h, x, _, _, n = try recvbuf(p, r)",
            "        if e != 0 { break }",
            "        replybuf(h, r, 0, len(r), x * 2)",
            "    }",
            '    print("bpong saw the end")',
            "}",
            f"spawn bping({n})",
            "spawn bpong()",
        ]
    out += draw(st.permutations([f"spawn bserver{s}()" for s in range(nservers)]
                                + [f"spawn bclient{c}({c + 1})" for c in range(nclients)]))
    return "\n".join(out) + "\n"


@st.composite
def timed_programs(draw) -> str:
    """Notifications and time: servers that serve with a deadline and a periodic tick for a
    while (sometimes slow to reply, signalling callers), clients that call with deadlines,
    sleep, signal, wait for bits with deadlines and set timers; deadlines include ones past,
    negative and beyond the end of the clock."""
    ticks = [0, 1, 5, 20, 50, 200]
    out: list[str] = []
    nservers = draw(st.integers(1, 2))
    for s in range(nservers):
        period = draw(st.sampled_from([7, 30, 100]))
        delay = draw(st.sampled_from([0, 0, 10, 60]))
        out += [
            f"task server{s} {{",
            f'    let ch = channel("s{s}", MANY)',
            f"    let next = {period}",
            "    let ticks = 0",
            f"    while ticks < {draw(st.integers(0, 4))} {{",
            "        let e, m, x = try recv_until(ch, next)",
            "        if e == E_TIMEOUT {",
            "            let p, bits = try wait_until(now())",
            f'            print("s{s} tick", now(), p, bits)',
            "            ticks += 1",
            f"            next += {period}",
            "        } else {",
            "            notify(m, 1 << (x & 7))",
            f"            sleep({delay})",
            f"            reply(m, {expr(draw, ['x', 'ticks'], 2)})",
            "        }",
            "    }",
            "    loop {",
            "        let m, x = recv(ch)",
            "        reply(m, x)",
            "    }",
            "}",
        ]
    nclients = draw(st.integers(1, 3))
    for c in range(nclients):
        body = [f"task client{c}(id) {{",
                f'    let c = open("s{draw(st.integers(0, nservers - 1))}")']
        for i in range(draw(st.integers(1, 6))):
            action = draw(st.integers(0, 6))
            d = draw(st.sampled_from(ticks + [-1, MAX]))
            dl = f"now() + {d}" if 0 <= d < MAX else f"({d})"
            if action <= 1:
                x = draw(st.sampled_from([0, 1, 7, 100, -5]))
                body.append(f"    let e{i}, r{i} = try call_until(c, {dl}, {x}, id)")
                body.append(f'    print("call", id, e{i}, r{i}, now())')
            elif action == 2:
                body.append(f"    print(\"sleep\", id, try sleep({d}), now())")
            elif action == 3:
                body.append(f"    notify(c, {draw(st.sampled_from([1, 2, 1 << 63]))})")
            elif action == 4:
                body.append(f"    let e{i}, b{i} = try wait_until({dl})")
                body.append(f'    print("bits", id, e{i}, b{i}, now())')
            elif action == 5:
                first, period = draw(st.sampled_from(ticks)), draw(st.sampled_from(ticks))
                body.append(f"    timer({draw(st.sampled_from([0, 4, 8]))}, now() + {first}, "
                            f"{period})")
            else:
                body.append('    print("now", id, now())')
        body += ['    print("client", id, "done")', "}"]
        out += body
    order = draw(st.permutations([f"spawn server{s}()" for s in range(nservers)]
                                 + [f"spawn client{c}({c + 1})" for c in range(nclients)]))
    out += order
    return "\n".join(out) + "\n"


@st.composite
def segment_programs(draw) -> str:
    """Shared segments: an owner lends a segment of random size, read-only or read-write,
    to a borrower that calls it step by step; between the calls each side stores and loads
    (in and out of range), takes back or gives back the grant, lends again, indexes forged
    references, tries what it may not; sometimes the owner pushes a buffer after a reply."""
    out: list[str] = []
    npairs = draw(st.integers(1, 2))
    for p in range(npairs):
        n = draw(st.integers(0, 6))
        rights = draw(st.sampled_from(["RO", "RW", "RW", "2"]))
        index = st.integers(-1, n)                     # n is out of range: a fault
        value = st.sampled_from([0, 1, -1, 42, MAX])
        forged = st.sampled_from([-1, 1, 16, 32, 1 << 62, -(1 << 62)])
        owner = [f"task owner{p} {{", f'    let c = channel("g{p}", MANY)',
                 f"    let s = segment({n})", "    let a = array(4)",
                 "    let m, _ = recv(c)", f"    let e, r = try grant(m, s, {rights})",
                 '    print("grant", e)']
        borrower = [f"task borrower{p} {{", f'    let c = open("g{p}")',
                    "    let into = array(3)", "    let e, b = try call(c)"]
        owner.append("    reply(m, r)")
        for i in range(draw(st.integers(1, 5))):
            owner.append(f"    let m{i}, _ = recv(c)")
            act = draw(st.integers(0, 6))
            if act == 0:
                owner.append(f"    s[{draw(index)}] = {draw(value)}")
            elif act == 1:
                owner.append(f'    print("o", s[{draw(index)}], len(s))')
            elif act == 2:
                owner += ["    revoke(s)", f"    let g{i}, r{i} = try grant(m{i}, s, {rights})",
                          f'    print("again", g{i})', f"    r = r{i}"]
            elif act == 3:
                owner.append('    print("revoke", try revoke(s), try revoke(a))')
            elif act == 4:
                owner.append(f'    print("forged", (s + ({draw(forged)}))[0])')
            pushes = act == 5
            owner.append(f"    reply(m{i}, r)")
            if pushes:
                owner.append(f'    print("push", try pushbuf(c, conn(m{i}), a, 0, '
                             f'{draw(st.integers(0, 4))}, {i}))')
            borrower += [f"    let e{i}, b{i} = try call(c)", f"    b = b{i}"]
            if pushes:
                borrower += [f"    let f{i}, _, w{i}, _, _, n{i} = try recvbuf(c, into)",
                             f'    print("pushed", f{i}, w{i}, n{i}, into[0])']
            bact = draw(st.integers(0, 6))
            if bact == 0:
                borrower.append(f"    b[{draw(index)}] = {draw(value)}")
            elif bact == 1:
                borrower.append(f'    print("b", b[{draw(index)}], len(b))')
            elif bact == 2:
                borrower.append('    print("give back", try revoke(b))')
            elif bact == 3:
                borrower.append(f'    let x{i}, y{i} = try grant(c, b, RW)')
                borrower.append(f'    print("lend", x{i}, y{i})')
            elif bact == 4:
                borrower.append(f'    print("forged", (b + ({draw(forged)}))[0])')
            elif bact == 5:
                k, off = draw(st.integers(-1, 4)), draw(st.integers(-1, 2))
                borrower += [f"    print(\"copy\", try copy(into, 0, b, {off}, {k}), "
                             f"try copy(b, {off}, into, 0, {k}), into[0])"]
        owner += ['    print("owner done", s[0])' if n else '    print("owner done")', "}"]
        borrower += ['    print("borrower done")', "}"]
        out += owner + borrower
    out += draw(st.permutations([f"spawn owner{p}()" for p in range(npairs)]
                                + [f"spawn borrower{p}()" for p in range(npairs)]))
    return "\n".join(out) + "\n"
