"""Trace charts: an IPC trace (mikro.vm.trace) as a listing, a Mermaid diagram or an SVG.

A trace is a flat list of events in the order they happened; read raw, the numbers (task ids,
string indices, handle bits) hide who talked to whom. These views name every task
(`echo#1`, `host:disk#4`, `boot`) and say each event in words:

- `format_trace`: one line per event, for a terminal or a test's failure message.
- `mermaid` and `svg`: a sequence chart, one lifeline per task, time running down. An arrow
  is drawn when a message is *taken* (the `recv` event: the moment the words move), not when
  the sender starts waiting, so each message is one arrow from sender to receiver. Replies and
  opens are dashed, spawns come from the parent (boot for the boot list), a dropped call is a
  dashed arrow ending in a cross. A send, call or push that nothing ever takes is the one
  offer drawn at its own moment: a solid arrow ending in a cross ("not taken"), which is
  what a deadlock looks like. Channels, exits and faults are notes over the task. A
  supervisor's `monitor` is a dashed arrow to the task it watches, that task's `down` a
  signal back when it ends, and a `restart` an arrow like a spawn's to the next generation,
  which has a lifeline of its own (`worker#4.1`).

Pure functions over events and the Program (for task type names and strings); no backend.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from .vm import abi
from .vm.abi import BITS
from .vm.image import Program
from .vm.result import label
from .vm.trace import TIMEOUT_WAITS, Event

__all__ = ["task_names", "format_trace", "mermaid", "mermaid_text", "svg", "Step", "chart_steps"]

BOOT = 0                  # the task id of the boot list in spawn events
HOST = abi.HOST_TYPE      # a spawn's task type for a host task
CHANNEL_KINDS = {abi.ONE: "ONE", abi.MANY: "MANY"}
OFFERS = ("send", "call", "push")       # events where a task starts waiting for a taker
PEER_IS_A_TASK = ("spawn", "open", "send", "call", "recv", "reply", "push", "close", "move",
                  "monitor", "down", "restart")


# -- names and small formats ------------------------------------------------------------------

def task_names(events: list[Event], program: Program | None) -> dict[int, str]:
    """Task id -> display name: `TYPE#ID` for a spawned task, `host:CHANNEL#ID` for a host
    task (named by the channel it creates right after its spawn), `boot` for id 0, and
    `task#ID` for an id the events use without spawning it (a trace cut short)."""
    names = {BOOT: "boot"}
    unnamed_hosts = set()
    for e in events:
        if e.kind == "spawn" and e.a == HOST:
            names[e.peer] = f"host#{e.peer}"
            unnamed_hosts.add(e.peer)
        elif e.kind == "spawn":
            names[e.peer] = f"{_task_type(program, e.a)}#{e.peer}"
        elif e.kind == "restart":         # the next generation of a task: `worker#2.1`
            names[e.peer] = label(names.get(e.a, "task#").split("#")[0], e.peer)
        elif e.kind == "channel" and e.task in unnamed_hosts:
            names[e.task] = f"host:{_string(program, e.a)}#{e.task}"
            unnamed_hosts.discard(e.task)
    for e in events:
        names.setdefault(e.task, f"task#{e.task}")
        if e.peer and e.kind in PEER_IS_A_TASK:
            names.setdefault(e.peer, f"task#{e.peer}")
    return names


def _task_type(program: Program | None, ttype: int) -> str:
    if program is not None and 0 <= ttype < len(program.tasks):
        return program.tasks[ttype].name
    return "task"


def _string(program: Program | None, index: int) -> str:
    if program is not None and 0 <= index < len(program.strings):
        return program.strings[index]
    return f"S[{index}]"


def _name(program: Program | None, e: Event) -> str:
    """The name of a `channel` or `open` event: a string of the program, or the bytes of a
    name built at run time that none is (its first 32 in the event, `...` for the rest)."""
    if e.a != -1 or not e.n:
        return _string(program, e.a)
    shown = abi.unpack_name(e.words, min(e.n, 8 * abi.MSG_WORDS))
    return shown.decode("utf-8", "replace") + ("..." if e.n > len(shown) else "")


def _quoted(text: str) -> str:
    """A channel name in double quotes; newlines, quotes and control characters escaped so
    a name never breaks a line or a label."""
    return json.dumps(text, ensure_ascii=False)


def _handle(h: int) -> str:
    """`ch3` for a chandle, `m<slot>.<generation>` for an mhandle (abi.mhandle_parts)."""
    if abi.is_chandle(h):
        return f"ch{h}"
    if abi.is_mhandle(h):
        slot, gen = abi.mhandle_parts(h)
        return f"m{slot}.{gen}"
    if abi.SEG_TAG <= h < 2 * abi.SEG_TAG:
        return f"seg{h & (abi.SEG_SLOTS - 1)}.{h >> abi.SEG_GEN_SHIFT & abi.GEN_MASK}"
    return str(h)


def _rights(rights: int) -> str:
    return {abi.RO: "RO", abi.RW: "RW"}.get(rights, f"rights {rights}")


def _revoke(e: Event, peer: str) -> str:
    """A revoke's effect: the creator took its segment back, or the borrower gave it back."""
    if e.a == 0:
        return f"{_handle(e.handle)} from {peer}"
    return f"{_handle(e.handle)} given back" + (f" to {peer}" if peer else "")


