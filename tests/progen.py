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
            action = draw(st.integers(0, 7))
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
            elif action == 6:
                body.append("    yield()")
            else:       # a value the schedule decides; choose(0) and below fail (try)
                n = draw(st.sampled_from([1, 2, 3, 0, -1]))
                body.append(f"    let q{i}, v{i} = try choose({n})")
                body.append(f'    print("chose", id, q{i}, v{i})')
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
    return "\n".join(out + boot_list(draw, nservers, nclients)) + "\n"


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
    return "\n".join(out + boot_list(draw, nservers, nclients)) + "\n"


def boot_list(draw, nservers: int, nclients: int) -> list[str]:
    """The spawns of server0.. and client0(1).. in an order drawn."""
    return draw(st.permutations([f"spawn server{s}()" for s in range(nservers)]
                                + [f"spawn client{c}({c + 1})" for c in range(nclients)]))


@st.composite
def handle_programs(draw) -> str:
    """Handles on the move: servers (named by a literal or by a name built at run time)
    that signal through what they were sent and answer with a private end or plainly;
    clients that make pairs, move ends (their own, the one the message travels on, closed
    and forged ones), call with and without a moved end, close numbers and fill their
    tables. Errors are taken with `try` and printed, so both kernels' statuses compare."""
    out = ["fn name(n) {", "    let a = array(8)", '    let i = put_str(a, 0, "h")',
           "    a[i] = 'a' + n", "    return a", "}"]
    nservers = draw(st.integers(1, 2))
    for s in range(nservers):
        made = f'"h{chr(97 + s)}"' if draw(st.booleans()) else f"name({s})"
        out += [f"task server{s} {{", f"    let ch = channel({made}, MANY)", "    loop {",
                "        let m, h, x = recv(ch)",
                "        let e1 = try notify(h, 1)",
                "        let a, b = pair()",
                f"        let e2 = try reply_move(m, {draw(st.sampled_from(['b', 'a', 'h', 'm']))}, x + 1)",
                "        if e2 != 0 { reply(m, x) }",
                f'        print("s{s}", x, e1, e2)',
                "        try close(a)", "        try close(b)", "        try close(h)", "    }",
                "}"]
    nclients = draw(st.integers(1, 3))
    for c in range(nclients):
        s = draw(st.integers(0, nservers - 1))
        target = f'"h{chr(97 + s)}"' if draw(st.booleans()) else f"name({s})"
        body = [f"task client{c}(id) {{", f"    let c = open({target})",
                "    let p, q = pair()"]
        for i in range(draw(st.integers(1, 6))):
            action = draw(st.integers(0, 4))
            x = draw(st.sampled_from(["p", "q", "c", "99", "-1", "64 + 5", "3"]))
            if action == 0:
                body.append(f'    print("send", id, try send_move(c, {x}, {i}))')
            elif action == 1:
                body += [f"    let e{i}, r{i}, w{i} = try call_move(c, {x}, {i})",
                         f'    print("call_move", id, e{i}, r{i}, w{i}, try close(r{i}))']
            elif action == 2:
                body += [f"    let e{i}, r{i}, w{i} = try call(c, {100 + i}, {i})",
                         f'    print("call", id, e{i}, r{i}, w{i})']
            elif action == 3:
                body.append(f'    print("close", id, try close({x}))')
            else:
                body += [f"    let k{i} = 0",
                         f"    while k{i} < {draw(st.sampled_from([1, 20, 40]))} {{",
                         f"        let f{i} = try pair()", f"        k{i} += 1", "    }"]
        body += ['    print("client", id, "done")', "}"]
        out += body
    return "\n".join(out + boot_list(draw, nservers, nclients)) + "\n"


