"""Programs compiled and run: their output checks the language's semantics end to end.

Runs on the reference interpreter (mikro.vm.interp) when it is there, else (or with
MIKRO_LANG_BACKEND=x86) on the x86 backend. The hypothesis tests compare random expressions with a model of the 64-bit
integer rules written here independently of the compiler's folder.
"""
import importlib.util
import os
import textwrap

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mikro.lang import compile_source
from mikro.vm.options import RunOptions


def _runner():
    if os.environ.get("MIKRO_LANG_BACKEND") != "x86" and \
            importlib.util.find_spec("mikro.vm.interp") is not None:
        from mikro.vm import interp
        return interp.run
    from mikro.backends import x86
    return lambda program, options: x86.run(program, options, cache=False)


RUN = _runner()


def run(source: str, path: str = "t.mk", **opts):
    program = compile_source(textwrap.dedent(source), path)
    return RUN(program, RunOptions(**opts)), program


def output(source: str, **opts) -> str:
    result, program = run(source, **opts)
    assert result.status == "clean", result.report(program)
    return result.output


def test_hello():
    assert output('task main { print("hello, world") }\nspawn main()') == "hello, world\n"


def test_print_forms():
    assert output("""
        task t {
            print()
            print("a", 1, -2, "b")
            print('a', '\\n', 0x10, 0b101, 1_000_000)
        }
        spawn t()
    """) == "\na 1 -2 b\n97 10 16 5 1000000\n"


def test_newlines_and_separators():
    assert output("""
        fn f(n) { if n == 0 { return 1 } return n * f(n - 1) }
        task t {
            let i = 0; let s = 0
            while i < 5 { i += 1 }
            let x = 1 +
                2 *
                3
            let y = (1
                + 2)
            if x == 7 {
                s = 1
            }
            else if x == 8 { s = 2 }
            else {
                s = 3
            }
            print(i, x, y, s, f(5),
                  f(3))
        }
        spawn t()
    """) == "5 7 3 1 120 6\n"


def test_integer_rules():
    assert output("""
        const MIN = -9223372036854775808
        const MAX = 0x7fff_ffff_ffff_ffff
        task t {
            let min = MIN
            let m1 = -1
            let z = 0
            print(min / m1, min % m1, MAX + 1 == MIN, 0xffff_ffff_ffff_ffff)
            print(-7 / 2, -7 % 2, 7 / -2, 7 % -2)
            let a = -7
            let b = 2
            print(a / b, a % b, a >> 1, a >>> 60, 1 << 65, 1 << -1 == MIN)
            print(~5, !0, !7, -min == min, 3 < 4, 4 <= 3, 5 > 1, 5 >= 6, 2 == 2, 2 != 2)
            print(z && 1 / z, 1 || 1 / z, 2 && 3, 0 || 0)
        }
        spawn t()
    """) == ("-9223372036854775808 0 1 -1\n-3 -1 -3 1\n-3 -1 -4 15 2 1\n"
             "-6 1 0 1 1 0 1 0 1 0\n0 1 1 0\n")


def test_big_constants():
    assert output("""
        task t {
            let a = 0x1234_5678_9abc
            let b = 2147483647
            let c = -2147483648
            print(a, b + 1, c - 1, a + 0x1_0000_0000)
        }
        spawn t()
    """) == "20015998343868 2147483648 -2147483649 20020293311164\n"


def test_let_shadowing_and_scopes():
    assert output("""
        const X = 10
        task t {
            let x = X
            let x = x + 1
            if 1 {
                let x = x * 2
                print(x)
            }
            let X = 3
            print(x, X)
        }
        spawn t()
    """) == "22\n11 3\n"


def test_loops_break_continue():
    assert output("""
        task t {
            let i = 0
            let odd = 0
            loop {
                i += 1
                if i > 10 { break }
                if i % 2 == 0 { continue }
                odd += i
            }
            let j = 0
            while 1 { j += 1; if j == 3 { break } }
            print(i, odd, j)
        }
        spawn t()
    """) == "11 25 3\n"


def test_functions_recursion_and_order():
    assert output("""
        task t { print(fib(15), twice(3), nothing(), early(5), early(-5)) }
        fn fib(n) { if n < 2 { return n } return fib(n - 1) + fib(n - 2) }
        fn twice(x) { x *= 2; return x }
        fn nothing() { }
        fn early(x) {
            if x < 0 { return }
            return x
        }
        spawn t()
    """) == "610 6 0 5 0\n"


