"""The end-of-run report stays readable: a call chain names its functions, folds a recursion
and says where it was cut; the tasks left waiting are grouped by where they wait once there
are many. The same text on every backend (RunResult.report)."""
from __future__ import annotations

from mikro.vm import abi
from mikro.vm.result import GROUPS, ONE_BY_ONE

RECURSION = '''fn down(n) {
    return down(n + 1) + 1
}
task main {
    print(down(0))
}
spawn main()
'''

MUTUAL = '''fn ping(n) { return pong(n) + 1 }
fn pong(n) { return ping(n + 1) }
task main { print(ping(0)) }
spawn main()
'''


def test_a_stack_overflow_names_the_function_and_where_the_chain_is_cut(mikro_session):
    program = mikro_session.compile(RECURSION, "rec.mk")
    result = mikro_session.run(program)
    assert result.report(program) == (
        "fault in task main#1 at rec.mk:1: stack overflow\n"
        f"  called from rec.mk:2 in down ({abi.CHAIN_MAX} times)\n"
        f"  ... the chain is cut here: a report shows the {abi.CHAIN_MAX} innermost calls\n")


def test_a_mutual_recursion_is_shown_once_with_its_count(mikro_session):
    program = mikro_session.compile(MUTUAL, "mutual.mk")
    result = mikro_session.run(program)
    assert result.report(program) == (
        "fault in task main#1 at mutual.mk:1: stack overflow\n"
        "  called from mutual.mk:1 in ping\n"
        "  called from mutual.mk:2 in pong\n"
        f"  (the 2 calls above, {abi.CHAIN_MAX // 2} times in all)\n"
        f"  ... the chain is cut here: a report shows the {abi.CHAIN_MAX} innermost calls\n")


def test_a_short_chain_is_not_cut(mikro_session):
    program = mikro_session.compile('''fn f(n) {
    if n == 0 { return 1 / n }
    return f(n - 1)
}
task main { print(f(2)) }
spawn main()
''', "short.mk")
    assert mikro_session.run(program).report(program) == (
        "fault in task main#1 at short.mk:2: division by zero\n"
        "  called from short.mk:3 in f (2 times)\n"
        "  called from short.mk:5 in main\n")


CROWD = '''task waiter(i) {
    let c = open("never")
}
task caller(i) {
    call(open("busy"), i)
}
task busy {
    let ch = channel("busy", MANY)
    let m, x = recv(ch)
    open("never")
}
task spawner(n) {
    let i = 0
    while i < n { spawn waiter(i); spawn caller(i); i += 1 }
}
spawn busy()
spawn spawner(COUNT)
'''


def test_a_deadlock_of_many_tasks_is_summarised_by_where_they_wait(mikro_session):
    n = 50_000 if mikro_session.backend == "x86" else 1_000      # 10^5 tasks on the JIT
    program = mikro_session.compile(CROWD.replace("COUNT", str(n)), "crowd.mk")
    result = mikro_session.run(program)
    assert result.status == "deadlock" and len(result.waiting) == 2 * n + 1
    last = 2 * n + 2
    assert result.report(program) == (
        "deadlock: no task can run\n"
        f"  {2 * n + 1} tasks in 3 places:\n"
        f"  {n} tasks, waiter#3 ... waiter#{last - 1}, wait in open at crowd.mk:2\n"
        f"  {n} tasks, caller#4 ... caller#{last}, wait in call(0) at crowd.mk:5\n"
        "  busy#1 waits in open at crowd.mk:10\n")


def test_a_few_waiting_tasks_are_listed_one_by_one(mikro_session):
    program = mikro_session.compile(CROWD.replace("COUNT", "2"), "crowd.mk")
    report = mikro_session.run(program).report(program)
    assert report.count("\n") == 1 + 5 and "tasks in" not in report


def test_places_past_the_first_ones_are_counted_not_listed(mikro_session):
    # every waiter waits at its own depth of recursion: as many places as tasks
    n = ONE_BY_ONE + GROUPS + 5
    program = mikro_session.compile(f'''fn deeper(d) {{
    if d == 0 {{ open("never") }}
    else {{ deeper(d - 1) }}
}}
task waiter(d) {{ deeper(d) }}
task spawner {{
    let i = 0
    while i < {n} {{ spawn waiter(i); i += 1 }}
}}
spawn spawner()
''', "depth.mk")
    report = mikro_session.run(program).report(program)
    assert f"  {n} tasks in {n} places:\n" in report
    assert report.endswith(f"  ... and {n - GROUPS} more tasks in {n - GROUPS} other places\n")
