"""Trace charts (mikro.tracechart): the listing, the Mermaid diagram and the SVG, from
traces built by hand and from real runs of examples/*.mk."""
from __future__ import annotations

import functools
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import mikro.api as api
from mikro import tracechart as tc
from mikro.vm import abi, interp
from mikro.vm.image import Program, TaskType
from mikro.vm.options import RunOptions
from mikro.vm.trace import Event

EXAMPLES = sorted(Path(__file__).resolve().parent.parent.glob("examples/*.mk"))
SVG = "{http://www.w3.org/2000/svg}"


def echo_program(channel: str = "echo") -> Program:
    return Program(strings=[channel], tasks=[TaskType("echo", 0, 0), TaskType("client", 0, 2)])


# boot spawns echo and client(1, 100); the client opens "echo" and calls it once
ECHO = [
    Event(0, "spawn", 0, peer=1, a=0),
    Event(0, "spawn", 0, peer=2, a=1, words=(1, 100, 0, 0)),
    Event(0, "channel", 1, handle=0, a=0, b=abi.MANY),
    Event(1, "open", 2, handle=0, peer=1, a=0, b=1),
    Event(2, "call", 2, handle=0, peer=1, words=(7, 0, 0, 0)),
    Event(2, "recv", 1, handle=abi.mhandle(0, 0), peer=2, a=1, b=1, words=(7, 0, 0, 0)),
    Event(5, "reply", 1, handle=abi.mhandle(0, 0), peer=2, words=(8, 0, 0, 0)),
    Event(12, "exit", 2, a=0),
]

ECHO_LISTING = """\
 0  boot      spawn    echo#1 ()
 0  boot      spawn    client#2 (1, 100)
 0  echo#1    channel  "echo" MANY as ch0
 1  client#2  open     "echo" as ch0 -> echo#1 (conn 1)
 2  client#2  call     ch0 -> echo#1  [7]
 2  echo#1    recv     m0.0 <- client#2 (conn 1, waits for reply)  [7]
 5  echo#1    reply    m0.0 -> client#2  [8]
12  client#2  exit     0"""

ECHO_MERMAID = """\
sequenceDiagram
    participant T0 as boot
    participant T1 as echo#35;1
    participant T2 as client#35;2
    T0-)T1: spawn ()
    T0-)T2: spawn (1, 100)
    Note over T1: channel "echo" MANY
    T2--)T1: open "echo"
    T2->>T1: call [7]
    T1-->>T2: reply [8]
    Note over T2: exit 0
"""


@functools.lru_cache(maxsize=None)      # each example runs once for all the tests
def run_traced(path: Path):
    program = api.load(path)
    return program, interp.run(program, RunOptions(trace=True)).trace


def host_trace():
    """A host task serving "disk" (x -> 2x) and a client calling it twice."""
    program = api.compile("""
task client(n) {
    let d = open("disk")
    let i = 0
    while i < n { call(d, i + 1); i += 1 }
}
""")
    k = api.Kernel(program, backend="interp", boot=False, trace=True)
    k.host("disk", lambda msg: msg.words[0] * 2)
    k.spawn("client", 2)
    return program, k.run().trace


def many_tasks_trace(clients: int):
    program = api.compile(f"""
task server {{
    let ch = channel("s", MANY)
    loop {{ let m, x = recv(ch); reply(m, x) }}
}}
task client(i) {{ call(open("s"), i) }}
task starter {{
    let i = 0
    while i < {clients} {{ spawn client(i); i += 1 }}
}}
spawn server()
spawn starter()
""")
    return program, interp.run(program, RunOptions(trace=True)).trace


# -- names ------------------------------------------------------------------------------------

def test_task_names_of_spawned_tasks():
    assert tc.task_names(ECHO, echo_program()) == {0: "boot", 1: "echo#1", 2: "client#2"}


