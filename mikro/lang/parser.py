"""Source text -> AST (lark LALR, positions kept), with syntax errors as diagnostics."""
from __future__ import annotations

import functools

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedInput

from . import ast
from .diagnostics import CompileError, Diagnostic
from .literals import LiteralError, parse_char, parse_int, parse_string
from .postlex import Newlines
from .syntax import syntax_error


def _strict() -> bool:
    # lark's strict mode (no conflicts, no terminal collisions) needs interegular.
    try:
        import interegular  # noqa: F401
    except ImportError:
        return False
    return True


@functools.lru_cache(maxsize=1)
def _lark() -> Lark:
    return Lark.open("grammar.lark", rel_to=__file__, parser="lalr", lexer="basic",
                     propagate_positions=True, strict=_strict(), cache=True,
                     postlex=Newlines(), maybe_placeholders=True)


def parse(source: str, file: str) -> ast.Module:
    """Parse one file; raises CompileError (one syntax error) on bad input."""
    parser = _lark()
    try:
        tree = parser.parse(source)
        return _ToAst(file).transform(tree)
    except UnexpectedInput as e:
        raise CompileError([syntax_error(e, parser.options.postlex, source, file)],
                           {file: source}) from None
    except _Bad as e:
        raise CompileError([e.diag], {file: source}) from None


class _Bad(Exception):
    def __init__(self, diag: Diagnostic):
        self.diag = diag


def test_task_name(name: str) -> str:
    """The task type a `test "NAME"` block compiles to (no identifier looks like it)."""
    return f'test "{name}"'


_span = _tspan = ast.token_span


# -- tree -> AST -------------------------------------------------------------------------

class _ToAst:
    """Parse tree -> AST, bottom-up without recursion (deep expressions stay cheap)."""

    def __init__(self, file: str):
        self.file = file

    def transform(self, tree: Tree):
        done: dict[int, object] = {}
        for sub in tree.iter_subtrees():
            children = [done[id(c)] if isinstance(c, Tree) else c for c in sub.children]
            done[id(sub)] = getattr(self, sub.data)(sub.meta, children)
        return done[id(tree)]

    def _bad(self, code: str, message: str, tok: Token, help: str = "", label: str = ""):
        s = ast.token_span(tok)
        end = s.end_col if s.end_line == s.line else s.col + 1
        raise _Bad(Diagnostic(code, message, self.file, s.line, s.col, end, help, label))

    # items
    def start(self, meta, c):
        return ast.Module([x for x in c if x is not None])

    def task_def(self, meta, c):
        name, params, body = c
        return ast.TaskDef(str(name), params or [], body, _span(meta), _tspan(name))

    def test_def(self, meta, c):
        _, name, body = c
        return ast.TaskDef(test_task_name(self._string(name)), [], body, _span(meta),
                           _tspan(name), test=True)

    def fn_def(self, meta, c):
        name, params, body = c
        return ast.FnDef(str(name), params, body, _span(meta), _tspan(name))

    def params(self, meta, c):
        return [ast.Param(str(t), _tspan(t)) for t in c if t is not None]

    def const_def(self, meta, c):
        return ast.ConstDef(str(c[0]), c[1], _span(meta), _tspan(c[0]))

    def import_def(self, meta, c):
        return ast.Import(self._string(c[0]), _span(meta))

    def boot_spawn(self, meta, c):
        _, name, args = c
        call = ast.Call(name, args, _span(meta), spawn=True)
        return ast.BootSpawn(call, _span(meta))

    # statements
    def block(self, meta, c):
        return ast.Block([s for s in c if s is not None], _span(meta))

    def let_stmt(self, meta, c):
        names = [(str(t), _tspan(t)) for t in c[:-1]]
        return ast.Let(names, c[-1], _span(meta))

    def assign(self, meta, c):
        return ast.Assign(self._target(c[0]), None, c[1], _span(meta))

    def aug_assign(self, meta, c):
        return ast.Assign(self._target(c[0]), str(c[1])[:-1], c[2], _span(meta))

    def _target(self, e):
        if isinstance(e, (ast.Index,)) or isinstance(e, ast.Name) and e.module is None:
            return e
        s = e.span
        raise _Bad(Diagnostic("E0106", "cannot assign to this expression", self.file, s.line,
                              s.col, s.end_col if s.end_line == s.line else s.col + 1,
                              "only a variable or an array element `a[i]` can be assigned",
                              "not a variable"))

    def if_stmt(self, meta, c):
        return ast.If(c[0], c[1], c[2], _span(meta))

    def while_stmt(self, meta, c):
        return ast.While(c[0], c[1], _span(meta))

    def loop_stmt(self, meta, c):
        return ast.While(None, c[0], _span(meta))

    def break_stmt(self, meta, c):
        return ast.Jump("break", _tspan(c[0]))

    def continue_stmt(self, meta, c):
        return ast.Jump("continue", _tspan(c[0]))

    def return_stmt(self, meta, c):
        return ast.Return(c[1], _span(meta))

    def expr_stmt(self, meta, c):
        return ast.ExprStmt(c[0], _span(meta))

    # expressions
    def binary(self, meta, c):
        left, op, right = c
        return ast.Binary(str(op), left, right, _span(meta), _tspan(op))

    def unary_op(self, meta, c):
        op, operand = c
        return ast.Unary(str(op), operand, _span(meta))

    def try_expr(self, meta, c):
        return ast.Try(c[1], _span(meta))

    def index(self, meta, c):
        return ast.Index(c[0], c[1], _span(meta))

    def int_lit(self, meta, c):
        tok = c[0]
        try:
            return ast.Int(parse_int(str(tok)), _tspan(tok))
        except LiteralError as e:
            self._bad(e.code, e.message, tok, e.help, e.label)

    def char_lit(self, meta, c):
        tok = c[0]
        try:
            return ast.Int(parse_char(str(tok)), _tspan(tok))
        except LiteralError as e:
            self._bad(e.code, e.message, tok, e.help, e.label)

    def str_lit(self, meta, c):
        return ast.Str(self._string(c[0]), _tspan(c[0]))

    def _string(self, tok):
        try:
            return parse_string(str(tok))
        except LiteralError as e:
            self._bad(e.code, e.message, tok, e.help, e.label)

    def qualname(self, meta, c):
        if c[1] is None:
            return ast.Name(None, str(c[0]), _span(meta))
        return ast.Name(str(c[0]), str(c[1]), _span(meta))

    def call(self, meta, c):
        return ast.Call(c[0], c[1], _span(meta))

    def spawn_call(self, meta, c):
        return ast.Call(c[1], c[2], _span(meta), spawn=True)

    def args(self, meta, c):
        return [a for a in c if a is not None] if c != [None] else []
