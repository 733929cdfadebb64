"""Shared segments (docs/kernel.md "Shared segments"): segment, grant, revoke, and ald/ast/
alen on a segment reference.

Every program runs on the reference interpreter and on the three x86 tiers, paused and
moved between tiers, traced and untraced (test_x86_diff.same): all must agree exactly, and
each test also checks what the run printed against what docs/kernel.md says it must."""
from __future__ import annotations

from mikro.vm import abi, interp
from mikro.vm.options import RunOptions
from test_longmsg import check as check_program

E = {name: code for name, (code, _) in abi.ERRORS.items()}


def check(src: str, want: str, status: str = "clean", traced: bool = True, **kw):
    return check_program(src, want, status, traced, name="seg.mk", **kw)


def invalid_at(line: int, what: str) -> str:
    """The fault of main#1 when `what` fails with E_INVAL, without try, at `line`."""
    return (f"fault in task main#1 at seg.mk:{line}: {what} failed: E_INVAL "
            f"({abi.ERROR_TEXT[E['E_INVAL']]})")


def faults(program, result) -> list[str]:
    return [line for line in result.report(program).splitlines() if line.startswith("fault")]


SHARE = """
task lender {
    let s = segment(4)
    s[0] = 42
    let c = channel("p", ONE)
    let m, theirs = recv(c)                     # the borrower is there: lend it the segment
    let r = grant(c, s, RW)
    reply(m, r)
    let m2, _ = recv(c)                         # the borrower wrote s[1], s[3]
    print("lender sees", s[1], s[3], len(s))
    revoke(s)
    revoke(s)                                   # nothing lent: nothing to do
    reply(m2)
    let m3, _ = recv(c)
    s[2] = 5                                    # the lender's reference stays good
    print("lender still", s[2])
}
task borrower {
    let c = open("p")
    let s = call(c, 0)
    print("borrower sees", s[0], len(s))
    s[1] = 7
    s[3] = s[0] + 1
    call(c, 1)
    send(c, 2)
    print("after revoke")
    let x = s[0]                                # revoked: a clean fault on this line
    print("never", x)
}
spawn lender()
spawn borrower()
"""


def test_a_lent_segment_is_shared_both_ways_until_revoked():
    program, got = check(SHARE, "borrower sees 42 4\nlender sees 7 43 4\nafter revoke\n"
                                "lender still 5\n", status="fault")
    assert faults(program, got) == [
        "fault in task borrower#2 at seg.mk:27: stale segment reference (revoked, given back "
        "or never made)"]
    trace = interp.run(program, RunOptions(trace=True)).trace
    grant, revoke = [e for e in trace if e.kind in ("grant", "revoke")]
    assert (grant.task, grant.peer, grant.a, grant.b) == (1, 2, abi.RW, 4)
    assert grant.words[0] == abi.segref(0, 0)
    assert (revoke.task, revoke.peer, revoke.a) == (1, 2, 0)
    from mikro import tracechart
    listing = tracechart.format_trace(trace, program)
    assert "grant    ch0 -> borrower#2  RW 4 words as seg0.0" in listing
    assert "revoke   seg0.0 from borrower#2" in listing
    labels = [s.label for s in tracechart.chart_steps(trace, program)[0]]
    assert "grant RW 4 words" in labels and "revoke" in labels


READ_ONLY = """
task lender {
    let s = segment(3)
    s[2] = 9
    let c = channel("p", ONE)
    let m, _ = recv(c)
    reply(m, grant(c, s, RO))
    let m2, _ = recv(c)
    print("lender", s[0])
}
task borrower {
    let c = open("p")
    let s = call(c)
    print("reads", s[2], len(s))
    send(c)
    s[0] = 1                                    # read only: faults, stores nothing
}
spawn lender()
spawn borrower()
"""


def test_a_store_through_a_read_only_grant_faults_and_stores_nothing():
    program, got = check(READ_ONLY, "reads 9 3\nlender 0\n", status="fault")
    assert faults(program, got) == [
        "fault in task borrower#2 at seg.mk:16: store through a read-only segment grant"]


