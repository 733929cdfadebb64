# ticker.mk: one loop serves clients and runs a periodic job.
# `recv_until` waits for a message or the next tick, whichever comes first. The clock is
# virtual (docs/kernel.md): it moves only when every task waits, jumping to the next
# deadline, so the run is the same on every backend.
const PERIOD = 100
const CLIENTS = 3

task counter {
    let s = channel("counter", MANY)
    let next = PERIOD
    let served = 0                      # requests since the last tick
    let total = 0
    let done = 0
    while done < CLIENTS {
        let err, m, x = try recv_until(s, next)
        if err == E_TIMEOUT {
            print("tick", now(), "served", served, "total", total)
            served = 0
            next += PERIOD              # absolute deadlines: the period does not drift
        } else {
            if x == 0 { done += 1 } else { served += 1; total += x }
            reply(m, total)
        }
    }
    print("all clients done at", now(), "total", total)
}

task client(id, n, pause) {
    let c = open("counter")
    let i = 1
    while i <= n {
        call(c, i)
        sleep(pause)
        i += 1
    }
    call(c, 0)                          # done
    print("client", id, "done at", now())
}

spawn counter()
spawn client(1, 5, 30)
spawn client(2, 3, 70)
spawn client(3, 2, 160)