def test_arrays():
    assert output("""
        fn sum(a) {
            let s = 0
            let i = 0
            while i < len(a) { s += a[i]; i += 1 }
            return s
        }
        task t {
            let a = array(5)
            let i = 0
            while i < len(a) { a[i] = i * i; i += 1 }
            a[1] += 100
            a[2] <<= 2
            print(sum(a), a[1], a[2], len(array(0)))
        }
        spawn t()
    """) == "142 101 16 0\n"


def test_assignment_operators():
    assert output("""
        task t {
            let x = 100
            x += 5; print(x); x -= 10; print(x); x *= 3; print(x); x /= 7; print(x)
            x %= 7; print(x); x |= 8; print(x); x &= 12; print(x); x ^= 5; print(x)
            x <<= 3; print(x); x >>= 1; print(x); x = -x; x >>>= 60; print(x)
        }
        spawn t()
    """) == "105\n95\n285\n40\n5\n13\n12\n9\n72\n36\n15\n"


def test_many_locals_spill_to_the_frame():
    names = [f"v{i}" for i in range(70)]
    lets = "\n".join(f"    let {n} = {i}" for i, n in enumerate(names))
    total = " + ".join(names)
    src = (f"fn f(k) {{\n{lets}\n    return {total} + k\n}}\n"
           f"task t {{\n{lets}\n    v69 += 1\n    print({total}, f(1), v0, v69)\n}}\nspawn t()\n")
    assert output(src) == f"{sum(range(70)) + 1} {sum(range(70)) + 1} 0 70\n"


def test_deep_nesting_needs_no_spill():
    expr = "1"
    for i in range(30):
        expr = f"({expr} + {i})"
    assert output(f"task t {{ let x = 2; print({expr.replace('1', 'x', 1)}) }}\nspawn t()") \
        == f"{2 + sum(range(30))}\n"


def test_ipc_multi_results_and_try():
    assert output("""
        task server {
            let ch = channel("s", MANY)
            loop {
                let m, a, b, c, d = recv(ch)
                let old = data(m)
                set_data(m, old + 7)
                reply(m, a + b, c * d, conn(m), old)
            }
        }
        task client {
            let c = open("s")
            let x, y, z, w = call(c, 1, 2, 3, 4)
            let err, p, q, o, dd = try call(c, 5, 6)
            let bad = try send(99, 1)
            let e2, r2 = try call(99)
            print(x, y, z, w, err, p, q, dd, bad == E_BADHANDLE, e2, r2)
            let dup = try channel("s", ONE)
            print(dup == E_EXISTS, E_CLOSED, ONE, MANY)
        }
        spawn server()
        spawn client()
    """) == "3 12 1 0 0 11 0 7 1 -1 0\n1 -2 1 2\n"


def test_spawn_self_exit_and_one_channels():
    result, program = run("""
        task child(a, b) {
            let c = open("p")
            send(c, a * b, self())
            exit(3)
        }
        task parent {
            let p = channel("p", ONE)
            let id = spawn child(6, 7)
            let h, v, who = recv(p)
            print(v, who == id, h == p)
        }
        spawn parent()
    """)
    assert result.output == "42 1 1\n"
    assert result.report(program) == "task child#2 exited with code 3\n"


def test_assert_and_faults_point_at_their_line():
    result, program = run("""
        task a {
            assert(1 == 1)
            assert(2 < 1, "two is small")
        }
        fn div(x, y) {
            return x / y
        }
        task b { print(div(1, 0)) }
        spawn a()
        spawn b()
    """, path="f.mk")
    assert result.status == "fault"
    assert result.report(program) == (
        "fault in task a#1 at f.mk:4: assertion failed: two is small\n"
        "fault in task b#2 at f.mk:7: division by zero\n"
        "  called from f.mk:9 in b\n")


def test_task_return_value_is_the_exit_code():
    result, program = run("""
        task t(n) {
            if n > 1 { return n }
        }
        spawn t(1)
        spawn t(5)
    """)
    assert result.status == "clean"
    assert result.report(program) == "task t#2 exited with code 5\n"