def test_task_names_of_host_tasks_come_from_their_channel():
    program, trace = host_trace()
    names = tc.task_names(trace, program)
    assert names == {0: "boot", 1: "host:disk#1", 2: "client#2"}


def test_task_names_of_unspawned_tasks():
    names = tc.task_names([Event(3, "exit", 3, a=1), Event(4, "send", 4, peer=5)], None)
    assert names == {0: "boot", 3: "task#3", 4: "task#4", 5: "task#5"}


# -- listing ----------------------------------------------------------------------------------

def test_listing_of_a_small_trace():
    assert tc.format_trace(ECHO, echo_program()) == ECHO_LISTING


def test_listing_limit_cuts_and_says_so():
    assert tc.format_trace(ECHO, echo_program(), limit=3) == """\
0  boot    spawn    echo#1 ()
0  boot    spawn    client#2 (1, 100)
0  echo#1  channel  "echo" MANY as ch0
... 5 more events not shown"""
    assert tc.format_trace(ECHO, echo_program(), limit=7).endswith("... 1 more event not shown")
    assert tc.format_trace(ECHO, echo_program(), limit=8) == ECHO_LISTING


def test_listing_of_every_kind():
    program = Program(strings=["hub"], tasks=[TaskType("hub", 0, 0), TaskType("sub", 0, 0)])
    m = abi.mhandle(3, 2)
    events = [
        Event(0, "spawn", 0, peer=1, a=0), Event(0, "spawn", 0, peer=2, a=1),
        Event(1, "channel", 1, handle=0, a=0, b=abi.ONE),
        Event(2, "send", 2, handle=1, peer=0, words=(0, 0, 0, 0)),
        Event(3, "push", 1, handle=0, peer=2, a=4, words=(1, 2, 0, 0)),
        Event(3, "recv", 2, handle=0, peer=1, words=(1, 2, 0, 0)),
        Event(4, "reply", 1, handle=m, peer=0, words=(0, 0, 0, 9)),
        Event(5, "close", 1, handle=m, peer=2),
        Event(6, "close", 2, handle=5),
        Event(7, "fault", 2),
        Event(8, "exit", 1, a=-3),
    ]
    assert tc.format_trace(events, program).splitlines() == [
        "0  boot   spawn    hub#1 ()",
        "0  boot   spawn    sub#2 ()",
        '1  hub#1  channel  "hub" ONE as ch0',
        "2  sub#2  send     ch1 -> (nobody yet)  [0]",
        "3  hub#1  push     ch0 conn 4 -> sub#2  [1 2]",
        "3  sub#2  recv     ch0 <- hub#1 (push)  [1 2]",
        "4  hub#1  reply    m3.2 -> (nobody waits)  [0 0 0 9]",
        "5  hub#1  close    m3.2 (fails the call of sub#2)",
        "6  sub#2  close    ch5",
        "7  sub#2  fault",
        "8  hub#1  exit     -3",
    ]


def test_listing_and_chart_of_signals_timeouts_and_timers():
    program = Program(strings=["w"], tasks=[TaskType("a", 0, 0), TaskType("b", 0, 0)])
    events = [
        Event(0, "spawn", 0, peer=1, a=0), Event(0, "spawn", 0, peer=2, a=1),
        Event(1, "notify", 2, handle=0, peer=1, a=6),
        Event(2, "timeout", 1, handle=3, a=100, b=0),
        Event(2, "timeout", 2, a=150, b=1),
        Event(3, "timeout", 1, a=200, b=2),
        Event(3, "timeout", 2, handle=0, a=250, b=3),
        Event(4, "timer", 1, a=300, b=1),
    ]
    assert tc.format_trace(events, program).splitlines()[2:] == [
        "1  b#2   notify   ch0 -> a#1  bits 6",
        "2  a#1   timeout  deadline 100 on ch3",
        "2  b#2   timeout  sleep until 150",
        "3  a#1   timeout  deadline 200",
        "3  b#2   timeout  call deadline 250 on ch0",
        "4  a#1   timer    tick 300  bits 1",
    ]
    steps, _ = tc.chart_steps(events, program)
    assert [(s.src, s.dst, s.line, s.label) for s in steps[2:]] == [
        (2, 1, "signal", "notify 6"), (1, 1, "note", "timeout at 100"),
        (2, 2, "note", "sleep ends at 150"), (1, 1, "note", "timeout at 200"),
        (2, 2, "note", "timeout at 250"), (1, 1, "note", "timer 1 at 300")]
    assert "T2-)T1: notify 6" in tc.mermaid(events, program)
    ET.fromstring(tc.svg(events, program))