INDEX = """
task main(i, store) {
    let s = segment(5)
    if store { s[i] = 1 } else { print(s[i]) }
}
spawn main(5, 0)
spawn main(-1, 1)
spawn main(9223372036854775807, 0)
spawn main(4, 1)
"""


def test_an_index_out_of_a_segment_faults_as_for_an_array():
    program, got = check(INDEX, "", status="fault")
    assert faults(program, got) == [
        "fault in task main#1 at seg.mk:4: index 5 out of range for array of length 5",
        "fault in task main#2 at seg.mk:4: index -1 out of range for array of length 5",
        "fault in task main#3 at seg.mk:4: index 9223372036854775807 out of range for array "
        "of length 5"]


FORGED = """
task main(r, how) {
    let a = array(2)
    let s = segment(2)
    if how == 0 { print(r[0]) }
    if how == 1 { r[1] = 3 }
    if how == 2 { print(len(r)) }
}
spawn main(4611686018427387904, 2)
spawn main(4611686018427387920, 0)
spawn main(4611686018427387905, 1)
spawn main(4611686018427387903, 0)
spawn main(-9223372036854775808, 2)
spawn main(9223372036854775807, 0)
"""


def test_forged_segment_references_reach_nothing():
    """Only the reference the table's slot holds names it: another generation or slot is
    stale; a value below the tag or negative is no segment reference at all."""
    program, got = check(FORGED, "2\n", status="fault")
    assert [f.split(": ", 1)[1] for f in faults(program, got)] == [
        "stale segment reference (revoked, given back or never made)",
        "stale segment reference (revoked, given back or never made)",
        "bad array reference", "bad array reference",
        "stale segment reference (revoked, given back or never made)"]


ERRORS = f"""
task main {{
    let e1, _ = try segment(-1)
    let e2, _ = try segment({abi.SEG_MAX_WORDS + 1})
    let e3, _ = try segment(9223372036854775807)
    let s = segment(0)
    print(e1, e2, e3, len(s))
    let c = channel("self", ONE)
    let o = open("self")
    let a = array(2)
    let f1, _ = try grant(9, s, RW)             # not a handle
    let f2, _ = try grant(c, a, RW)             # an array of the task, not a segment
    let f3, _ = try grant(c, s, 2)              # no such rights
    let f4, _ = try grant(c, s, RW)             # the other end is the caller itself
    let f5, _ = try grant(c, s + 16, RW)        # a later generation: stale
    let f6 = try revoke(a)
    let f7 = try revoke(0)
    print(f1, f2, f3, f4, f5, f6, f7)
    let buf = segment(4)
    let g1 = try sendbuf(o, buf, 0, 1)          # long-message buffers are task memory only
    let g2, _, _, _, _, _ = try recvbuf(c, buf)
    print(g1, g2)
    let i = 2
    while i < {abi.SEG_SLOTS} {{ segment(1); i += 1 }}
    let h1, _ = try segment(1)                  # the table is full
    print(h1)
    grant(c, a, RW)                             # without try: a fault naming the line
}}
spawn main()
"""


def test_bad_arguments_give_errors_and_a_fault_names_the_line():
    inval, busy = E["E_INVAL"], E["E_BADHANDLE"]
    program, got = check(ERRORS, f"{inval} {inval} {inval} 0\n"
                                 f"{busy} {inval} {inval} {inval} {inval} {inval} {inval}\n"
                                 f"{inval} {inval}\n{E['E_NOSPACE']}\n", status="fault")
    assert faults(program, got) == [invalid_at(27, "grant(0)")]


GRANTS = """
task lender {
    let c = channel("p", MANY)
    let m, _ = recv(c)                          # borrower 1
    let n, _ = recv(c)                          # borrower 2
    let s = segment(2)
    s[1] = 11
    let r = grant(m, s, RW)
    let e1, _ = try grant(n, s, RO)             # lent already
    revoke(s)
    let r2 = grant(n, s, RO)                    # once revoked, it may be lent again
    print("lent", e1, r2 - r)
    reply(m, r)
    reply(n, r2)
    let t = segment(1)
    let d = 0
    let i = 0
    while i < 2 {
        let q, k = recv(c)
        if k == 1 {
            let e2, _ = try grant(q, t, RW)     # borrower 1's table is full
            reply(q, e2)
        } else {
            d = q                               # borrower 2 ends after this message
        }
        i += 1
    }
    sleep(1)
    let e3, _ = try grant(d, t, RW)
    print("dead", e3)
}
task borrower(k) {
    let c = open("p")
    let s = call(c, k)
    if k == 1 {
        let i = 0
        while i < 16 { segment(1); i += 1 }
        print("full", call(c, k))
    } else {
        print("borrower 2 reads", s[1], len(s))
        let e, x = try grant(c, s, RO)          # only the creator lends
        print("re-lend", e)
        send(c, k)
    }
}
spawn lender()
spawn borrower(1)
spawn borrower(2)
"""