def _words(words: tuple[int, ...]) -> str:
    """Message words without the trailing zero words (most messages use one or two), keeping
    at least one: `[0]`, `[1 0 100]`."""
    kept = list(words)
    while len(kept) > 1 and kept[-1] == 0:
        kept.pop()
    return "[" + " ".join(str(w) for w in kept) + "]"


def _payload(e: Event) -> str:
    """The words of a message, and the length of a long message's buffer."""
    return _words(e.words) + (f" +{e.n} words" if e.n else "")


def _spawn_args(e: Event, program: Program | None) -> str:
    """`(1, 100)`: the arguments the task type takes (its parameter count, at most the four
    the event keeps); all four words when the type is unknown."""
    if program is not None and 0 <= e.a < len(program.tasks):
        count = min(program.tasks[e.a].nparams, len(e.words))
    else:
        count = len(e.words)
    return "(" + ", ".join(str(w) for w in e.words[:count]) + ")"


def _left_out(count: int) -> str:
    return f"... {count} more event{'s' if count != 1 else ''} not shown"


# -- who offered what: matches each recv with the send, call or push it took ----------------

@dataclass(frozen=True)
class _Flow:
    origin: dict[int, str]      # recv event index -> "send", "call" or "push"
    taken: frozenset[int]       # indices of offers some recv took


def _flow(events: list[Event]) -> _Flow:
    """A task waits after its offer until it is taken, so the offer a recv takes is the last
    offer of the recv's peer."""
    waiting: dict[int, int] = {}
    origin: dict[int, str] = {}
    taken = set()
    for i, e in enumerate(events):
        if e.kind in OFFERS:
            waiting[e.task] = i
        elif e.kind == "recv":
            offer = waiting.pop(e.peer, None)
            if offer is None:       # a trace built by hand, or cut before the offer
                origin[i] = "call" if e.a else "send"
            else:
                origin[i] = events[offer].kind
                taken.add(offer)
    return _Flow(origin, frozenset(taken))


# -- the listing ------------------------------------------------------------------------------

def format_trace(events: list[Event], program: Program | None, limit: int | None = None) -> str:
    """One line per event: time (fuel used), task, kind, and what it did in words, e.g.
    `  12  client#2  call     ch0 -> echo#1  [3]`. With `limit`, the first `limit` events
    and a last line saying how many were left out."""
    names = task_names(events, program)
    flow = _flow(events)
    shown = events if limit is None else events[:max(limit, 0)]
    rows = [(str(e.time), names[e.task], e.kind, _describe(i, e, names, program, flow))
            for i, e in enumerate(shown)]
    widths = [max((len(row[c]) for row in rows), default=0) for c in range(3)]
    lines = [f"{t:>{widths[0]}}  {task:<{widths[1]}}  {kind:<{widths[2]}}  {what}".rstrip()
             for t, task, kind, what in rows]
    if len(shown) < len(events):
        lines.append(_left_out(len(events) - len(shown)))
    return "\n".join(lines)