@st.composite
def supervised_programs(draw) -> str:
    """Supervision: workers serving a channel that fault or exit after a few requests in
    their first generations; a supervisor that monitors them, says how each ended and
    restarts it while its budget lasts, then tries ids that are its own, stale, forged or
    gone; clients that reconnect by name when their worker went; sometimes a rival that
    tries to supervise or restart the same workers, and a supervisor that ends early."""
    ids = [0, 1, 2, 3, 4, 9, -1, MAX, 1 << 32 | 2, 2 << 32 | 3]
    out: list[str] = []
    nworkers = draw(st.integers(1, 3))
    for w in range(nworkers):
        crash = draw(st.sampled_from(['assert(0, "crash")', "exit(gen + 1)", "x = x / 0",
                                      "break"]))
        out += [
            f"task w{w}(id) {{",
            "    let gen = self() >> 32",
            f'    let ch = channel("w{w}", MANY)',
            f'    print("w{w} up", id, gen)',
            "    let served = 0",
            f"    while served < {draw(st.integers(1, 6))} {{",
            f"        let e, m, x = try recv_until(ch, now() + {draw(st.sampled_from([5, 40]))})",
            "        if e != 0 { break }",
            "        served += 1",
            f"        if gen < {draw(st.integers(0, 3))} && served > "
            f"{draw(st.integers(0, 2))} {{ {crash} }}",
            f"        reply(m, {expr(draw, ['x', 'gen', 'served'], 2)})",
            "    }",
            f"    return {draw(st.sampled_from(['0', 'gen', 'served']))}",
            "}",
        ]
    budget = draw(st.integers(0, 5))
    out += ["task sup {", f"    let ws = array({nworkers})"]
    for w in range(nworkers):
        out += [f"    ws[{w}] = spawn w{w}({w + 1})", f"    monitor(ws[{w}], {1 << w})"]
    out += [
        "    let restarts = 0",
        "    let rounds = 0",
        f"    while rounds < {draw(st.integers(1, 8))} {{",
        f"        let e, bits = try wait_until(now() + {draw(st.sampled_from([10, 100]))})",
        "        if e != 0 { break }",
        "        let i = 0",
        f"        while i < {nworkers} {{",
        "            if (bits >>> i) & 1 != 0 {",
        "                let how, code = status(ws[i])",
        '                print("sup saw", i, how, code, ws[i] >> 32)',
        f"                if restarts < {budget} {{",
        "                    ws[i] = restart(ws[i])",
        "                    restarts += 1",
        "                }",
        "            }",
        "            i += 1",
        "        }",
        "        rounds += 1",
        "    }",
        '    print("hostile", try monitor(self(), 1), try restart(ws[0]), '
        "try status(ws[0] + (1 << 32)), try status(ws[0] - (1 << 32)))",
        f'    print("ids", try status({draw(st.sampled_from(ids))}), '
        f"try restart({draw(st.sampled_from(ids))}), "
        f"try monitor({draw(st.sampled_from(ids))}, 1))",
        f"    {draw(st.sampled_from(['', 'wait()', 'assert(0)', 'exit(restarts)']))}",
        "}",
    ]
    nclients = draw(st.integers(1, 3))
    for c in range(nclients):
        out += [
            f"task c{c}(id) {{",
            f'    let c = open("w{draw(st.integers(0, nworkers - 1))}")',
            "    let i = 0",
            f"    while i < {draw(st.integers(1, 5))} {{",
            "        let e, r = try call_until(c, now() + 30, i, id)",
            '        print("c", id, i, e, r)',
            "        if e == E_CLOSED {",
            "            close(c)",
            f'            c = open("w{draw(st.integers(0, nworkers - 1))}")',
            "        }",
            "        i += 1",
            "    }",
            "}",
        ]
    boot = ["spawn sup()"] + [f"spawn c{c}({c + 1})" for c in range(nclients)]
    if draw(st.booleans()):
        # the rival: sup is task 1, its workers 2 .. nworkers + 1 (when sup runs first)
        target = draw(st.integers(2, nworkers + 1))
        out += [
            "task rival {",
            f"    sleep({draw(st.sampled_from([0, 15, 200]))})",
            f'    print("rival", try monitor({target}, 1), try restart({target}), '
            f"try status({target}))",
            "}",
        ]
        boot.append("spawn rival()")
    out += [boot[0]] + draw(st.permutations(boot[1:]))
    return "\n".join(out) + "\n"


