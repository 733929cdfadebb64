"""Every program of the language page and every example compiles, and the image is well formed."""
from pathlib import Path

import pytest

from mikro.lang import compile_file, compile_source
from mikro.vm import abi, isa
from mikro.vm.image import Program
from mikro.vm.verify import verify

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.mk"))
STDLIB = sorted((ROOT / "mikro" / "stdlib").glob("*.mk"))

HELLO = 'task main {\n    print("hello, world")\n}\n\nspawn main()\n'


def check_structure(p: Program) -> None:
    assert len(p.lines) == len(p.code)
    assert p.code, "no code"
    last = p.code[-1]
    assert last.info.ends_block or (last.info.name == "sys"
                                    and last.imm & abi.SYS_MASK == abi.SYS["exit"].num)
    spans = sorted((f.entry, f.end) for f in p.functions)
    for (a, b), (c, _) in zip(spans, spans[1:]):
        assert a < b <= c, "functions overlap"
    for f in p.functions:
        assert 0 <= f.entry < f.end <= len(p.code)
        assert p.code[f.end - 1].info.name == "ret"
        # no jump leaves the function
        for ins in p.code[f.entry:f.end]:
            if ins.info.is_branch:
                assert f.entry <= ins.imm < f.end
    entries = {f.entry for f in p.functions}
    for ins in p.code:
        if ins.info.name == "call":
            assert ins.imm in entries
        if ins.info.imm == "str" or ins.info.name == "trap":
            assert 0 <= ins.imm < len(p.strings)
        if ins.info.name == "lk":
            assert 0 <= ins.imm < len(p.consts)
        assert ins.info.a != "w" or ins.a != isa.ZERO
    for t in p.tasks:
        assert 0 <= t.entry < len(p.code)
    for b in p.boot:
        assert 0 <= b.task < len(p.tasks)
        assert len(b.args) == p.tasks[b.task].nparams
    assert len(set(p.strings)) == len(p.strings)


def test_hello():
    p = compile_source(HELLO, "hello.mk")
    check_structure(p)
    assert p.files == ["hello.mk"]
    assert p.strings == ["hello, world"]
    assert [t.name for t in p.tasks] == ["main"]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples(path, monkeypatch):
    monkeypatch.chdir(ROOT)
    p = compile_file(f"examples/{path.name}")
    check_structure(p)
    assert p.files[0] == f"examples/{path.name}"


# -- the programs and fragments of the language page --------------------------------------

ECHO = """\
# echo.mk: two clients call one echo server.
task echo {
    let ch = channel("echo", MANY)      # a 1-to-N server channel, named
    loop {
        let m, x = recv(ch)             # m: an mhandle pointing at the caller
        reply(m, x + 1)
    }
}

task client(id, n) {
    let c = open("echo")                # O(log n) lookup, once
    let i = 0
    while i < n {
        assert(call(c, i) == i + 1)     # send, wait for the reply: O(1)
        i += 1
    }
    print("client", id, "done")
}

spawn echo()
spawn client(1, 100)
spawn client(2, 100)
"""

FRAGMENTS = {
    "one_line_blocks": """
fn f(n) {
    if n == 0 { return 1 } return n * f(n - 1)
}
task t(n) { let i = 0; while i < n { i += 1 } }
spawn t(3)
""",
    "literals": """
const A = 0xffff_ffff_ffff_ffff
const B = -9223372036854775808
const C = 0b1010_1010 + 1_000 + 'a' + '\\n' + '\\'' + '\\x41'
task t { print("tab\\t quote\\" back\\\\ hex\\x41 nl\\n", A, B, C) }
""",
    "try_and_results": """
task t {
    let c = open("x")
    let err, r = try call(c, 1)
    let a, b, d, e = call(c, 1, 2, 3, 4)
    let h, w0, w1, w2, w3 = recv(c)
    let s, h2, v0, v1, v2, v3 = try recv(c)
    let x = try send(c)
    let id = spawn t()
    let e2, id2 = try spawn t()
    reply(h, 1, 2, 3, 4)
    close(c)
    set_data(h, data(h) + conn(h))
    push(c, 1, 2, 3, 4, 5)
    yield()
    print(self(), E_BADHANDLE, E_CLOSED, E_NOSPACE, E_EXISTS, E_BUSY, E_INVAL, ONE, MANY)
    exit(0)
}
""",
    "channel_kinds": """
const KIND = ONE
task t { let a = channel("a", ONE); let b = channel("b", MANY); let c = channel("c", KIND) }
""",
    "arrays": """
task t {
    let a = array(3)
    a[0] = 1
    a[len(a) - 1] += a[0]
    print(a[2])
}
""",
    "names_shared_with_tasks": """
task print { print("x") }
fn f() { return 1 }
task f { }
spawn print()
spawn f()
""",
    "operators": """
task t(x, y) {
    let r = x || y && x == y | x ^ y & x << y >> x >>> y + x - y * x / y % x
    r = -x + !y + ~x
    r += 1; r -= 1; r *= 1; r /= 1; r %= 1; r &= 1; r |= 1; r ^= 1; r <<= 1; r >>= 1; r >>>= 1
    if x < y { } else if x <= y { } else if x > y { } else if x >= y { } else if x != y { }
}
""",
    "continued_lines": """
task t {
    let x = 1 +
        2
    let y = f(x,
              x)
    let z = (x
             + y)
    if x == 1 {
    }
    else {
    }
}
fn f(a, b) { return a + b }
""",
}