def _describe(i: int, e: Event, names: dict[int, str], program: Program | None,
              flow: _Flow) -> str:
    """What event e did, in words (the trace.DOCS meaning of its fields)."""
    peer = names.get(e.peer, "") if e.peer else ""      # peer 0 is "nobody", not boot
    kind, h, ws = e.kind, _handle(e.handle), _payload(e)
    if kind == "spawn":
        if e.a == HOST:
            return f"{peer} (host task)"
        return f"{peer} {_spawn_args(e, program)}"
    if kind == "channel":
        return f"{_quoted(_name(program, e))} {_channel_kind(e.b)} as {h}"
    if kind == "open":
        conn = f" (conn {e.b})" if e.b else ""
        return f"{_quoted(_name(program, e))} as {h} -> {peer}{conn}"
    if kind == "move":
        return f"{h} <- {peer} (its {_handle(e.a)})"
    if kind == "pair":
        return f"{h} and {_handle(e.a)}"
    if kind in ("send", "call"):
        return f"{h} -> {peer or '(nobody yet)'}  {ws}"
    if kind == "push":
        return f"{h} conn {e.a} -> {peer}  {ws}"
    if kind == "recv":
        return f"{h} <- {peer}{_recv_notes(e, flow.origin.get(i))}  {ws}"
    if kind == "reply":
        return f"{h} -> {peer or '(nobody waits)'}  {ws}"
    if kind == "close":
        return f"{h} (fails the call of {peer})" if e.peer else h
    if kind == "exit":
        return str(e.a)
    if kind == "notify":
        return f"{h} -> {peer}  bits {e.a}"
    if kind == "timeout":
        return _timeout(e, h)
    if kind == "select":
        return "BITS" if e.a == BITS else str(e.a)
    if kind == "timer":
        return f"tick {e.a}  bits {e.b}"
    if kind in ("monitor", "down"):
        return f"-> {peer}  bits {e.a}"
    if kind == "restart":
        return f"{names.get(e.a, e.a)} as {peer}"
    if kind == "grant":
        return f"{h} -> {peer}  {_rights(e.a)} {e.b} words as {_handle(e.words[0])}"
    if kind == "revoke":
        return _revoke(e, peer)
    return ""


def _timeout(e: Event, h: str) -> str:
    """`deadline 50 on 3`: which wait a deadline ended, and on which handle."""
    wait = TIMEOUT_WAITS[e.b] if 0 <= e.b < len(TIMEOUT_WAITS) else f"wait {e.b}"
    if wait == "sleep":
        return f"sleep until {e.a}"
    prefix = "" if wait in ("recv", "wait") else wait + " "
    on = "" if wait in ("wait", "open", "select") else f" on {h}"
    return f"{prefix}deadline {e.a}{on}"


def _channel_kind(kind: int) -> str:
    return CHANNEL_KINDS.get(kind, f"kind {kind}")


def _recv_notes(e: Event, origin: str | None) -> str:
    notes = []
    if e.b:
        notes.append(f"conn {e.b}")
    if origin == "push":
        notes.append("push")
    if e.a:
        notes.append("waits for reply")
    return f" ({', '.join(notes)})" if notes else ""


# -- chart steps: what both charts draw -------------------------------------------------------

ARROWS = ("message", "reply", "spawn", "open", "dropped", "lost", "signal", "move")
NOTES = ("note", "exit", "fault")


@dataclass(frozen=True)
class Step:
    """One row of a chart: an arrow from src to dst (`line` in ARROWS), or a note over src
    (`line` in NOTES, dst == src). `index` is the event's position in the trace."""
    index: int
    time: int
    src: int
    dst: int
    line: str
    label: str


def chart_steps(events: list[Event], program: Program | None,
                limit: int | None = None) -> tuple[list[Step], int]:
    """The rows of a chart of the first `limit` events (all with None), and how many events
    were left out. Offers that are taken draw nothing: their recv draws the arrow."""
    flow = _flow(events)
    shown = events if limit is None else events[:max(limit, 0)]
    steps = [s for i, e in enumerate(shown) if (s := _step(i, e, program, flow)) is not None]
    return steps, len(events) - len(shown)


