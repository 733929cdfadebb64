"""Syntax errors: a lark error, the tokens around it -> one diagnostic with a helpful text.

The set of tokens the parser would accept is computed exactly (lark's interactive parser),
then classified: a missing expression after an operator, an unclosed bracket, a stray `}`,
`=` in a condition, two statements on one line, ...
"""
from __future__ import annotations

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput

from .ast import token_span
from .diagnostics import Diagnostic, show
from .postlex import CONTINUES

EXPR_START = {"INT", "CHAR", "STRING", "NAME", "LPAR", "MINUS", "BANG", "TILDE", "TRY", "SPAWN"}
STMT_START = EXPR_START | {"LET", "IF", "WHILE", "LOOP", "RETURN", "BREAK", "CONTINUE",
                           "TASK", "FN", "CONST", "IMPORT"}
# Tokens that may follow any expression: noise when saying what was expected.
AFTER_EXPR = {"AMP", "ANDAND", "CARET", "EQ", "GE", "GT", "LE", "LT", "MINUS", "NE", "OROR",
              "PERCENT", "PIPE", "PLUS", "SHL", "SHR", "SLASH", "STAR", "USHR", "LSQB", "LPAR",
              "AUGOP", "EQUAL", "DOT"}
DESCRIBE = {"_SEP": "a newline or `;`", "$END": "end of file", "RBRACE": "`}`",
            "LBRACE": "`{`", "RPAR": "`)`", "LPAR": "`(`", "RSQB": "`]`", "COMMA": "`,`",
            "NAME": "a name", "INT": "a number", "STRING": "a string", "EQUAL": "`=`",
            "ELSE": "`else`"}


def what(tok: Token | None) -> str:
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


def expected_text(expected: set[str]) -> str:
    if len(expected & EXPR_START) >= 3:
        return "expected an expression"
    names = sorted(DESCRIBE[t] for t in expected if t in DESCRIBE)
    if 0 < len(names) <= 3 and len(names) == len(expected):
        return "expected " + " or ".join(names)
    return ""


def _accepted(e: UnexpectedInput) -> set[str]:
    ip = getattr(e, "interactive_parser", None)
    try:
        expected = set(ip.accepts()) if ip is not None else set(getattr(e, "expected", ()))
    except Exception:                     # only a hint: fall back to lark's own set
        expected = set(getattr(e, "expected", ()) or ())
    if expected & (AFTER_EXPR - {"LPAR", "EQUAL"}):
        expected -= AFTER_EXPR
    return expected


def syntax_error(e: UnexpectedInput, lexer_state, source: str, file: str) -> Diagnostic:
    """lexer_state: the postlexer (history of tokens, bracket and brace depth)."""
    if isinstance(e, UnexpectedCharacters):
        pos = e.pos_in_stream or 0
        ch = source[pos] if pos < len(source) else ""
        line, col = e.line, e.column
        if ch == '"':
            return Diagnostic("E0105", "unterminated string", file, line, col, col + 1,
                              "a string ends with `\"` on the same line", "string starts here")
        if ch == "'":
            return Diagnostic("E0105", "unterminated character literal", file, line, col,
                              col + 1, "a character literal ends with `'` on the same line",
                              "starts here")
        return Diagnostic("E0101", f"unexpected character `{show(ch)}`", file, line, col, col + 1,
                          "", "not part of the language")
    tok = getattr(e, "token", None)
    if tok is not None and tok.type == "$END":
        tok = None
    expected = _accepted(e)
    history = lexer_state.history
    # The token before the error (the postlexer keeps the last ones it handed over).
    before = history[:-1] if tok is not None and history and history[-1] is tok else history
    prev = before[-1] if before else None
    prev2 = before[-2] if len(before) > 1 else None
    comment = _not_a_comment(source, file, prev, tok)
    if comment is not None:
        return comment
    foreign = _foreign(file, prev, tok, expected)
    if foreign is not None:
        return foreign

    def at(t: Token, after: bool = False):
        s = token_span(t)
        if after:
            return s.end_line, s.end_col, s.end_col + 1
        return s.line, s.col, s.end_col if s.end_line == s.line else s.col + 1

    if prev is not None and "INT" in expected and prev.value in CONTINUES \
            and prev.value not in ("{", ".") and (tok is None or tok.type not in EXPR_START):
        help = ""
        if tok is not None and tok.line == prev.end_line and tok.type != "_SEP":
            line, col, end = at(tok)
            if tok.value == prev.value and tok.value in "+-" and prev2 is not None:
                help = f"there is no `{tok.value * 2}`: write `x {tok.value}= 1`"
            elif tok.type == "LSQB":
                help = "an array is made with `array(n)`"
        else:
            line, col, end = at(prev, after=True)
            if tok is not None:
                help = f"a line that ends with `{prev.value}` goes on into the next line"
        return Diagnostic("E0103", f"expected an expression after `{prev.value}`", file, line,
                          col, end, help, "expected an expression")
    if tok is None:
        line, col, end = at(prev, after=True) if prev is not None else (1, 1, 2)
        if lexer_state.braces > 0:
            return Diagnostic("E0102", "unexpected end of file", file, line, col, end,
                              "a `{` is not closed", "expected `}`")
        return Diagnostic("E0102", "unexpected end of file", file, line, col, end, "",
                          expected_text(expected))
    if tok.type == "_SEP":
        line, col, end = at(tok) if tok.value == ";" or prev is None else at(prev, after=True)
        return Diagnostic("E0104", f"unexpected {what(tok)}", file, line, col, end, "",
                          expected_text(expected))
    line, col, end = at(tok)
    message, label, help = _classify(tok, prev, expected, lexer_state)
    return Diagnostic("E0104", message, file, line, col, end, help, label)


