# lockorder.mk: a deadlock that needs one particular interleaving.
#
# Two lock servers guard two accounts. `transfer` takes the lock of the account it draws
# from, then the lock of the one it pays into: two transfers in opposite directions take
# the locks in opposite orders. Under the default schedule the first transfer holds both
# locks before the second takes any, so `mikro run` ends clean; the schedule that lets each
# take its first lock before the other takes its second deadlocks. `mikro test
# --strategy preempt examples/lockorder.mk` finds it with one preemption (docs/testing.md).
# The fix: take the two locks in one global order (the lower account first).
const LOCK = 1
const UNLOCK = 2

task lock(name) {
    let ch = 0
    if name == 1 { ch = channel("lock1", MANY) } else { ch = channel("lock2", MANY) }
    let waiting = array(4)               # callers of LOCK while it is held, in order
    let n = 0
    let held = 0
    loop {
        let m, op = recv(ch)
        if op == LOCK {
            if held == 0 {
                held = 1
                reply(m)
            } else {
                waiting[n] = m
                n += 1
            }
        } else {
            reply(m)
            if n > 0 {                   # the lock passes to the first waiting caller
                reply(waiting[0])
                let i = 1
                while i < n { waiting[i - 1] = waiting[i]; i += 1 }
                n -= 1
            } else {
                held = 0
            }
        }
    }
}

fn transfer(first, second, who) {
    call(first, LOCK)
    call(second, LOCK)
    print("transfer", who, "done")
    call(second, UNLOCK)
    call(first, UNLOCK)
}

task teller(who, delay) {
    let a = open("lock1")
    let b = open("lock2")
    let i = 0
    while i < delay { yield(); i += 1 }  # the second teller comes a little later
    if who == 1 { transfer(a, b, who) } else { transfer(b, a, who) }
}

spawn lock(1)
spawn lock(2)
spawn teller(1, 0)
spawn teller(2, 4)