def test_imports(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "util.mk").write_text(
        "const K = 40\n"
        "fn add(a, b) { return a + b + helper() }\n"
        "fn helper() { return K - 40 + 2 }\n"
        "task server { let ch = channel(\"u\", MANY)\n"
        "  loop { let m, x = recv(ch); reply(m, add(x, K)) } }\n")
    main = tmp_path / "main.mk"
    main.write_text('import "./lib/util.mk"\n'
                    "task t { print(util.add(1, util.K), call(open(\"u\"), 1)) }\n"
                    "spawn util.server()\nspawn t()\n")
    from mikro.lang import compile_file
    program = compile_file(str(main))
    assert [t.name for t in program.tasks] == ["util.server", "t"]
    assert {f.name for f in program.functions} == {"util.add", "util.helper"}
    result = RUN(program, RunOptions())
    assert result.output == "43 43\n"


def test_stdlib_import():
    assert output("""
        import "kv"
        task t {
            let c = kv.connect()
            kv.put(c, 1, 10)
            print(kv.get(c, 1), kv.size(c), kv.SLOTS)
        }
        spawn kv.server()
        spawn t()
    """) == "10 1 64\n"


# -- the integer rules against a model ---------------------------------------------------

MASK = (1 << 64) - 1
MIN, MAX = -(1 << 63), (1 << 63) - 1


class Fault(Exception):
    pass


def wrap(v):
    v &= MASK
    return v - (1 << 64) if v > MAX else v


def model(op, a, b=None):
    if b is None:
        return {"-": wrap(-a), "~": wrap(~a), "!": int(a == 0)}[op]
    if op in ("/", "%"):
        if b == 0:
            raise Fault
        if a == MIN and b == -1:
            return MIN if op == "/" else 0
        q = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)
        return q if op == "/" else a - b * q
    return {"+": lambda: wrap(a + b), "-": lambda: wrap(a - b), "*": lambda: wrap(a * b),
            "&": lambda: a & b, "|": lambda: a | b, "^": lambda: a ^ b,
            "<<": lambda: wrap(a << (b & 63)), ">>": lambda: a >> (b & 63),
            ">>>": lambda: wrap((a & MASK) >> (b & 63)),
            "==": lambda: int(a == b), "!=": lambda: int(a != b), "<": lambda: int(a < b),
            "<=": lambda: int(a <= b), ">": lambda: int(a > b), ">=": lambda: int(a >= b),
            }[op]()


EDGE = [0, 1, -1, 2, 3, 63, 64, 65, MIN, MAX, MIN + 1, MAX - 1, 0x5555_5555_5555_5555]
BINOPS = ["+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>", ">>>",
          "==", "!=", "<", "<=", ">", ">=", "&&", "||"]
values = st.one_of(st.sampled_from(EDGE), st.integers(-300, 300), st.integers(MIN, MAX))


@st.composite
def expressions(draw, depth=3):
    """(source text, value or Fault) over variables v0..v3 and literals."""
    kind = draw(st.integers(0, 6 if depth > 0 else 1))
    if kind == 0:
        v = draw(values)
        text = "(-9223372036854775807 - 1)" if v == MIN else f"({v})" if v < 0 else str(v)
        return text, v
    if kind == 1:
        i = draw(st.integers(0, 3))
        return f"v{i}", ("var", i)
    if kind == 2:
        op = draw(st.sampled_from(["-", "~", "!"]))
        text, val = draw(expressions(depth - 1))
        return f"{op}({text})", ("un", op, val)
    op = draw(st.sampled_from(BINOPS))
    lt, lv = draw(expressions(depth - 1))
    rt, rv = draw(expressions(depth - 1))
    return f"({lt} {op} {rt})", ("bin", op, lv, rv)


def evaluate(tree, env):
    if isinstance(tree, int):
        return tree
    if tree[0] == "var":
        return env[tree[1]]
    if tree[0] == "un":
        return model(tree[1], evaluate(tree[2], env))
    _, op, l, r = tree
    if op == "&&":
        return int(evaluate(l, env) != 0 and evaluate(r, env) != 0)
    if op == "||":
        return int(evaluate(l, env) != 0 or evaluate(r, env) != 0)
    return model(op, evaluate(l, env), evaluate(r, env))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(env=st.lists(values, min_size=4, max_size=4),
       exprs=st.lists(expressions(), min_size=1, max_size=5))
