# The supervisor module, tested in mikro itself on every backend (the pytest plugin).
import "supervisor"

task flaky(n) {
    # generations 0 .. n-1 fault, generation n ends with 0
    assert(self() >> 32 >= n, "flaky")
}

task doomed { assert(0, "doomed") }

task slow_flaky(n) {
    sleep(60)
    assert(self() >> 32 >= n, "slow")
}

task idle { wait() }

test "supervisor: a child that fails is restarted until it ends with 0" {
    # expect-status: fault
    let s = supervisor.new(5, 100)
    print(supervisor.add(s, spawn flaky(2)), supervisor.add(s, spawn flaky(0)))   # expect: 0 0
    print(supervisor.run(s) == supervisor.DONE)                                  # expect: 1
    let id = supervisor.child(s, 0)
    print(id >> 32, status(id))                                                  # expect: 2 1
}

test "supervisor: one restart too many in the window and it gives up" {
    # expect-status: fault
    let s = supervisor.new(2, 100)
    supervisor.add(s, spawn doomed())
    print(supervisor.run(s) == supervisor.GAVE_UP)                               # expect: 1
    let how, code = status(supervisor.child(s, 0))
    print(supervisor.child(s, 0) >> 32, how == T_FAULTED, now())                 # expect: 2 1 0
}

test "supervisor: restarts spread over time pass the limit of a window" {
    # expect-status: fault
    let s = supervisor.new(1, 50)           # one restart in any 50 ticks; one per 60 here
    supervisor.add(s, spawn slow_flaky(3))
    print(supervisor.run(s) == supervisor.DONE, now())                           # expect: 1 240
}

test "supervisor: a task it may not monitor is refused" {
    let s = supervisor.new(1, 10)
    let t = spawn idle()
    print(supervisor.add(s, self()) == E_INVAL, supervisor.add(s, t))             # expect: 1 0
    print(supervisor.add(s, 1 << 40) == E_INVAL)                                  # expect: 1
}