@st.composite
def wait_programs(draw) -> str:
    """Many handles, the task's deadline and typed messages: a hub selects over its MANY
    channel, a ONE end and its pending word (in a drawn order), takes requests by type,
    and sometimes pushes; clients call and send typed messages, signal, sleep, open names
    nobody creates and select on their own connection, each under a deadline drawn
    among past, near, far and none; a peer on the ONE end calls, sends and leaves."""
    d_of = (lambda: (lambda d: "NEVER" if d is None else f"now() + {d}")(
        draw(st.sampled_from([None, 0, 1, 5, 20, 50]))))
    members = draw(st.permutations(["a", "o", "BITS"]))[:draw(st.integers(1, 3))]
    out = ["task hub {", '    let a = channel("a", MANY)', '    let o = channel("o", ONE)',
           f"    let set = array({len(members)})"]
    out += [f"    set[{i}] = {m}" for i, m in enumerate(members)]
    out += [
        "    let n = 0",
        f"    while n < {draw(st.integers(1, 12))} {{",
        f"        deadline({d_of()})",
        "        let e, h = try select(set)",
        "        if e != 0 {",
        '            print("hub select", e, now())',
        "        } else if h == BITS {",
        '            print("hub bits", wait(), now())',
        "        } else if h == a {",
        f"            let e2, m, x, _, _, ty = try recv_type(a, {draw(st.sampled_from([0, 0, -2, -9, 1, 2]))})",
        '            print("hub a", e2, x, ty, now())',
        "            if e2 == 0 { reply(m, x + ty) }",
        "        } else {",
        "            let e3, _, x = try recv(o)",
        '            print("hub o", e3, x, try reply(o, x), now())',
        "        }",
    ]
    if draw(st.booleans()):
        out.append(f'        if n == {draw(st.integers(0, 4))} {{ print("push", try push(a, 1, n)) }}')
    out += ["        n += 1", "    }", '    print("hub done", now())', "}"]
    nclients = draw(st.integers(1, 3))
    for c in range(nclients):
        body = [f"task client{c}(id) {{", '    let c = open("a")', "    let cs = array(2)",
                "    cs[0] = c; cs[1] = BITS"]
        for i in range(draw(st.integers(1, 6))):
            action = draw(st.integers(0, 5))
            body.append(f"    deadline({d_of()})")
            ty = draw(st.sampled_from([0, 1, 2, 3, 9]))
            if action <= 1:
                kind = "call" if action == 0 else "send"
                body.append(f'    print("{kind}", id, try {kind}(c, id * 10 + {i}, 0, 0, {ty}), now())')
            elif action == 2:
                body.append(f"    notify(c, {draw(st.sampled_from([1, 2, 4]))})")
            elif action == 3:
                body.append(f'    print("sleep", id, try sleep({draw(st.sampled_from([0, 3, 30]))}), now())')
            elif action == 4:
                body.append('    print("open", id, try open("nobody"), now())')
            else:
                body += [f"    let e{i}, h{i} = try select(cs)",
                         f"    if e{i} == 0 && h{i} == c {{ print(\"got\", id, try recv_until(c, now())) }}",
                         f'    print("select", id, e{i}, h{i}, now())']
        body += ['    print("client", id, "done")', "}"]
        out += body
    peer = ["task peer {", '    let o = open("o")']
    for i in range(draw(st.integers(0, 4))):
        peer.append(f"    deadline({d_of()})")
        kind = draw(st.sampled_from(["call", "send", "notify"]))
        if kind == "notify":
            peer.append("    notify(o, 8)")
        else:
            peer.append(f'    print("peer {kind}", try {kind}(o, {i}), now())')
    peer += ['    print("peer done", now())', "}"]
    out += peer
    out += draw(st.permutations(["spawn hub()", "spawn peer()"]
                                + [f"spawn client{c}({c + 1})" for c in range(nclients)]))
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
