# bank.mk: two depositors update one balance with a GET then a SET call. Under the default
# schedule the first finishes before the second starts, but some interleavings let both read
# the old balance: a lost update. `mikro test examples/bank.mk` finds one (two preemptions)
# and prints the schedule that replays it.
const GET = 1
const SET = 2

task bank {
    let ch = channel("bank", MANY)
    let balance = 0
    loop {
        let m, op, value = recv(ch)
        if op == SET { balance = value }
        reply(m, balance)
    }
}

fn deposit(c, amount) {
    let b = call(c, GET)
    call(c, SET, b + amount)             # the bug: the balance may have moved since the GET
}

task depositor(amount, delay) {
    let c = open("bank")
    let i = 0
    while i < delay { yield(); i += 1 }
    deposit(c, amount)
    call(open("done"))
}

task auditor {
    let done = channel("done", MANY)
    spawn depositor(10, 0)
    spawn depositor(20, 3)
    let i = 0
    while i < 2 {
        let m = recv(done)
        reply(m)
        i += 1
    }
    let b = call(open("bank"), GET)
    print("balance", b)
    assert(b == 30, "lost update")
}

spawn bank()
spawn auditor()