def test_language_page_program():
    p = compile_source(ECHO, "echo.mk")
    check_structure(p)
    assert [t.name for t in p.tasks] == ["echo", "client"]
    assert [b.args for b in p.boot] == [(), (1, 100), (2, 100)]


@pytest.mark.parametrize("name", FRAGMENTS)
def test_fragments(name):
    check_structure(compile_source(FRAGMENTS[name], f"{name}.mk"))


@pytest.mark.parametrize("path", STDLIB, ids=lambda p: p.name)
def test_stdlib_modules_compile_when_imported(path):
    p = compile_source(f'import "{path.stem}"\n', "main.mk")
    check_structure(p)
    assert p.files == ["main.mk", f"stdlib/{path.name}"]
    assert all(f.name.startswith(path.stem + ".") for f in p.functions)


def test_verifier_accepts_the_examples():
    for path in EXAMPLES:
        verify(compile_file(str(path)))


def test_line_table_points_at_the_expression():
    p = compile_source("task t {\n    let a = 1\n    let b = 0\n    print(\n        a / b)\n}\n")
    div = isa.BY_NAME["div"].code
    (pc,) = [i for i, ins in enumerate(p.code) if ins.op == div]
    assert (p.lines[pc].line, p.lines[pc].col) == (5, 9)


def test_large_constants_go_to_the_pool():
    p = compile_source("task t { let x = 1 << 40; let y = 0x1_0000_0000; let z = -5; print(x, y, z) }")
    assert p.consts == [1 << 40, 1 << 32]


def test_task_params_and_function_params_limits():
    compile_source("task t(a, b, c, d, e, f) { }\nfn g(a, b, c, d, e, f, h, i) { }\n")


# -- never a traceback --------------------------------------------------------------------

from hypothesis import given, settings, strategies as st  # noqa: E402

from mikro.lang import CompileError  # noqa: E402

TOKENS = ["task", "fn", "t", "f", "x", "(", ")", "{", "}", "[", "]", ",", ";", "\n", "=", "+=",
          "+", "-", "*", "/", "<<", ">>>", "==", "<", "&&", "||", "!", "~", "let", "if", "else",
          "while", "loop", "break", "continue", "return", "spawn", "try", "const", "import",
          '"s"', "1", "0x", "99999999999999999999", "'c'", ".", "kv", "print", "recv", "call",
          "array", "len", "assert", "#c\n", "_", "@", '"', "X"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=40))
def test_random_token_soup_gives_diagnostics_not_tracebacks(tokens):
    try:
        compile_source(" ".join(tokens), "soup.mk")
    except CompileError as e:
        assert e.render().startswith("error[E")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["task t(x) {", "fn f(a) {", "}", "let y = x", "y = f(y)",
                                 "if y {", "} else {", "while y < 3 {", "break", "return y",
                                 "spawn t(1)", "let a, b = recv(y)", "print(y, \"s\")",
                                 "const K = 1 / 0", "x[1] = 2", "try f(1)", "loop {"]),
                max_size=25))
def test_random_statement_soup_gives_diagnostics_not_tracebacks(lines):
    try:
        compile_source("\n".join(lines), "soup.mk")
    except CompileError as e:
        assert e.render().startswith("error[E")


def test_long_and_deep_expressions():
    n = 3000
    p = compile_source("task t { let x = 1; print(" + " + ".join(["x"] * n) + ") }")
    check_structure(p)
    compile_source("task t { print(" + "(" * n + "1" + ")" * n + ") }")
    compile_source("task t {" + "if 1 {" * 500 + "}" * 500 + "}")


def test_absurd_nesting_is_a_diagnostic():
    with pytest.raises(CompileError) as info:
        compile_source("task t { print(" + "-" * 30000 + "1) }", "deep.mk")
    assert info.value.diagnostics[0].code == "E0402"


def test_deep_temporaries_spill_to_the_frame():
    e = "x"
    for _ in range(60):
        e = f"(x * x + {e})"
    p = compile_source(f"task t {{ let x = 1; print({e}) }}", "deep.mk")
    check_structure(p)
    assert any(ins.info.name == "enter" for ins in p.code)     # the task got a frame


def test_mutated_examples_give_diagnostics_not_tracebacks():
    import random
    sources = [p.read_text() for p in EXAMPLES + STDLIB]
    rnd = random.Random(7)
    pieces = list("(){}[],;=+-*/\n\"'#!~<>&|^.0x_9aZ") + [" let ", " if ", " try ", " else ",
                                                        " return ", " break ", " loop {", "}"]
    for _ in range(300):
        chars = list(rnd.choice(sources))
        for _ in range(rnd.randint(1, 4)):
            i = rnd.randrange(len(chars))
            if rnd.random() < 0.5:
                del chars[i:i + rnd.randint(1, 5)]
            else:
                chars.insert(i, rnd.choice(pieces))
        try:
            compile_source("".join(chars), "fuzz.mk")
        except CompileError as e:
            assert e.render().startswith("error[E")