def _not_a_comment(source: str, file: str, *toks: Token | None) -> Diagnostic | None:
    """`//` or `/*` where the error is: a comment written as in C."""
    for t in toks:
        if t is None or t.type != "SLASH":
            continue
        start, end = t.start_pos or 0, t.end_pos or 0
        if source[end:end + 1] in ("/", "*"):
            two = source[start:end + 1]
            s = token_span(t)
            return Diagnostic("E0104", f"`{two}` does not start a comment", file, s.line,
                              s.col, s.col + 2,
                              "a comment runs from `#` to the end of the line"
                              + (" (there are no block comments)" if two == "/*" else ""),
                              "not a comment")
    return None


# keywords of other languages -> what to write in mikro
FOREIGN = {
    "for": "loop with `while`: `let i = 0` then `while i < 10 { ... i += 1 }`",
    "var": "declare a variable with `let`",
    "def": "define a function with `fn NAME(params) { ... }`",
    "func": "define a function with `fn NAME(params) { ... }`",
    "function": "define a function with `fn NAME(params) { ... }`",
}


def _foreign(file: str, prev: Token | None, tok: Token | None, expected: set[str]):
    """A keyword of another language where a statement or an item starts."""
    if tok is not None and tok.type == "NAME" and tok.value in FOREIGN and "NAME" not in expected:
        t = tok
    elif prev is not None and prev.type == "NAME" and prev.value in FOREIGN and "_SEP" in expected \
            and tok is not None and tok.type != "_SEP" and tok.line == prev.line:
        t = prev                            # `for i ...`: `for` was read as an expression
    else:
        return None
    s = token_span(t)
    return Diagnostic("E0104", f"`{t.value}` is not a keyword of mikro", file, s.line, s.col,
                      s.end_col, FOREIGN[t.value], "not a keyword")


def _classify(tok: Token, prev: Token | None, expected: set[str], lexer_state):
    """(message, label, help) for an unexpected token."""
    unexpected = f"unexpected {what(tok)}"
    if expected == {"NAME"}:
        after = f" after `{prev.value}`" if prev is not None else ""
        return f"expected a name{after}, found {what(tok)}", "expected a name", ""
    if tok.type == "RBRACE" and lexer_state.braces < 0:
        return unexpected, "no block to close", "this `}` has no matching `{`"
    if tok.type == "RBRACE" and lexer_state.depth > 0:
        closing = "`)`" if "RPAR" in expected else "`]`" if "RSQB" in expected else "`)` or `]`"
        opening = "`(`" if closing == "`)`" else "`[`"
        return unexpected, f"expected {closing}", f"a {opening} is not closed"
    if tok.type == "EQUAL" and "LBRACE" in expected:
        return unexpected + " in a condition", "assigns, does not compare", "to compare, use `==`"
    if tok.type == "ELSE":
        return unexpected, "no `if` before it", "`else` follows the block of an `if`"
    if lexer_state.depth > 0 and "COMMA" in expected:
        closing = "`)`" if "RPAR" in expected else "`]`" if "RSQB" in expected else ""
        label = "expected `,`" + (f" or {closing}" if closing else "")
        return unexpected, label, "put a `,` between two arguments" if tok.type in EXPR_START else ""
    if prev is not None and prev.type == "NAME" and prev.value == "test" and tok.type == "STRING" \
            and lexer_state.braces > 0:
        return unexpected, "expected a newline or `;`", \
            "a test block stands at the top level of a file, not inside a block"
    if "_SEP" in expected and tok.type in STMT_START:
        if prev is not None and prev.type == "NAME" and tok.type in ("STRING", "INT", "NAME") \
                and tok.line == prev.line:
            return unexpected, "expected a newline or `;`", \
                f"to call `{prev.value}`, put its arguments in parentheses: `{prev.value}(...)`"
        return unexpected, "expected a newline or `;`", "put a newline or `;` between two statements"
    if expected == {"LBRACE"}:
        return unexpected, "expected `{`", "a block is written `{ ... }`"
    if prev is not None and prev.type == "TEST":
        return unexpected, "expected a string", 'a test is named by a string: `test "NAME" { ... }`'
    return unexpected, expected_text(expected), ""
