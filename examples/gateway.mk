# gateway.mk: one task serves several handles in one wait loop.
# The gateway answers clients on "gw" (MANY), takes commands from an operator on "ctl"
# (ONE) and counts the ticks of its own timer (the pending word, BITS), all through one
# `select`, which says which member is ready; the recv (or wait) after it takes what is
# there at once. Requests carry a type in their last word: `recv_type(s, -NORMAL)` takes
# the most urgent queued first (the lowest type), so an urgent client overtakes a normal
# one. The operator bounds its own waits with a deadline.
const TICK = 1
const URGENT = 1
const NORMAL = 2

task gateway {
    let s = channel("gw", MANY)
    let ctl = channel("ctl", ONE)
    let set = array(3)
    set[0] = s; set[1] = ctl; set[2] = BITS
    timer(TICK, 100, 100)
    let served = 0
    let ticks = 0
    loop {
        let h = select(set)
        if h == s {
            let m, x, _, _, ty = recv_type(s, -NORMAL)
            print("gateway: request", x, "of type", ty, "at", now())
            served += 1
            reply(m, x * 10)
        } else if h == ctl {
            let err, _, cmd = try recv(ctl)
            if err != 0 { break }       # the operator is gone
            reply(ctl, served, ticks)
        } else {
            wait()
            ticks += 1
        }
    }
    print("gateway: served", served, "ticks", ticks, "at", now())
}

task client(id, ty, n) {
    let c = open("gw")
    let i = 0
    while i < n {
        call(c, id * 100 + i, 0, 0, ty)
        sleep(40)
        i += 1
    }
}

task operator {
    let c = open("ctl")
    sleep(250)
    let served, ticks = call(c, 1)
    print("operator: served", served, "ticks", ticks, "at", now())
    deadline(now() + 50)
    let err = try open("audit")          # nobody serves it: the deadline ends the wait
    print("operator: no audit channel, timed out:", err == E_TIMEOUT, "at", now())
}

spawn gateway()
spawn client(1, NORMAL, 3)
spawn client(2, URGENT, 3)
spawn operator()
