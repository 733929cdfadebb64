"""Bad input gives diagnostics, never a traceback: each case checks the exact rendered text
(code, file:line:col, source line, caret, label, help)."""
import pytest

from mikro.lang import CompileError, SourceReadError, compile_file, compile_source


def render(source: str, path: str = "bad.mk") -> str:
    with pytest.raises(CompileError) as info:
        compile_source(source, path)
    return info.value.render()


CASES = {
    'expected_expression_after_eq': (
        'task echo {\n    loop {\n        let m, x =\n    }\n}\n',
        'error[E0103]: expected an expression after `=`\n'
        ' --> bad.mk:3:19\n'
        '  |\n'
        '3 |         let m, x =\n'
        '  |                   ^ expected an expression\n'
        '  = help: a line that ends with `=` goes on into the next line\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'expected_expression_after_operator': (
        'task t {\n    let x = 1 +\n}\n',
        'error[E0103]: expected an expression after `+`\n'
        ' --> bad.mk:2:16\n'
        '  |\n'
        '2 |     let x = 1 +\n'
        '  |                ^ expected an expression\n'
        '  = help: a line that ends with `+` goes on into the next line\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'unclosed_paren': (
        'task t {\n    let x = (1 + 2\n}\n',
        'error[E0104]: unexpected `}`\n'
        ' --> bad.mk:3:1\n'
        '  |\n'
        '3 | }\n'
        '  | ^ expected `)`\n'
        '  = help: a `(` is not closed\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'missing_separator': (
        'task t { let x = 1 let y = 2 }\n',
        'error[E0104]: unexpected `let`\n'
        ' --> bad.mk:1:20\n'
        '  |\n'
        '1 | task t { let x = 1 let y = 2 }\n'
        '  |                    ^^^ expected a newline or `;`\n'
        '  = help: put a newline or `;` between two statements\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'assignment_in_condition': (
        'task t {\n    let x = 1\n    if x = 1 { }\n}\n',
        'error[E0104]: unexpected `=` in a condition\n'
        ' --> bad.mk:3:10\n'
        '  |\n'
        '3 |     if x = 1 { }\n'
        '  |          ^ assigns, does not compare\n'
        '  = help: to compare, use `==`\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'stray_brace': (
        'task t { }\n}\n',
        'error[E0104]: unexpected `}`\n'
        ' --> bad.mk:2:1\n'
        '  |\n'
        '2 | }\n'
        '  | ^ no block to close\n'
        '  = help: this `}` has no matching `{`\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'unexpected_end_of_file': (
        'task t {\n    loop {\n',
        'error[E0102]: unexpected end of file\n'
        ' --> bad.mk:2:11\n'
        '  |\n'
        '2 |     loop {\n'
        '  |           ^ expected `}`\n'
        '  = help: a `{` is not closed\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'unexpected_character': (
        'task t { let x = 3 @ 4 }\n',
        'error[E0101]: unexpected character `@`\n'
        ' --> bad.mk:1:20\n'
        '  |\n'
        '1 | task t { let x = 3 @ 4 }\n'
        '  |                    ^ not part of the language\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'unterminated_string': (
        'task t {\n    print("abc)\n}\n',
        'error[E0105]: unterminated string\n'
        ' --> bad.mk:2:11\n'
        '  |\n'
        '2 |     print("abc)\n'
        '  |           ^ string starts here\n'
        '  = help: a string ends with `"` on the same line\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'bad_escape': (
        'task t { print("a\\q") }\n',
        'error[E0108]: unknown escape `\\q`\n'
        ' --> bad.mk:1:16\n'
        '  |\n'
        '1 | task t { print("a\\q") }\n'
        '  |                ^^^^^ unknown escape\n'
        '  = help: the escapes are \\n \\t \\r \\0 \\\\ \\" \\\' and \\xNN\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'literal_out_of_range': (
        'const BIG = 0x1_0000_0000_0000_0000\n',
        'error[E0401]: integer literal out of range\n'
        ' --> bad.mk:1:13\n'
        '  |\n'
        '1 | const BIG = 0x1_0000_0000_0000_0000\n'
        '  |             ^^^^^^^^^^^^^^^^^^^^^^^ does not fit in 64 bits\n'
        '  = help: a literal must fit in 64 bits (at most 0xffff_ffff_ffff_ffff)\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'misplaced_underscore': (
        'const A = 1__000\n',
        'error[E0107]: `_` must stand between two digits\n'
        ' --> bad.mk:1:11\n'
        '  |\n'
        '1 | const A = 1__000\n'
        '  |           ^^^^^^ misplaced `_`\n'
        '  = help: write for example `1_000`\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'undefined_variable': (
        'task t {\n    let a = 1\n    print(a + b)\n}\n',
        'error[E0201]: cannot find `b` in this scope\n'
        ' --> bad.mk:3:15\n'
        '  |\n'
        '3 |     print(a + b)\n'
        '  |               ^ not found\n'
        '  = help: declare it first: `let b = ...`\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'assign_undeclared': (
        'task t { total = 3 }\n',
        'error[E0201]: cannot find variable `total` in this scope\n'
        ' --> bad.mk:1:10\n'
        '  |\n'
        '1 | task t { total = 3 }\n'
        '  |          ^^^^^ not declared\n'
        '  = help: declare it first: `let total = ...`\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'unknown_function': (
        'task t { frob(1) }\n',
        'error[E0202]: cannot find function `frob`\n'
        ' --> bad.mk:1:10\n'
        '  |\n'
        '1 | task t { frob(1) }\n'
        '  |          ^^^^ not found\n'
        '  = help: define it: `fn frob(...) { ... }`\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'unknown_task': (
        'task t { spawn worker(1) }\n',
        'error[E0203]: cannot find task `worker`\n'
        ' --> bad.mk:1:16\n'
        '  |\n'
        '1 | task t { spawn worker(1) }\n'
        '  |                ^^^^^^ no such task\n'
        '  = help: `spawn` starts a task defined with `task NAME { ... }`\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'unknown_module': (
        'task t { kv.put(1, 2, 3) }\n',
        'error[E0209]: there is no module `kv` here\n'
        ' --> bad.mk:1:10\n'
        '  |\n'
        '1 | task t { kv.put(1, 2, 3) }\n'
        '  |          ^^^^^^ unknown module\n'
        '  = help: import it first: `import "kv"`\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'duplicate_function': (
        'fn f() { }\nfn f() { }\n',
        'error[E0204]: the function `f` is defined twice\n'
        ' --> bad.mk:2:4\n'
        '  |\n'
        '2 | fn f() { }\n'
        '  |    ^ defined again here\n'
        '  = help: rename one of them\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'duplicate_test': (
        'test "a" { }\ntest "a" { }\n',
        'error[E0204]: the test `a` is defined twice\n'
        ' --> bad.mk:2:6\n'
        '  |\n'
        '2 | test "a" { }\n'
        '  |      ^^^ defined again here\n'
        '  = help: rename one of them\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'test_without_a_name': (
        'test a { }\n',
        'error[E0104]: unexpected name `a`\n'
        ' --> bad.mk:1:6\n'
        '  |\n'
        '1 | test a { }\n'
        '  |      ^ expected a string\n'
        '  = help: a test is named by a string: `test "NAME" { ... }`\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'test_inside_a_block': (
        'task t {\n    test "a" { }\n}\n',
        'error[E0104]: unexpected string\n'
        ' --> bad.mk:2:10\n'
        '  |\n'
        '2 |     test "a" { }\n'
        '  |          ^^^ expected a newline or `;`\n'
        '  = help: a test block stands at the top level of a file, not inside a block\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'duplicate_parameter': (
        'fn f(a, a) { }\n',
        'error[E0205]: the parameter `a` appears twice\n'
        ' --> bad.mk:1:9\n'
        '  |\n'
        '1 | fn f(a, a) { }\n'
        '  |         ^ used again here\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'builtin_redefined': (
        'fn recv(h) { return h }\n',
        'error[E0210]: `recv` is a builtin and cannot be redefined\n'
        ' --> bad.mk:1:4\n'
        '  |\n'
        '1 | fn recv(h) { return h }\n'
        '  |    ^^^^ a builtin\n'
        '  = help: choose another name\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'assign_to_constant': (
        'const N = 3\ntask t { N = 4 }\n',
        'error[E0208]: cannot assign to the constant `N`\n'
        ' --> bad.mk:2:10\n'
        '  |\n'
        '2 | task t { N = 4 }\n'
        '  |          ^ a constant\n'
        '  = help: declare a variable with `let`\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'function_as_value': (
        'fn f() { }\ntask t { let x = f }\n',
        'error[E0211]: `f` is a function, not a value\n'
        ' --> bad.mk:2:18\n'
        '  |\n'
        '2 | task t { let x = f }\n'
        '  |                  ^ a function\n'
        '  = help: call it: `f(...)`\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'wrong_function_arity': (
        'fn add(a, b) { return a + b }\ntask t { print(add(1)) }\n',
        'error[E0301]: the function `add` takes 2 arguments but 1 argument was given\n'
        ' --> bad.mk:2:16\n'
        '  |\n'
        '2 | task t { print(add(1)) }\n'
        '  |                ^^^^^^ expected 2 arguments\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'wrong_builtin_arity': (
        'task t { let c = open() }\n',
        'error[E0301]: `open` takes 1 argument but 0 arguments were given\n'
        ' --> bad.mk:1:18\n'
        '  |\n'
        '1 | task t { let c = open() }\n'
        '  |                  ^^^^^^ expected 1 argument\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'wrong_boot_arity': (
        'task t(a, b) { }\nspawn t(1)\n',
        'error[E0301]: the task `t` takes 2 arguments but 1 argument was given\n'
        ' --> bad.mk:2:1\n'
        '  |\n'
        '2 | spawn t(1)\n'
        '  | ^^^^^^^^^^ expected 2 arguments\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'too_many_message_words': (
        'task t { send(0, 1, 2, 3, 4, 5) }\n',
        'error[E0403]: too many message words: 5 (at most 4)\n'
        ' --> bad.mk:1:30\n'
        '  |\n'
        '1 | task t { send(0, 1, 2, 3, 4, 5) }\n'
        '  |                              ^ one word too many\n'
        '  = help: a message carries at most 4 words; send more in several messages\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'more_names_than_results': (
        'task t {\n    let c = open("x")\n    let a, b, d, e, f = call(c)\n}\n',
        'error[E0304]: 5 names are bound but `call` gives 4 results\n'
        ' --> bad.mk:3:25\n'
        '  |\n'
        '3 |     let a, b, d, e, f = call(c)\n'
        '  |                         ^^^^^^^ too few results\n'
        '  = help: `call` gives the 4 words of the reply\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'several_names_from_a_function': (
        'fn f() { return 1 }\ntask t { let a, b = f() }\n',
        'error[E0304]: 2 names are bound but `f` gives one value\n'
        ' --> bad.mk:2:21\n'
        '  |\n'
        '2 | task t { let a, b = f() }\n'
        '  |                     ^^^ one value\n'
        '  = help: only a syscall gives several results (`call`, `recv`, `try ...`)\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'try_on_a_function': (
        'fn f() { return 1 }\ntask t { let e, x = try f() }\n',
        'error[E0306]: `try` applies only to syscalls\n'
        ' --> bad.mk:2:25\n'
        '  |\n'
        '2 | task t { let e, x = try f() }\n'
        '  |                         ^^^ not a syscall\n'
        '  = help: `f` is not a syscall: it cannot fail\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'no_value': (
        'task t { let x = close(3) }\n',
        'error[E0305]: `close` gives no value\n'
        ' --> bad.mk:1:18\n'
        '  |\n'
        '1 | task t { let x = close(3) }\n'
        '  |                  ^^^^^^^^ no value\n'
        '  = help: use it as a statement, or with `try` to get its status\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'string_as_integer': (
        'task t { let x = "five" + 1 }\n',
        'error[E0302]: expected an integer, found a string\n'
        ' --> bad.mk:1:18\n'
        '  |\n'
        '1 | task t { let x = "five" + 1 }\n'
        '  |                  ^^^^^^ a string\n'
        '  = help: strings may only be passed to print, assert, channel and open\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'put_str_text_not_literal': (
        'task t { let a = array(4)\n    put_str(a, 0, a) }\n',
        'error[E0303]: the text of `put_str` must be a string literal\n'
        ' --> bad.mk:2:19\n'
        '  |\n'
        '2 |     put_str(a, 0, a) }\n'
        '  |                   ^ not a string literal\n'
        '  = help: write for example `put_str(name, 0, "worker-")`\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'channel_kind_not_constant': (
        'task t { let k = MANY\n    let c = channel("x", k) }\n',
        'error[E0405]: the channel kind must be a constant expression\n'
        ' --> bad.mk:2:26\n'
        '  |\n'
        '2 |     let c = channel("x", k) }\n'
        '  |                          ^ a variable\n'
        '  = help: use ONE or MANY\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'break_outside_loop': (
        'task t {\n    if 1 { break }\n}\n',
        'error[E0307]: `break` outside of a loop\n'
        ' --> bad.mk:2:12\n'
        '  |\n'
        '2 |     if 1 { break }\n'
        '  |            ^^^^^ not in a loop\n'
        '  = help: `break` and `continue` may only be used inside `while` or `loop`\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'continue_in_function': (
        'fn f() { continue }\n',
        'error[E0307]: `continue` outside of a loop\n'
        ' --> bad.mk:1:10\n'
        '  |\n'
        '1 | fn f() { continue }\n'
        '  |          ^^^^^^^^ not in a loop\n'
        '  = help: `break` and `continue` may only be used inside `while` or `loop`\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'const_not_constant': (
        'fn f() { return 1 }\nconst A = f()\n',
        'error[E0405]: a `const` must be a constant expression\n'
        ' --> bad.mk:2:11\n'
        '  |\n'
        '2 | const A = f()\n'
        '  |           ^^^ not a constant\n'
        '  = help: a constant is computed at compile time from literals and other constants\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'const_uses_later_const': (
        'const A = B + 1\nconst B = 2\n',
        'error[E0201]: cannot find constant `B`\n'
        ' --> bad.mk:1:11\n'
        '  |\n'
        '1 | const A = B + 1\n'
        '  |           ^ not found\n'
        '  = help: a constant expression may use literals and the constants defined above it\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'const_division_by_zero': (
        'const A = 10\nconst B = A / (A - 10)\n',
        'error[E0406]: division by zero in a constant expression\n'
        ' --> bad.mk:2:11\n'
        '  |\n'
        '2 | const B = A / (A - 10)\n'
        '  |           ^^^^^^^^^^^^ divides by zero\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'boot_arg_not_constant': (
        'task t(n) { }\nspawn t(array(3))\n',
        'error[E0405]: an argument of a boot `spawn` must be a constant expression\n'
        ' --> bad.mk:2:9\n'
        '  |\n'
        '2 | spawn t(array(3))\n'
        '  |         ^^^^^^^^ not a constant\n'
        '  = help: a constant is computed at compile time from literals and other constants\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'too_many_task_params': (
        'task t(a, b, c, d, e, f, g) { }\n',
        'error[E0404]: too many parameters: a task takes at most 6\n'
        ' --> bad.mk:1:26\n'
        '  |\n'
        '1 | task t(a, b, c, d, e, f, g) { }\n'
        '  |                          ^ one too many\n'
        '  = help: pass more values through a channel or an array\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'too_many_fn_params': (
        'fn f(a, b, c, d, e, f, g, h, i) { }\n',
        'error[E0404]: too many parameters: a function takes at most 8\n'
        ' --> bad.mk:1:30\n'
        '  |\n'
        '1 | fn f(a, b, c, d, e, f, g, h, i) { }\n'
        '  |                              ^ one too many\n'
        '  = help: pass more values in an array\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'assert_reason_not_string': (
        'task t { assert(1, 2) }\n',
        'error[E0303]: the reason of `assert` must be a string literal\n'
        ' --> bad.mk:1:20\n'
        '  |\n'
        '1 | task t { assert(1, 2) }\n'
        '  |                    ^ not a string literal\n'
        '  = help: write for example `assert(n > 0, "n is positive")`\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'cannot_assign_to_call': (
        'fn f() { return 1 }\ntask t { f() = 2 }\n',
        'error[E0106]: cannot assign to this expression\n'
        ' --> bad.mk:2:10\n'
        '  |\n'
        '2 | task t { f() = 2 }\n'
        '  |          ^^^ not a variable\n'
        '  = help: only a variable or an array element `a[i]` can be assigned\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'name_expected': (
        'task t { let 5 = 3 }\n',
        'error[E0104]: expected a name after `let`, found number `5`\n'
        ' --> bad.mk:1:14\n'
        '  |\n'
        '1 | task t { let 5 = 3 }\n'
        '  |              ^ expected a name\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'several_errors': (
        'task t {\n    let a = x\n    y = 2\n    print(a, z)\n}\n',
        'error[E0201]: cannot find `x` in this scope\n'
        ' --> bad.mk:2:13\n'
        '  |\n'
        '2 |     let a = x\n'
        '  |             ^ not found\n'
        '  = help: declare it first: `let x = ...`\n'
        '\n'
        'error[E0201]: cannot find variable `y` in this scope\n'
        ' --> bad.mk:3:5\n'
        '  |\n'
        '3 |     y = 2\n'
        '  |     ^ not declared\n'
        '  = help: declare it first: `let y = ...`\n'
        '\n'
        'error[E0201]: cannot find `z` in this scope\n'
        ' --> bad.mk:4:14\n'
        '  |\n'
        '4 |     print(a, z)\n'
        '  |              ^ not found\n'
        '  = help: declare it first: `let z = ...`\n'
        '\n'
        'error: could not compile due to 3 errors\n'),
    'let_without_value': (
        'task t {\n    let x\n}\n',
        'error[E0104]: unexpected `}`\n'
        ' --> bad.mk:3:1\n'
        '  |\n'
        '3 | }\n'
        '  | ^ expected `,` or `=`\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'no_increment_operator': (
        'task t {\n    let x = 1\n    x++\n}\n',
        'error[E0103]: expected an expression after `+`\n'
        ' --> bad.mk:3:7\n'
        '  |\n'
        '3 |     x++\n'
        '  |       ^ expected an expression\n'
        '  = help: there is no `++`: write `x += 1`\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'call_without_parentheses': (
        'task t { print "x" }\n',
        'error[E0104]: unexpected string\n'
        ' --> bad.mk:1:16\n'
        '  |\n'
        '1 | task t { print "x" }\n'
        '  |                ^^^ expected a newline or `;`\n'
        '  = help: to call `print`, put its arguments in parentheses: `print(...)`\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'block_expected': (
        'task t { if 1 print(1) }\n',
        'error[E0104]: unexpected name `print`\n'
        ' --> bad.mk:1:15\n'
        '  |\n'
        '1 | task t { if 1 print(1) }\n'
        '  |               ^^^^^ expected `{`\n'
        '  = help: a block is written `{ ... }`\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'array_literal': (
        'task t { let a = [1, 2] }\n',
        'error[E0103]: expected an expression after `=`\n'
        ' --> bad.mk:1:18\n'
        '  |\n'
        '1 | task t { let a = [1, 2] }\n'
        '  |                  ^ expected an expression\n'
        '  = help: an array is made with `array(n)`\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'missing_comma': (
        'task t { print(1 2) }\n',
        'error[E0104]: unexpected number `2`\n'
        ' --> bad.mk:1:18\n'
        '  |\n'
        '1 | task t { print(1 2) }\n'
        '  |                  ^ expected `,` or `)`\n'
        '  = help: put a `,` between two arguments\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'unexpected_else': (
        'task t {\n    while 1 { }\n    else { }\n}\n',
        'error[E0104]: unexpected `else`\n'
        ' --> bad.mk:3:5\n'
        '  |\n'
        '3 |     else { }\n'
        '  |     ^^^^ no `if` before it\n'
        '  = help: `else` follows the block of an `if`\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'unclosed_bracket': (
        'task t { let a = array(2); print(a[1 }\n',
        'error[E0104]: unexpected `}`\n'
        ' --> bad.mk:1:38\n'
        '  |\n'
        '1 | task t { let a = array(2); print(a[1 }\n'
        '  |                                      ^ expected `]`\n'
        '  = help: a `[` is not closed\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'for_loop_of_another_language': (
        'task t {\n    for i in 0..10 { print(i) }\n}\n',
        'error[E0104]: `for` is not a keyword of mikro\n'
        ' --> bad.mk:2:5\n'
        '  |\n'
        '2 |     for i in 0..10 { print(i) }\n'
        '  |     ^^^ not a keyword\n'
        '  = help: loop with `while`: `let i = 0` then `while i < 10 { ... i += 1 }`\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'no_booleans': (
        'task t {\n    let b = true\n    if b { print(1) }\n}\n',
        'error[E0201]: cannot find `true` in this scope\n'
        ' --> bad.mk:2:13\n'
        '  |\n'
        '2 |     let b = true\n'
        '  |             ^^^^ not found\n'
        '  = help: there are no booleans: a condition is true when it is not '
        '0, so write `1` for `true`\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'block_comment': (
        'task t {\n    let b = 1 /* one */\n}\n',
        'error[E0104]: `/*` does not start a comment\n'
        ' --> bad.mk:2:15\n'
        '  |\n'
        '2 |     let b = 1 /* one */\n'
        '  |               ^^ not a comment\n'
        '  = help: a comment runs from `#` to the end of the line (there are no block comments)\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'line_comment': (
        '// a comment\ntask t { }\n',
        'error[E0104]: `//` does not start a comment\n'
        ' --> bad.mk:1:1\n'
        '  |\n'
        '1 | // a comment\n'
        '  | ^^ not a comment\n'
        '  = help: a comment runs from `#` to the end of the line\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'control_character_shown_escaped': (
        'task t {\n    let b = 1 \x1b[31m\n}\n',
        'error[E0101]: unexpected character `\\x1b`\n'
        ' --> bad.mk:2:15\n'
        '  |\n'
        '2 |     let b = 1 \\x1b[31m\n'
        '  |               ^^^^ not part of the language\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'invisible_character_shown_escaped': (
        'task t {\n    print("a\u202eb", c)\n}\n',
        'error[E0201]: cannot find `c` in this scope\n'
        ' --> bad.mk:2:18\n'
        '  |\n'
        '2 |     print("a\\u202eb", c)\n'
        '  |                       ^ not found\n'
        '  = help: declare it first: `let c = ...`\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'a_bad_constant_is_reported_once': (
        'const A = 1 / 0\nconst B = A + 1\ntask t(x) { print(A, B) }\nspawn t(A)\n',
        'error[E0406]: division by zero in a constant expression\n'
        ' --> bad.mk:1:11\n'
        '  |\n'
        '1 | const A = 1 / 0\n'
        '  |           ^^^^^ divides by zero\n'
        '\n'
        'error: could not compile due to 1 error\n'),
    'errors_in_the_order_of_the_source': (
        'spawn nope()\ntask t {\n    print(x)\n}\nconst C = y\n',
        'error[E0203]: cannot find task `nope`\n'
        ' --> bad.mk:1:7\n'
        '  |\n'
        '1 | spawn nope()\n'
        '  |       ^^^^ no such task\n'
        '  = help: `spawn` starts a task defined with `task NAME { ... }`\n'
        '\n'
        'error[E0201]: cannot find `x` in this scope\n'
        ' --> bad.mk:3:11\n'
        '  |\n'
        '3 |     print(x)\n'
        '  |           ^ not found\n'
        '  = help: declare it first: `let x = ...`\n'
        '\n'
        'error[E0201]: cannot find constant `y`\n'
        ' --> bad.mk:5:11\n'
        '  |\n'
        '5 | const C = y\n'
        '  |           ^ not found\n'
        '  = help: a constant expression may use literals and the constants defined above it\n'
        '\n'
        'error: could not compile due to 3 errors\n'),
}


