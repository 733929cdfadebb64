"""Source text -> AST (lark LALR, positions kept), with syntax errors as diagnostics."""
from __future__ import annotations

import functools

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput

from . import ast
from .diagnostics import CompileError, Diagnostic
from .literals import LiteralError, parse_char, parse_int, parse_string
from .postlex import CONTINUES, Newlines


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
        raise CompileError([_syntax(e, parser.options.postlex.history, parser.options.postlex.depth,
                                   source, file)],
                           {file: source}) from None
    except _Bad as e:
        raise CompileError([e.diag], {file: source}) from None


class _Bad(Exception):
    def __init__(self, diag: Diagnostic):
        self.diag = diag


def _span(meta) -> ast.Span:
    return ast.Span(meta.line, meta.column, meta.end_line, meta.end_column)


def _tspan(tok: Token) -> ast.Span:
    return ast.Span(tok.line, tok.column, tok.end_line, tok.end_column)


# -- syntax errors -------------------------------------------------------------------------

EXPR_START = {"INT", "CHAR", "STRING", "NAME", "LPAR", "MINUS", "BANG", "TILDE", "TRY", "SPAWN"}
_DESCRIBE = {"_SEP": "end of line", "$END": "end of file", "RBRACE": "`}`", "LBRACE": "`{`",
             "RPAR": "`)`", "LPAR": "`(`", "RSQB": "`]`", "LSQB": "`[`", "COMMA": "`,`",
             "NAME": "a name", "INT": "a number", "STRING": "a string", "CHAR": "a character",
             "EQUAL": "`=`", "DOT": "`.`"}


def _what(tok) -> str:
    if tok is None or tok.type == "$END":
        return "end of file"
    if tok.type == "_SEP":
        return "`;`" if tok.value == ";" else "end of line"
    if tok.type == "STRING":
        return "string"
    if tok.type in ("NAME", "INT", "CHAR"):
        kind = {"NAME": "name", "INT": "number", "CHAR": "character"}[tok.type]
        return f"{kind} `{tok.value}`"
    return f"`{tok.value}`"


def _after(tok: Token) -> tuple[int, int]:
    return tok.end_line, tok.end_column


def _syntax(e: UnexpectedInput, history: list, depth: int, source: str,
            file: str) -> Diagnostic:
    if isinstance(e, UnexpectedCharacters):
        ch = source[e.pos_in_stream] if e.pos_in_stream < len(source) else ""
        line, col = e.line, e.column
        if ch == '"':
            return Diagnostic("E0105", "unterminated string", file, line, col, col + 1,
                              "a string ends with `\"` on the same line", "string starts here")
        if ch == "'":
            return Diagnostic("E0105", "unterminated character literal", file, line, col,
                              col + 1, "a character literal ends with `'` on the same line",
                              "starts here")
        return Diagnostic("E0101", f"unexpected character `{ch}`", file, line, col, col + 1,
                          "", "not part of the language")
    tok = getattr(e, "token", None)
    if isinstance(e, UnexpectedEOF) or tok is None or tok.type == "$END":
        tok = None
    expected = set(getattr(e, "expected", ()) or ())
    # The token before the error (the postlexer keeps the last two it handed over).
    if tok is not None and history and history[-1] is tok:
        prev = history[-2] if len(history) > 1 else None
    else:
        prev = history[-1] if history else None
    if prev is not None and expected & EXPR_START and prev.value in CONTINUES \
            and prev.value not in ("{", ".") and (tok is None or tok.type not in EXPR_START):
        help = ""
        if tok is not None and tok.line == prev.end_line and tok.type != "_SEP":
            line, col = tok.line, tok.column
            end = tok.end_column if tok.end_line == tok.line else col + 1
        else:
            (line, col), end = _after(prev), _after(prev)[1] + 1
            if tok is not None:
                help = f"a line that ends with `{prev.value}` goes on into the next line"
        return Diagnostic("E0103", f"expected an expression after `{prev.value}`", file, line,
                          col, end, help, "expected an expression")
    if tok is None:
        line, col = _after(prev) if prev is not None else (1, 1)
        closing = "RBRACE" in expected
        return Diagnostic("E0102", "unexpected end of file", file, line, col, col + 1,
                          "a `{` is not closed" if closing else "",
                          "expected `}`" if closing else _expected_text(expected))
    if tok.type == "_SEP":
        if tok.value == ";":
            line, col, end = tok.line, tok.column, tok.column + 1
        else:
            line, col = _after(prev) if prev is not None else (tok.line, tok.column)
            end = col + 1
        return Diagnostic("E0104", f"unexpected {_what(tok)}", file, line, col, end,
                          _continue_help(expected), _expected_text(expected))
    end = tok.end_column if tok.end_line == tok.line else tok.column + 1
    message, label, help = _classify(tok, prev, expected, depth)
    return Diagnostic("E0104", message, file, tok.line, tok.column, end, help, label)


def _expected_text(expected: set[str]) -> str:
    if len(expected & EXPR_START) >= 3 and len(expected - EXPR_START) <= 2:
        return "expected an expression"
    names = sorted(_DESCRIBE.get(t, "") for t in expected if _DESCRIBE.get(t))
    if 0 < len(names) <= 3:
        return "expected " + " or ".join(names)
    return ""


def _continue_help(expected: set[str]) -> str:
    if "LBRACE" in expected:
        return "a block `{ ... }` must start on the same line"
    return ""


def _classify(tok: Token, prev: Token | None, expected: set[str], depth: int):
    """(message, label, help) for an unexpected token."""
    what = f"unexpected {_what(tok)}"
    if expected == {"NAME"}:
        after = f" after `{prev.value}`" if prev is not None else ""
        return f"expected a name{after}, found {_what(tok)}", "expected a name", ""
    if tok.type == "RBRACE" and depth > 0:
        closing = "`)`" if "RPAR" in expected else "`]`" if "RSQB" in expected else "`)` or `]`"
        return what, f"expected {closing}", f"a {'`(`' if closing == '`)`' else '`[`'} is not closed"
    if tok.type == "EQUAL" and "LBRACE" in expected:
        return what + " in a condition", "assigns, does not compare", "to compare, use `==`"
    if tok.type == "RBRACE" and "RBRACE" not in expected:
        return what, "no block to close", "this `}` has no matching `{`"
    if tok.type == "ELSE":
        return what, "no `if` before it", "`else` follows the block of an `if`"
    if depth > 0 and "COMMA" in expected:
        closing = "`)`" if "RPAR" in expected else "`]`" if "RSQB" in expected else ""
        label = "expected `,`" + (f" or {closing}" if closing else "")
        return what, label, "put a `,` between two arguments" if tok.type in EXPR_START else ""
    if "_SEP" in expected and tok.type in EXPR_START | {"LET", "IF", "WHILE", "LOOP", "RETURN",
                                                         "BREAK", "CONTINUE", "TASK", "FN",
                                                         "CONST", "IMPORT"}:
        return what, "expected a newline or `;`", "put a newline or `;` between two statements"
    if "LBRACE" in expected and len(expected) <= 3:
        return what, "expected `{`", "a block is written `{ ... }`"
    return what, _expected_text(expected), ""


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
        end = tok.end_column if tok.end_line == tok.line else tok.column + 1
        raise _Bad(Diagnostic(code, message, self.file, tok.line, tok.column, end, help, label))

    # items
    def start(self, meta, c):
        return ast.Module([x for x in c if x is not None])

    def task_def(self, meta, c):
        name, params, body = c
        return ast.TaskDef(str(name), params or [], body, _span(meta), _tspan(name))

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
