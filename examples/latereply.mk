# latereply.mk: a reply that arrives after its caller gave up.
#
# The client withdraws with a deadline (`call_until`) and, when the deadline passes, takes
# the withdrawal as not done. But the server took the message and does it anyway, only
# late (its disk is sometimes slow: `choose(2)` lets the explorer decide when); its reply
# answers nobody. The client's idea of the balance and the server's then differ. Under
# the default schedule the disk is fast and `mikro run` ends clean; `mikro test --strategy
# preempt examples/latereply.mk` tries the slow disk and finds the failure.
# The fix: a request id the client can ask about after a timeout, or a withdrawal the
# server undoes when its caller is gone.
const WITHDRAW = 1
const BALANCE = 2
const DEADLINE = 10

task account {
    let ch = channel("account", MANY)
    let balance = 100
    loop {
        let m, op, amount = recv(ch)
        if op == WITHDRAW {
            if choose(2) == 1 { sleep(DEADLINE * 2) }    # a slow write to the disk
            balance -= amount
        }
        reply(m, balance)
    }
}

task client {
    let c = open("account")
    let expected = 100
    let err, left = try call_until(c, now() + DEADLINE, WITHDRAW, 30)
    if err == 0 {
        expected = left
    } else {
        print("withdrawal timed out: taken as not done")
    }
    let balance = call(c, BALANCE)
    print("balance", balance, "expected", expected)
    assert(balance == expected, "the server did a withdrawal the client gave up on")
}

spawn account()
spawn client()