def _step(i: int, e: Event, program: Program | None, flow: _Flow) -> Step | None:
    def arrow(src: int, dst: int, line: str, label: str) -> Step:
        return Step(i, e.time, src, dst, line, label)

    def note(label: str, line: str = "note") -> Step:
        return Step(i, e.time, e.task, e.task, line, label)

    kind, ws = e.kind, _payload(e)
    if kind == "spawn":
        args = "" if e.a == HOST else " " + _spawn_args(e, program)
        return arrow(e.task, e.peer, "spawn", "spawn" + (" host" if e.a == HOST else args))
    if kind == "channel":
        return note(f"channel {_quoted(_name(program, e))} {_channel_kind(e.b)}")
    if kind == "open":
        label = f"open {_quoted(_name(program, e))}"
        return arrow(e.task, e.peer, "open", label) if e.peer else note(label)
    if kind in OFFERS:
        if i in flow.taken:
            return None
        if e.peer:
            return arrow(e.task, e.peer, "lost", f"{kind} {ws} (not taken)")
        return note(f"{kind} {_handle(e.handle)} {ws}: nobody there")
    if kind == "recv":
        return arrow(e.peer, e.task, "message", f"{flow.origin.get(i, 'send')} {ws}")
    if kind == "reply":
        if e.peer:
            return arrow(e.task, e.peer, "reply", f"reply {ws}")
        return note(f"reply {ws}: nobody waits")
    if kind == "close":
        if e.peer:
            return arrow(e.task, e.peer, "dropped", "dropped")
        return note(f"close {_handle(e.handle)}")
    if kind == "exit":
        return note(f"exit {e.a}", "exit")
    if kind == "fault":
        return note("fault", "fault")
    if kind == "notify":
        return arrow(e.task, e.peer, "signal", f"notify {e.a}")
    if kind == "timeout":
        wait = TIMEOUT_WAITS[e.b] if 4 <= e.b < len(TIMEOUT_WAITS) else ""
        return note(f"{'sleep ends' if e.b == 1 else (wait + ' timeout').lstrip()} at {e.a}")
    if kind == "timer":
        return note(f"timer {e.b} at {e.a}")
    if kind == "move":
        return arrow(e.peer, e.task, "move", f"move {_handle(e.a)} as {_handle(e.handle)}")
    if kind == "pair":
        return note(f"pair {_handle(e.handle)} {_handle(e.a)}")
    if kind == "monitor":
        return arrow(e.task, e.peer, "open", f"monitor {e.a}")
    if kind == "down":
        return arrow(e.task, e.peer, "signal", f"down {e.a}")
    if kind == "restart":
        return arrow(e.task, e.peer, "spawn", "restart")
    if kind == "select":
        return note(f"select: {'BITS' if e.a == BITS else e.a}")
    if kind == "grant":
        return arrow(e.task, e.peer, "signal", f"grant {_rights(e.a)} {e.b} words")
    if kind == "revoke":
        if e.peer:
            return arrow(e.task, e.peer, "signal", "revoke" if e.a == 0 else "give back")
        return note("give back")
    return note(kind)


def _participants(steps: list[Step]) -> list[int]:
    """Task ids in order of first appearance in the steps."""
    seen: dict[int, None] = {}
    for s in steps:
        seen.setdefault(s.src)
        seen.setdefault(s.dst)
    return list(seen)


# -- Chrome trace events (Perfetto, chrome://tracing) ----------------------------------------

def chrome(events: list[Event], program: Program | None) -> str:
    """The whole trace as Chrome trace-event JSON, which Perfetto (ui.perfetto.dev) and
    chrome://tracing open: a track per task (named as in the listing), a short slice per
    step at its time (the run's clock, fuel units, shown as microseconds), and a flow arrow
    from sender to receiver for each message, reply, spawn and open. The steps are the
    charts' (chart_steps), with no limit: a viewer scrolls and zooms a long run."""
    names = task_names(events, program)
    steps, _ = chart_steps(events, program)
    out: list[dict] = [{"ph": "M", "pid": 1, "name": "process_name", "args": {"name": "mikro"}}]
    for t in _participants(steps):
        out.append({"ph": "M", "pid": 1, "tid": t, "name": "thread_name",
                    "args": {"name": names.get(t, f"task {t}") if t else "boot"}})
        out.append({"ph": "M", "pid": 1, "tid": t, "name": "thread_sort_index",
                    "args": {"sort_index": t}})
    same: dict[int, int] = {}
    for s in steps:
        # steps at one time keep their order: a thousandth of a unit apart; each is a slice
        # (not an instant) so that a flow arrow can bind to it
        k = same[s.time] = same.get(s.time, -1) + 1
        ts = s.time + min(k, 999) / 1000
        args = {"event": s.index, "time": s.time}
        out.append({"ph": "X", "pid": 1, "tid": s.src, "ts": ts, "dur": 0.0005,
                    "name": s.label, "cat": s.line, "args": args})
        if s.dst != s.src:
            out.append({"ph": "X", "pid": 1, "tid": s.dst, "ts": ts, "dur": 0.0005,
                        "name": s.label, "cat": s.line, "args": args})
            out.append({"ph": "s", "pid": 1, "tid": s.src, "ts": ts, "id": s.index,
                        "name": s.line, "cat": s.line})
            out.append({"ph": "f", "bp": "e", "pid": 1, "tid": s.dst, "ts": ts, "id": s.index,
                        "name": s.line, "cat": s.line})
    return json.dumps({"traceEvents": out, "displayTimeUnit": "ns"}, indent=None) + "\n"