@pytest.mark.parametrize("name", CASES)
def test_diagnostic(name):
    source, expected = CASES[name]
    assert render(source) == expected


def render_file(path: str) -> str:
    with pytest.raises(CompileError) as info:
        compile_file(path)
    return info.value.render()


def test_unreadable_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SourceReadError):       # a CompileError the CLI reports as I/O
        compile_file("missing.mk")
    assert render_file("missing.mk") == (          # nothing was compiled: no summary
        "error[E0109]: cannot read `missing.mk`: No such file or directory\n"
        " --> missing.mk\n"
        "\n")


def test_bad_utf8(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.mk").write_bytes(b'task t {\n    print("caf\xe9")\n}\n')
    assert render_file("bad.mk") == (
        "error[E0110]: the file is not valid UTF-8\n"
        " --> bad.mk:2:15\n"
        "  |\n"
        '2 |     print("caf\ufffd")\n'
        "  |               ^ byte 0xe9\n"
        "  = help: save the file as UTF-8\n"
        "\n")


def test_unknown_import():
    assert render('import "nosuch"\n') == (
        "error[E0206]: no module named `nosuch`\n"
        " --> bad.mk:1:1\n"
        "  |\n"
        '1 | import "nosuch"\n'
        "  | ^^^^^^^^^^^^^^^ not found\n"
        "  = help: looked for stdlib/nosuch.mk\n"
        "\n"
        "error: could not compile due to 1 error\n")


def test_import_cycle(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.mk").write_text('import "./b.mk"\ntask t { }\n')
    (tmp_path / "b.mk").write_text('import "./a.mk"\nfn f() { }\n')
    assert render_file("a.mk") == (
        "error[E0207]: import cycle: a.mk -> b.mk -> a.mk\n"
        " --> b.mk:1:1\n"
        "  |\n"
        '1 | import "./a.mk"\n'
        "  | ^^^^^^^^^^^^^^^ imported here\n"
        "  = help: modules may not import each other in a circle\n"
        "\n"
        "error: could not compile due to 1 error\n")


def test_errors_in_an_imported_module_and_spawn_at_its_top_level(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.mk").write_text("task t { }\nspawn t()\nfn f() { return q }\n")
    (tmp_path / "main.mk").write_text('import "./m.mk"\nspawn m.t()\nspawn m.u()\n')
    assert render_file("main.mk") == (
        "error[E0203]: cannot find task `m.u`\n"
        " --> main.mk:3:7\n"
        "  |\n"
        "3 | spawn m.u()\n"
        "  |       ^^^ no such task\n"
        "  = help: `spawn` starts a task defined with `task NAME { ... }`\n"
        "\n"
        "error[E0308]: `spawn` at the top level of a module\n"
        " --> m.mk:2:1\n"
        "  |\n"
        "2 | spawn t()\n"
        "  | ^^^^^^^^^ not in the main program\n"
        "  = help: only the main program has a boot list; the program that imports this "
        "module spawns its tasks\n"
        "\n"
        "error[E0201]: cannot find `q` in this scope\n"
        " --> m.mk:3:17\n"
        "  |\n"
        "3 | fn f() { return q }\n"
        "  |                 ^ not found\n"
        "  = help: declare it first: `let q = ...`\n"
        "\n"
        "error: could not compile due to 3 errors\n")


def test_diagnostic_fields():
    with pytest.raises(CompileError) as info:
        compile_source("task t {\n    x = 1\n}\n", "f.mk")
    (d,) = info.value.diagnostics
    assert (d.code, d.file, d.line, d.col, d.end_col) == ("E0201", "f.mk", 2, 5, 6)
    assert d.message == "cannot find variable `x` in this scope"
    assert d.label == "not declared"


@pytest.mark.parametrize("source", [
    "", "\n\n", "task", "task t", "task t {", "}", "fn", "fn f(", "fn f() {", "let", "const",
    "const X =", "spawn", "spawn t(", "import", "import 5", "task t { let x = (((( }",
    "task t { a[ }", "task t { print(\"\\x4\") }", "task t { '' }", "task t { ''' }",
    "task t { 0x }", "task t { 0b102 }", "task t { 12ab }", "\x00", "task t { try 5 }",
    "task t { let a, b = 5 }", "task t { spawn 5() }", "task t { x.y.z }",
    "task t {\n else { } }", "task t { return return }", "task t { 1 = 2 }",
])
def test_no_traceback_on_garbage(source):
    try:
        compile_source(source, "g.mk")
    except CompileError as e:
        text = e.render()
        assert text.startswith("error[E0") and "Traceback" not in text


@pytest.mark.parametrize("source, line, col", [
    ("task t {\n  let x = " + "-" * 30000 + "1\n}\n", 2, None),             # deep expression
    ("task t {\n" + "if 1 {\n" * 20000 + "}\n" * 20000 + "}\n", None, 1),   # deep blocks
    ("const A = " + "-" * 30000 + "1\n", 1, 11),                          # deep constant
])
def test_nested_too_deeply_names_where(source, line, col):
    with pytest.raises(CompileError) as info:
        compile_source(source, "deep.mk")
    (d,) = info.value.diagnostics
    assert (d.code, d.message, d.label) == ("E0402", "the program is nested too deeply",
                                          "nested too deeply here")
    assert d.line > 0 and d.col > 0                 # a place in the file, not just the file
    assert line is None or d.line == line
    assert col is None or d.col > 0 and (d.col == col or line is None)
    assert f" --> deep.mk:{d.line}:{d.col}\n" in info.value.render()


def test_a_long_line_is_shown_around_the_caret():
    source = "task t {\n    let x = " + "1 + " * 200 + "nope" + " + 1" * 200 + "\n}\n"
    text = render(source)
    shown = text.splitlines()[3]
    caret = text.splitlines()[4]
    assert shown.startswith("2 | ...") and shown.endswith("...") and len(shown) < 140
    assert shown[caret.index("^"):].startswith("nope")        # the caret is under the name