def test_listing_and_chart_of_monitors_and_restarts():
    program = Program(strings=[], tasks=[TaskType("sup", 0, 0), TaskType("worker", 0, 0)])
    g1 = 2 | 1 << abi.TID_SHIFT
    events = [
        Event(0, "spawn", 0, peer=1, a=0), Event(1, "spawn", 1, peer=2, a=1),
        Event(2, "monitor", 1, peer=2, a=4),
        Event(3, "fault", 2), Event(3, "down", 2, peer=1, a=4),
        Event(5, "restart", 1, peer=g1, a=2),
        Event(6, "exit", g1, a=0), Event(6, "down", g1, peer=1, a=4),
    ]
    assert tc.format_trace(events, program).split("\n", 2)[2] == """\
2  sup#1       monitor  -> worker#2  bits 4
3  worker#2    fault
3  worker#2    down     -> sup#1  bits 4
5  sup#1       restart  worker#2 as worker#2.1
6  worker#2.1  exit     0
6  worker#2.1  down     -> sup#1  bits 4"""
    steps, _ = tc.chart_steps(events, program)
    assert [(s.src, s.dst, s.line, s.label) for s in steps[2:]] == [
        (1, 2, "open", "monitor 4"), (2, 2, "fault", "fault"), (2, 1, "signal", "down 4"),
        (1, g1, "spawn", "restart"), (g1, g1, "exit", "exit 0"), (g1, 1, "signal", "down 4")]
    text = tc.mermaid(events, program)
    assert "T1--)T2: monitor 4" in text and f"T1-)T{g1}: restart" in text
    assert "worker#35;2.1" in text             # Mermaid escapes the #


def test_listing_and_chart_of_select_and_the_timeouts_of_every_wait():
    program = Program(strings=["w"], tasks=[TaskType("a", 0, 0)])
    events = [Event(0, "spawn", 0, peer=1, a=0), Event(1, "select", 1, a=3),
              Event(2, "select", 1, a=-1), Event(3, "timeout", 1, a=40, b=4),
              Event(3, "timeout", 1, handle=2, a=50, b=6),
              Event(4, "timeout", 1, a=60, b=10), Event(5, "timeout", 1, handle=1, a=70, b=9)]
    assert tc.format_trace(events, program).splitlines()[1:] == [
        "1  a#1   select   3",
        "2  a#1   select   BITS",
        "3  a#1   timeout  open deadline 40",
        "3  a#1   timeout  push deadline 50 on ch2",
        "4  a#1   timeout  select deadline 60",
        "5  a#1   timeout  recvbuf deadline 70 on ch1",
    ]
    steps, _ = tc.chart_steps(events, program)
    assert [s.label for s in steps[1:]] == ["select: 3", "select: BITS", "open timeout at 40",
                                            "push timeout at 50", "select timeout at 60",
                                            "recvbuf timeout at 70"]
    ET.fromstring(tc.svg(events, program))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_listing_of_every_example_has_one_line_per_event(path):
    program, trace = run_traced(path)
    lines = tc.format_trace(trace, program).splitlines()
    assert len(lines) == len(trace)
    names = tc.task_names(trace, program)
    for line, e in zip(lines, trace):
        assert line.split()[:3] == [str(e.time), names[e.task], e.kind]