# -- Mermaid ----------------------------------------------------------------------------------

MERMAID_ARROWS = {"message": "->>", "reply": "-->>", "spawn": "-)", "open": "--)",
                  "dropped": "--x", "lost": "-x", "signal": "-)", "move": "--)"}
FAULT_RGB = "rgb(255, 221, 221)"
# Characters that stay as they are in Mermaid text; every other one becomes an entity code
# (`#35;`). Mermaid reads `#` as a comment, `;` as the end of a statement, `%%` and `{` as a
# directive, `<` `&` as HTML, and rewrites `style...:...#..;` before parsing (hence `:`).
_MERMAID_SAFE = frozenset(" _.,()[]=+-*/'!?@$^~|\"")


def mermaid_text(text: str) -> str:
    """text made safe for a Mermaid name or label."""
    return "".join(c if c.isalnum() or c in _MERMAID_SAFE else f"#{ord(c)};" for c in text)


def mermaid(events: list[Event], program: Program | None, limit: int = 200,
            marks: Sequence[tuple[int, int, str]] = ()) -> str:
    """A Mermaid sequenceDiagram of the first `limit` events: participants `T<id>` named
    after the tasks, in order of appearance; arrows and notes as the module docstring says;
    a fault note on a red background; a last note counting the events left out. `marks`
    (event index, task, text): a note over that task before that event (a planned run's
    preemptions, mikro.explore.decision_marks)."""
    names = task_names(events, program)
    steps, left_out = chart_steps(events, program, limit)
    order = _participants(steps)
    if left_out and not order:
        order = [events[0].task]
    lines = ["sequenceDiagram"]
    lines += [f"    participant T{t} as {mermaid_text(names[t])}" for t in order]
    pending = sorted(m for m in marks if m[1] in order)
    for s in steps:
        while pending and pending[0][0] <= s.index:
            _, task, text = pending.pop(0)
            lines.append(f"    rect {MARK_RGB}")
            lines.append(f"    Note over T{task}: {mermaid_text(text)}")
            lines.append("    end")
        lines += _mermaid_step(s)
    if left_out:
        over = f"T{order[0]}" if len(order) == 1 else f"T{order[0]},T{order[-1]}"
        lines.append(f"    Note over {over}: {mermaid_text(_left_out(left_out))}")
    return "\n".join(lines) + "\n"


MARK_RGB = "rgb(255, 236, 179)"     # the background of a preemption's note


def _mermaid_step(s: Step) -> list[str]:
    label = mermaid_text(s.label)
    if s.line in MERMAID_ARROWS:
        return [f"    T{s.src}{MERMAID_ARROWS[s.line]}T{s.dst}: {label}"]
    note = f"    Note over T{s.src}: {label}"
    if s.line == "fault":
        return [f"    rect {FAULT_RGB}", "    " + note, "    end"]
    return [note]


# -- SVG --------------------------------------------------------------------------------------

MAX_COLUMNS = 30          # tasks drawn at most; wider charts stop being readable
FONT_SIZE = 12
LEFT = 64                 # the time margin
RIGHT = 16
TOP = 36                  # the title line
HEAD_H = 26               # a task's header box
ROW_H = 26
COL_MIN, COL_MAX = 110, 240
PAD = 14                  # room around a label inside its column span