def test_random_expressions_follow_the_integer_rules(env, exprs):
    lines, expected = [], []
    for i, (text, tree) in enumerate(exprs):
        lets = "\n".join(f"    let v{k} = {'(-9223372036854775807 - 1)' if v == MIN else v}"
                         for k, v in enumerate(env))
        # as statements, in conditions and folded from constants
        # as a value, as a condition, assigned over a variable it reads, and with op=
        lines.append(f"task e{i} {{\n{lets}\n    let r = {text}\n"
                     f"    if {text} {{ print(r, 1) }} else {{ print(r, 0) }}\n"
                     f"    v0 = {text}\n    v1 -= {text}\n    print(v0, v1)\n}}")
        try:
            v = evaluate(tree, env)
            expected.append(f"{v} {int(v != 0)}\n")
            v1 = model("-", env[1], evaluate(tree, [v] + env[1:]))
            expected.append(f"{v} {v1}\n")
        except Fault:
            pass
    lines += [f"spawn e{i}()" for i in range(len(exprs))]
    result, program = run("\n".join(lines) + "\n")
    assert result.output == "".join(expected), program


def test_temporaries_and_locals_survive_calls():
    assert output("""
        fn s(n) {
            if n == 0 { return 0 }
            return n * 2 + s(n - 1) + n
        }
        fn h(c) { let x = c * 10; let y = x + 1; return y }
        fn g(a, b) { return a - b }
        fn f(a, b, c) { return a * 100 + b * 10 + c }
        fn eight(a, b, c, d, e, f, g, h) { return a + 2*b + 3*c + 4*d + 5*e + 6*f + 7*g + 8*h }
        task t {
            let a = 1
            let b = 2
            let c = 3
            print(s(10), f(a * 2, g(b * 3, h(c)), a + b), a, b, c)
            print(eight(1, 1, 1, 1, 1, 1, 1, 1), eight(h(0), 0, 0, 0, 0, 0, 0, s(1)))
        }
        spawn t()
    """) == "165 -47 1 2 3\n36 25\n"


def test_spawn_arguments_and_task_parameters():
    assert output("""
        task w(a, b, c, d, e, f) { print(a, b, c, d, e, f) }
        task main {
            let x = 7
            spawn w(x, x + 1, 3, 4, 5, 6)
        }
        spawn main()
        spawn w(-1, 0x10, 'a', 0, 1 << 40, -9223372036854775808)
    """) == "-1 16 97 0 1099511627776 -9223372036854775808\n7 8 3 4 5 6\n"


def test_deep_expressions_spill_and_stay_right():
    e, v = "x", 3
    for i in range(70):
        e, v = f"(x * {i} + {e})", 3 * i + v
    calls, cv = "x", 3
    for i in range(30):
        calls, cv = f"g({i}, x * 2, {calls}, x)", i + 6 + cv + 3
    many = ", ".join(f"v{i}" for i in range(45))
    lets = "\n".join(f"    let v{i} = {i}" for i in range(45))
    src = (f"fn g(a, b, c, d) {{ return a + b + c + d }}\n"
           f"fn h(k) {{\n{lets}\n    let a = array(3)\n    a[1] = k\n"
           f"    a[{e.replace('x', 'k')} - {v} + 1] += {e.replace('x', 'k')}\n"
           f"    return a[1] + v44 + {calls.replace('x', 'k')}\n}}\n"
           f"task t {{\n    let x = 3\n{lets}\n    print({e}, {calls}, h(3), {many})\n"
           f"    if {e} == {v} && {calls} == {cv} {{ print(1) }}\n}}\nspawn t()\n")
    assert output(src) == (f"{v} {cv} {3 + v + 44 + cv} " + " ".join(map(str, range(45)))
                           + "\n1\n")


def test_layout_freedoms_and_discards():
    assert output("""
        fn pick(c)
        {
            if c
            {
                return 1
            }
            else
            {
                return 2
            }
        }
        task server { let ch = channel("s", MANY); loop { let m, _, b = recv(ch); reply(m, b * 2) } }
        task t {
            let _ = 5
            let y, _ = call(open("s"), 1, 21)
            print(pick(0), pick(1), y);;
        }
        spawn server()
        spawn t()
    """) == "2 1 42\n"