# -- Mermaid ----------------------------------------------------------------------------------

MERMAID_ARROW = re.compile(r"^    T\d+(->>|-->>|-\)|--\)|--x|-x)T\d+: (?P<text>.+)$")
MERMAID_NOTE = re.compile(r"^    (    )?Note over T\d+(,T\d+)?: (?P<text>.+)$")
MERMAID_PARTICIPANT = re.compile(r"^    participant (?P<alias>T\d+) as (?P<text>.+)$")
ENTITY = re.compile(r"#(\d+);")


def check_mermaid(text: str) -> list[str]:
    """Every line follows the sequenceDiagram rules the module relies on; the aliases
    declared, in order. In text, `#` and `;` appear only as entity codes (a raw `#` starts a
    comment, `;` ends a statement) and `<`, `&`, `%`, `{`, `:` not at all."""
    lines = text.splitlines()
    assert lines[0] == "sequenceDiagram"
    declared, depth = [], 0
    for line in lines[1:]:
        if line in ("    rect rgb(255, 221, 221)", "    end"):
            depth += 1 if line.endswith(")") else -1
            assert depth in (0, 1), line
            continue
        match = MERMAID_PARTICIPANT.match(line) or MERMAID_ARROW.match(line) \
            or MERMAID_NOTE.match(line)
        assert match, f"not a sequenceDiagram line: {line!r}"
        bare = ENTITY.sub("", match["text"])
        assert not set(bare) & set("#;<>&%{}:\n"), line
        for alias in re.findall(r"\bT\d+\b", line.split(":")[0]):
            if match.re is MERMAID_PARTICIPANT:
                declared.append(alias)
            else:
                assert alias in declared, f"{alias} used before it is declared"
    assert depth == 0
    return declared


def unescape_mermaid(text: str) -> str:
    return ENTITY.sub(lambda m: chr(int(m[1])), text)


def test_mermaid_of_a_small_trace():
    assert tc.mermaid(ECHO, echo_program()) == ECHO_MERMAID
    check_mermaid(ECHO_MERMAID)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_mermaid_of_every_example(path):
    program, trace = run_traced(path)
    text = tc.mermaid(trace, program, limit=len(trace))
    declared = check_mermaid(text)
    names = tc.task_names(trace, program)
    labels = {unescape_mermaid(m["text"]) for line in text.splitlines()
              if (m := MERMAID_PARTICIPANT.match(line))}
    assert labels == {names[int(alias[1:])] for alias in declared}
    # every task that did something appears (boot whenever the boot list spawned)
    assert {int(a[1:]) for a in declared} == {e.task for e in trace} | {
        e.peer for e in trace if e.kind == "spawn"}
    # one solid message arrow per message taken
    assert len(re.findall(r"^    T\d+->>T\d+:", text, re.M)) == \
        sum(e.kind == "recv" for e in trace)


def test_mermaid_of_a_deadlock_shows_the_calls_not_taken():
    program, trace = run_traced(Path(__file__).resolve().parent.parent / "examples/deadlock.mk")
    text = tc.mermaid(trace, program)
    assert "    T2-xT1: call [2] (not taken)" in text
    assert "    T1-xT2: call [1] (not taken)" in text


def test_mermaid_of_a_fault_is_a_red_note():
    program, trace = run_traced(Path(__file__).resolve().parent.parent / "examples/fault.mk")
    text = tc.mermaid(trace, program)
    assert "    rect rgb(255, 221, 221)\n        Note over T2: fault\n    end\n" in text
    assert "    Note over T1: exit 0" in text


def test_mermaid_of_a_host_task_and_a_dropped_call():
    program, trace = host_trace()
    trace = trace + [Event(9, "close", 1, handle=abi.mhandle(0, 5), peer=2)]
    text = tc.mermaid(trace, program)
    check_mermaid(text)
    assert "    participant T1 as host#58;disk#35;1\n" in text
    assert "    T0-)T1: spawn host\n" in text
    assert "    T1--xT2: dropped\n" in text