_ARROW_STYLE = {          # line -> (dashed, marker)
    "message": (False, "head"), "reply": (True, "head"), "spawn": (False, "open"),
    "open": (True, "open"), "dropped": (True, "cross"), "lost": (False, "cross"),
    "signal": (True, "head"), "move": (True, "open"),
}
_NOTE_COLORS = {          # line -> (fill, stroke, text)
    "note": ("#fff8d6", "#c9b458", "#222"), "exit": ("#eeeeee", "#999999", "#222"),
    "fault": ("#ffdddd", "#cc0000", "#aa0000"),
}
# Heads are filled shapes without a stroke, so a dashed line cannot dash its head.
_MARKERS = (
    '<marker id="head" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
    'markerHeight="8" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#222"/></marker>',
    '<marker id="open" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
    'markerHeight="8" orient="auto"><path d="M0,0 L10,5 L0,10 L4,5 z" fill="#222"/></marker>',
    '<marker id="cross" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="9" '
    'markerHeight="9" orient="auto"><path d="M0,2 L2,0 L5,3 L8,0 L10,2 L7,5 L10,8 L8,10 L5,7 L2,10 '
    'L0,8 L3,5 z" fill="#cc0000"/></marker>',
)


def _text_width(text: str) -> int:
    """Pixels of text in the monospace font (0.6 em a character)."""
    return (len(text) * FONT_SIZE * 3 + 4) // 5


def _fit(text: str, width: int) -> str:
    """text cut with an ellipsis to fit width pixels (the full text is in the row's title)."""
    if _text_width(text) <= width:
        return text
    chars = max(width * 5 // (FONT_SIZE * 3) - 1, 1)
    return text[:chars] + "\u2026"


@dataclass(frozen=True)
class _Layout:
    columns: dict[int, int]   # task id -> column
    col_w: int
    width: int
    height: int

    def x(self, task: int) -> int:
        return LEFT + self.columns[task] * self.col_w + self.col_w // 2

    def row_y(self, row: int) -> int:
        return TOP + HEAD_H + ROW_H * (row + 1)


def svg(events: list[Event], program: Program | None, limit: int = 200) -> str:
    """The chart as a standalone SVG: a header box and lifeline per task (the first
    MAX_COLUMNS of them), one row per step with the time on the left, arrows with labels
    above them, notes as boxes (faults red). Each row is a `<g class="step KIND">` whose
    `<title>` is the event's full listing line. Same input, same bytes."""
    names = task_names(events, program)
    steps, left_out = chart_steps(events, program, limit)
    tasks = _participants(steps)
    shown_tasks = tasks[:MAX_COLUMNS]
    visible = set(shown_tasks)
    drawn = [s for s in steps if s.src in visible and s.dst in visible]
    footer = _svg_footer(len(tasks), len(steps) - len(drawn), left_out)
    layout = _layout(shown_tasks, drawn, names, len(footer))
    flow = _flow(events)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{layout.width}" '
           f'height="{layout.height}" viewBox="0 0 {layout.width} {layout.height}" '
           f'font-family="monospace" font-size="{FONT_SIZE}">',
           "<defs>", *_MARKERS, "</defs>",
           f'<rect width="{layout.width}" height="{layout.height}" fill="#ffffff"/>',
           f'<text x="8" y="20" font-weight="bold">{escape(_svg_title(events, tasks))}</text>']
    out += _svg_heads(shown_tasks, names, layout)
    out.append(f'<text x="{LEFT - 8}" y="{TOP + HEAD_H // 2 + 4}" text-anchor="end" '
               f'fill="#888888">time</text>')
    for row, s in enumerate(drawn):
        title = _title_line(events[s.index], s.index, names, program, flow)
        out += _svg_step(s, row, title, layout)
    y = layout.row_y(len(drawn))
    for line in footer:
        out.append(f'<text x="{LEFT}" y="{y}" fill="#555555">{escape(line)}</text>')
        y += ROW_H
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _svg_title(events: list[Event], tasks: list[int]) -> str:
    cut = f" (the first {MAX_COLUMNS} drawn)" if len(tasks) > MAX_COLUMNS else ""
    return (f"IPC trace: {len(events)} event{'s' if len(events) != 1 else ''}, "
            f"{len(tasks)} task{'s' if len(tasks) != 1 else ''}{cut}")


def _svg_footer(tasks: int, hidden_steps: int, left_out: int) -> list[str]:
    lines = []
    if tasks > MAX_COLUMNS:
        lines.append(f"only the first {MAX_COLUMNS} of {tasks} tasks are drawn; "
                     f"{hidden_steps} row{'s' if hidden_steps != 1 else ''} with the others "
                     f"left out")
    if left_out:
        lines.append(_left_out(left_out))
    return lines


