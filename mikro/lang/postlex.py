"""Newline handling between the lexer and the LALR parser.

Newlines and `;` end statements. The parser sees them as one _SEP token, placed here:
dropped inside () and [], after a token that cannot end an expression (a binary operator,
`=`, an op=, `,`, `(`, `[`, `{`), at the start, at the end, before `}`, `)`, `]`, `else`
and `{` (no statement starts with `{`, so a block may open on the next line); repeats collapse into one; after every `}` (which always closes a block) one is
added, so that `if c { return 1 } return 2` needs nothing between the two statements.
"""
from __future__ import annotations

from lark import Token
from lark.lark import PostLex

# Tokens after which a newline continues the expression.
CONTINUES = frozenset(
    "+ - * / % & | ^ << >> >>> == != < <= > >= && || ! ~ = += -= *= /= %= &= |= ^= "
    "<<= >>= >>>= , ( [ { .".split())
NO_SEP_BEFORE = frozenset(["}", ")", "]", "else", "{"])


class Newlines(PostLex):
    always_accept = ("_NL", "SEMI")

    def __init__(self) -> None:
        self.last: Token | None = None      # the last token given to the parser
        self.history: list[Token] = []       # the last three, for syntax errors
        self.depth = 0                       # open () and [] at the last token
        self.braces = 0                      # open {} (negative: a stray `}`)

    def process(self, stream):
        self.last = None
        self.history = []
        self.braces = self.depth = 0
        depth = 0                            # open () and [] around this point
        pending: Token | None = None         # a separator waiting for the next token
        for tok in stream:
            if tok.type in ("_NL", "SEMI"):
                if tok.type == "_NL" and (depth > 0 or (self.last is not None
                                                          and self.last.value in CONTINUES)):
                    continue
                if pending is None or pending.type == "_SEP" and pending.value == "}":
                    pending = Token.new_borrow_pos("_SEP", tok.value, tok)
                continue
            if pending is not None:
                if self.last is not None and tok.value not in NO_SEP_BEFORE \
                        and self.last.value not in ("{", "(", "[", ","):
                    self._keep(pending)
                    yield pending
                pending = None
            if tok.value in ("(", "["):
                depth += 1
            elif tok.value in (")", "]"):
                depth = max(0, depth - 1)
            if (tok.type == "NAME" and tok.value == "test" and self.braces == 0 and depth == 0
                    and (self.last is None or self.last.type == "_SEP")):
                tok = Token.new_borrow_pos("TEST", tok.value, tok)   # `test "NAME" { ... }`
            if tok.value == "{":
                self.braces += 1
            elif tok.value == "}":
                self.braces -= 1
            self._keep(tok)
            self.depth = depth
            yield tok
            if tok.value == "}":
                pending = Token.new_borrow_pos("_SEP", "}", tok)

    def _keep(self, tok: Token) -> None:
        self.last = tok
        self.history = self.history[-2:] + [tok]