def test_mermaid_escapes_names():
    name = 'a<&">#b;c:%%{x}'
    text = tc.mermaid(ECHO, echo_program(name))
    check_mermaid(text)
    note = next(line for line in text.splitlines() if "Note over T1" in line)
    assert unescape_mermaid(note) == f'    Note over T1: channel "{name}" MANY'.replace(
        '"a<&">', '"a<&\\">')


def test_mermaid_limit_cuts_and_says_so():
    text = tc.mermaid(ECHO, echo_program(), limit=4)
    check_mermaid(text)
    assert "->>" not in text and "open" in text
    assert text.endswith("    Note over T0,T2: ... 4 more events not shown\n")
    assert tc.mermaid(ECHO, echo_program(), limit=0) == \
        "sequenceDiagram\n    participant T0 as boot\n" \
        "    Note over T0: ... 8 more events not shown\n"


def test_mermaid_of_no_events():
    assert tc.mermaid([], None) == "sequenceDiagram\n"


# -- SVG --------------------------------------------------------------------------------------

def svg_tree(text: str) -> ET.Element:
    root = ET.fromstring(text)
    assert root.tag == SVG + "svg"
    return root


def steps_of(root: ET.Element, kind: str) -> list[ET.Element]:
    return [g for g in root.iter(SVG + "g") if g.get("class") == f"step {kind}"]


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(SVG + "text")]


def test_svg_of_a_small_trace():
    root = svg_tree(tc.svg(ECHO, echo_program()))
    assert [t for t in texts(root) if "#" in t or t == "boot"] == ["boot", "echo#1", "client#2"]
    assert len(root.findall(f"{SVG}g[@class='task']")) == 3
    message, = steps_of(root, "message")
    assert message.find(SVG + "line").get("marker-end") == "url(#head)"
    assert "call [7]" in texts(message)
    assert message.find(SVG + "title").text == \
        "2  echo#1  recv  m0.0 <- client#2 (conn 1, waits for reply)  [7]"
    reply, = steps_of(root, "reply")
    assert reply.find(SVG + "line").get("stroke-dasharray")
    assert len(steps_of(root, "spawn")) == 2 and len(steps_of(root, "open")) == 1
    assert len(steps_of(root, "note")) == 1 and len(steps_of(root, "exit")) == 1


def test_svg_arrows_point_from_sender_to_receiver():
    root = svg_tree(tc.svg(ECHO, echo_program()))
    heads = {g.find(f"{SVG}text").text: g for g in root.findall(f"{SVG}g[@class='task']")}
    x = {name: int(g.find(SVG + "line").get("x1")) for name, g in heads.items()}
    line = steps_of(root, "message")[0].find(SVG + "line")
    assert (int(line.get("x1")), int(line.get("x2"))) == (x["client#2"], x["echo#1"])
    line = steps_of(root, "reply")[0].find(SVG + "line")
    assert (int(line.get("x1")), int(line.get("x2"))) == (x["echo#1"], x["client#2"])


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_svg_of_every_example(path):
    program, trace = run_traced(path)
    text = tc.svg(trace, program, limit=len(trace))
    root = svg_tree(text)
    assert len(steps_of(root, "message")) == sum(e.kind == "recv" for e in trace)
    assert len(steps_of(root, "reply")) == sum(e.kind == "reply" and e.peer != 0 for e in trace)
    assert len(steps_of(root, "fault")) == sum(e.kind == "fault" for e in trace)
    names = tc.task_names(trace, program)
    heads = ["".join(g.itertext()) for g in root.findall(f"{SVG}g[@class='task']")]
    assert sorted(heads) == sorted(names[t] for t in {e.task for e in trace} | {
        e.peer for e in trace if e.kind == "spawn"})
    assert tc.svg(trace, program, limit=len(trace)) == text      # deterministic