def _layout(tasks: list[int], steps: list[Step], names: dict[int, str],
            footer_lines: int) -> _Layout:
    """Columns wide enough for every name and for the label of every arrow between
    neighbours, within COL_MIN..COL_MAX (wider labels are cut)."""
    columns = {t: i for i, t in enumerate(tasks)}
    need = [_text_width(names[t]) + 3 * PAD for t in tasks]
    need += [_text_width(s.label) + 2 * PAD for s in steps
             if s.line in ARROWS and abs(columns[s.src] - columns[s.dst]) == 1]
    col_w = min(max([COL_MIN, *need]), COL_MAX)
    width = LEFT + col_w * max(len(tasks), 1) + RIGHT
    height = TOP + HEAD_H + ROW_H * (len(steps) + footer_lines + 1)
    return _Layout(columns, col_w, width, height)


def _svg_heads(tasks: list[int], names: dict[int, str], layout: _Layout) -> list[str]:
    """A box with the name at the top of each column, and the lifeline below it."""
    out = []
    bottom = layout.height - ROW_H // 2
    for t in tasks:
        x = layout.x(t)
        name = _fit(names[t], layout.col_w - 2 * PAD)
        box_w = _text_width(name) + 2 * PAD
        out.append(f'<g class="task"><line x1="{x}" y1="{TOP + HEAD_H}" x2="{x}" '
                   f'y2="{bottom}" stroke="#bbbbbb" stroke-dasharray="4 4"/>'
                   f'<rect x="{x - box_w // 2}" y="{TOP}" width="{box_w}" height="{HEAD_H}" '
                   f'rx="4" fill="#eef3fb" stroke="#4a6fa5"/>'
                   f'<text x="{x}" y="{TOP + HEAD_H // 2 + 4}" text-anchor="middle">'
                   f'{escape(name)}</text></g>')
    return out


def _title_line(e: Event, i: int, names: dict[int, str], program: Program | None,
                flow: _Flow) -> str:
    return f"{e.time}  {names[e.task]}  {e.kind}  {_describe(i, e, names, program, flow)}"


def _svg_step(s: Step, row: int, title: str, layout: _Layout) -> list[str]:
    y = layout.row_y(row)
    body = _svg_arrow(s, y, layout) if s.line in ARROWS else _svg_note(s, y, layout)
    return [f'<g class="step {s.line}"><title>{escape(title)}</title>'
            f'<text x="{LEFT - 8}" y="{y + 4}" text-anchor="end" fill="#888888">{s.time}</text>'
            f'{body}</g>']


def _svg_arrow(s: Step, y: int, layout: _Layout) -> str:
    dashed, marker = _ARROW_STYLE[s.line]
    dash = ' stroke-dasharray="6 4"' if dashed else ""
    x1, x2 = layout.x(s.src), layout.x(s.dst)
    if x1 == x2:              # never from the kernel, but a hand-built trace may say so
        return (f'<path d="M{x1},{y - 6} h30 v12 h-30" fill="none" stroke="#222"'
                f' stroke-width="1.5"{dash} marker-end="url(#{marker})"/>'
                f'<text x="{x1 + 36}" y="{y + 4}">{escape(_fit(s.label, layout.col_w))}</text>')
    label = _fit(s.label, abs(x2 - x1) - 2 * PAD)
    mid, w = (x1 + x2) // 2, _text_width(label) + 6
    # a white band under the label keeps it legible where it crosses other lifelines
    return (f'<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="#222" stroke-width="1.5"'
            f'{dash} marker-end="url(#{marker})"/>'
            f'<rect x="{mid - w // 2}" y="{y - 17}" width="{w}" height="14" fill="#ffffff" '
            f'fill-opacity="0.85"/>'
            f'<text x="{mid}" y="{y - 6}" text-anchor="middle">{escape(label)}</text>')


def _svg_note(s: Step, y: int, layout: _Layout) -> str:
    fill, stroke, color = _NOTE_COLORS[s.line]
    label = _fit(s.label, min(2 * layout.col_w, layout.width - LEFT - RIGHT) - PAD)
    w = _text_width(label) + PAD
    x = min(max(layout.x(s.src) - w // 2, LEFT), layout.width - RIGHT - w)
    return (f'<rect x="{x}" y="{y - 10}" width="{w}" height="18" rx="3" fill="{fill}" '
            f'stroke="{stroke}"/>'
            f'<text x="{x + w // 2}" y="{y + 3}" text-anchor="middle" fill="{color}">'
            f'{escape(label)}</text>')

