"""AST of a `.mk` file: plain dataclasses, each with the source span it came from."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Union


@dataclass(frozen=True)
class Span:
    line: int
    col: int
    end_line: int
    end_col: int


def token_span(tok) -> Span:
    """The span of a lark token or tree meta (its positions are set for whatever lark parsed)."""
    line, col, end_line, end_col = tok.line, tok.column, tok.end_line, tok.end_column
    assert line is not None and col is not None and end_line is not None and end_col is not None
    return Span(line, col, end_line, end_col)


# -- expressions -------------------------------------------------------------------------

@dataclass
class Int:
    value: int
    span: Span


@dataclass
class Str:
    value: str
    span: Span


@dataclass
class Name:
    module: Optional[str]        # `kv` in `kv.size`, else None
    name: str
    span: Span

    @property
    def text(self) -> str:
        return f"{self.module}.{self.name}" if self.module else self.name


@dataclass
class Unary:
    op: str
    operand: "Expr"
    span: Span


@dataclass
class Binary:
    op: str
    left: "Expr"
    right: "Expr"
    span: Span
    op_span: Span


@dataclass
class Index:
    array: "Expr"
    index: "Expr"
    span: Span


@dataclass
class Call:
    callee: Name
    args: list["Expr"]
    span: Span
    spawn: bool = False          # `spawn t(args)`


@dataclass
class Try:
    call: "Expr"
    span: Span


Expr = Union[Int, Str, Name, Unary, Binary, Index, Call, Try]


# -- statements --------------------------------------------------------------------------

@dataclass
class Let:
    names: list[tuple[str, Span]]
    value: Expr
    span: Span


@dataclass
class Assign:
    target: Expr
    op: Optional[str]            # "+" for `+=`, None for `=`
    value: Expr
    span: Span


@dataclass
class If:
    cond: Expr
    then: "Block"
    orelse: Optional[Union["Block", "If"]]
    span: Span


@dataclass
class While:
    cond: Optional[Expr]         # None: `loop`
    body: "Block"
    span: Span


@dataclass
class Jump:
    kind: str                    # "break" or "continue"
    span: Span


@dataclass
class Return:
    value: Optional[Expr]
    span: Span


@dataclass
class ExprStmt:
    expr: Expr
    span: Span


Stmt = Union[Let, Assign, If, While, Jump, Return, ExprStmt]


@dataclass
class Block:
    stmts: list[Stmt]
    span: Span


# -- items -------------------------------------------------------------------------------

@dataclass
class Param:
    name: str
    span: Span


@dataclass
class TaskDef:
    name: str
    params: list[Param]
    body: Block
    span: Span
    name_span: Span
    test: bool = False          # a `test "NAME" { ... }` block: a task named `test "NAME"`


@dataclass
class FnDef:
    name: str
    params: list[Param]
    body: Block
    span: Span
    name_span: Span


@dataclass
class ConstDef:
    name: str
    value: Expr
    span: Span
    name_span: Span


@dataclass
class Import:
    path: str
    span: Span


@dataclass
class BootSpawn:
    call: Call
    span: Span


Item = Union[TaskDef, FnDef, ConstDef, Import, BootSpawn]


@dataclass
class Module:
    items: list[Item] = field(default_factory=list)