def test_svg_fault_note_is_red():
    program, trace = run_traced(Path(__file__).resolve().parent.parent / "examples/fault.mk")
    fault, = steps_of(svg_tree(tc.svg(trace, program)), "fault")
    assert fault.find(SVG + "rect").get("stroke") == "#cc0000"
    assert texts(fault) == ["13", "fault"]                    # the time, the note


def test_svg_escapes_names():
    name = 'a<&">#b'
    text = tc.svg(ECHO, echo_program(name))
    assert name not in text                           # raw, it would break the XML
    root = svg_tree(text)
    assert 'channel "a<&\\">#b" MANY' in texts(root)
    assert 'open "a<&\\">#b"' in texts(root)
    # a host task is named after its channel, so its header box holds the name too
    hosted = [Event(0, "spawn", 0, peer=1, a=-1), Event(0, "channel", 1, a=0, b=abi.MANY)]
    root = svg_tree(tc.svg(hosted, echo_program(name)))
    heads = ["".join(g.itertext()) for g in root.findall(f"{SVG}g[@class='task']")]
    assert heads == ["boot", f"host:{name}#1"]


def test_svg_limit_cuts_and_says_so():
    root = svg_tree(tc.svg(ECHO, echo_program(), limit=5))
    assert len(steps_of(root, "message")) == 0 and len(steps_of(root, "open")) == 1
    assert texts(root)[-1] == "... 3 more events not shown"


def test_svg_caps_the_number_of_tasks():
    program, trace = many_tasks_trace(40)
    root = svg_tree(tc.svg(trace, program, limit=len(trace)))
    assert len(root.findall(f"{SVG}g[@class='task']")) == tc.MAX_COLUMNS
    assert texts(root)[0] == f"IPC trace: {len(trace)} events, 43 tasks (the first 30 drawn)"
    assert texts(root)[-1].startswith("only the first 30 of 43 tasks are drawn; ")
    assert int(root.get("width")) < 64 + 241 * 30 + 20


def test_svg_of_a_hand_built_arrow_to_itself_and_no_events():
    root = svg_tree(tc.svg([Event(1, "send", 1, peer=1, words=(3, 0, 0, 0))], None))
    lost, = steps_of(root, "lost")
    assert lost.find(SVG + "path").get("marker-end") == "url(#cross)"
    assert texts(svg_tree(tc.svg([], None)))[0] == "IPC trace: 0 events, 0 tasks"


def test_chrome_trace_has_a_track_per_task_and_a_flow_per_message():
    """The Chrome trace-event JSON of `mikro trace`: every task a named track, every
    message, reply, spawn and open a flow from its sender's track to its receiver's, every
    event of the listing there (nothing cut), times never going back."""
    import json
    program, events = run_traced(Path(__file__).resolve().parent.parent / "examples/echo.mk")
    data = json.loads(tc.chrome(events, program))["traceEvents"]
    names = {e["tid"]: e["args"]["name"] for e in data if e.get("name") == "thread_name"}
    assert set(names.values()) >= set(tc.task_names(events, program).values())
    steps, _ = tc.chart_steps(events, program)
    arrows = [s for s in steps if s.src != s.dst]
    starts = [e for e in data if e["ph"] == "s"]
    ends = {e["id"]: e for e in data if e["ph"] == "f"}
    assert len(starts) == len(arrows) == len(ends) and arrows
    for s, e in zip(arrows, starts):
        assert (e["tid"], ends[e["id"]]["tid"]) == (s.src, s.dst)
    slices = [e for e in data if e["ph"] == "X"]
    assert len(slices) == len(steps) + len(arrows)
    times = [e["ts"] for e in slices if e["tid"] == slices[0]["tid"]]
    assert times == sorted(times)
