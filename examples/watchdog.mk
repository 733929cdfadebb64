# watchdog.mk: a watchdog notices a worker that stopped sending heartbeats.
# Worker i signals bit 1 << i to the watchdog through its connection (`notify` never
# blocks; a bit sent twice before the watchdog looks counts once); a periodic timer adds
# bit TICK every PERIOD ticks. At each TICK, a worker whose bit did not come since the last
# one is reported, once.
const PERIOD = 100
const TICK = 1
const WORKERS = 2
const ROUNDS = 5

task watchdog {
    let s = channel("watchdog", MANY)   # workers only connect: signals need no recv
    timer(TICK, PERIOD, PERIOD)
    let seen = 0
    let reported = 0
    let round = 0
    while round < ROUNDS {
        let bits = wait()
        seen = seen | bits & ~TICK
        if bits & TICK {
            round += 1
            let id = 1
            while id <= WORKERS {
                let bit = 1 << id
                if (seen & bit) == 0 && (reported & bit) == 0 {
                    print("watchdog: no heartbeat from worker", id, "by tick", now())
                    reported = reported | bit
                }
                id += 1
            }
            seen = 0
        }
    }
    timer(0, 0, 0)
    print("watchdog done at", now())
}

task worker(id, beats, every) {
    let c = open("watchdog")
    let i = 0
    while i < beats {
        notify(c, 1 << id)
        sleep(every)
        i += 1
    }
    print("worker", id, "hangs at", now())
    wait()                              # alive, but silent
}

spawn watchdog()
spawn worker(1, 10, 35)
spawn worker(2, 3, 60)