def test_grant_twice_to_a_full_table_and_to_a_dead_task():
    # each borrower names the segment by its own first slot: the same value, two names
    check(GRANTS, f"lent {E['E_BUSY']} 0\n"
                  f"borrower 2 reads 11 2\nre-lend {E['E_INVAL']}\nfull {E['E_NOSPACE']}\n"
                  f"dead {E['E_CLOSED']}\n")


OWNER_ENDS = f"""
task lender {{
    let c = channel("p", ONE)
    let m, _ = recv(c)
    let s = segment({abi.SEG_MAX_WORDS})
    s[7] = 70
    reply(m, grant(c, s, RW))
    let i = 1
    while i < {abi.SEG_TOTAL_WORDS // abi.SEG_MAX_WORDS} {{ segment({abi.SEG_MAX_WORDS}); i += 1 }}
    let e, _ = try segment(1)                   # every word of the run is taken
    print("lender", e)
}}
task borrower {{
    let c = open("p")
    let s = call(c)
    sleep(1)                                    # the lender ended: the segment stays
    s[0] = s[7] + 1
    print("borrower", s[0], len(s))
    let e, _ = try segment({abi.SEG_MAX_WORDS})  # the lender's others are gone
    print("again", e)
    revoke(s)                                   # given back: gone as well
    let f, t = try segment(1)
    print("after", f)
}}
spawn lender()
spawn borrower()
"""


def test_a_segment_lives_while_a_task_holds_it_and_storage_is_bounded():
    program, got = check(OWNER_ENDS, f"lender {E['E_NOSPACE']}\nborrower 71 "
                                     f"{abi.SEG_MAX_WORDS}\nagain 0\nafter 0\n", traced=False)


COPY = """
task main {
    let a = array(6)
    let i = 0
    while i < 6 { a[i] = i + 1; i += 1 }
    let s = segment(8)
    copy(s, 1, a, 0, 6)
    print(s[0], s[1], s[6], s[7])
    copy(s, 2, s, 1, 6)                         # overlapping: as if through a temporary
    print(s[1], s[2], s[3], s[7])
    copy(a, 0, s, 4, 3)
    print(a[0], a[1], a[2], a[3])
    copy(a, 1, a, 0, 5)
    print(a[0], a[1], a[5])
    print(try copy(a, 0, s, 3, 6), try copy(s, 0, a, 0, 9), try copy(a, 0, a, 0, -1),
          try copy(a, 0, 0, 0, 0), try copy(s, -1, a, 0, 1), try copy(a, 0, s + 16, 0, 1),
          try copy(a, 5, a, 0, 9223372036854775807))
    let c = channel("p", ONE)
    let m, r = recv(c)
    print(try copy(r, 0, a, 0, 1), try copy(a, 0, r, 0, 2), a[0], a[1])
    copy(r, 0, a, 0, 1)
}
task borrower {
    let c = open("p")
    let s = segment(2)
    s[0] = 70
    s[1] = 71
    send(c, grant(c, s, RO))
}
spawn main()
spawn borrower()
"""


def test_copy_moves_words_between_arrays_and_segments_and_checks_both():
    inval = E["E_INVAL"]
    program, got = check(COPY, f"0 1 6 0\n1 1 2 6\n3 4 5 4\n3 3 5\n"
                               f"{inval} {inval} {inval} 0 {inval} {inval} {inval}\n"
                               f"{inval} 0 70 71\n", status="fault")
    assert faults(program, got) == [invalid_at(21, "copy")]
