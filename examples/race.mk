# race.mk: an ordering bug that only some interleavings expose.
#
# The worker must be configured before it takes jobs. The configurator and the client are
# separate tasks and nothing orders their first calls: the FIFO schedule happens to run
# the configurator first, so `mikro run` is clean, but `mikro test examples/race.mk`
# finds an interleaving where the job comes first (one preemption), and prints the
# schedule that replays it. The fix: let the client open the worker only once the configurator
# says it is done (or have the worker wait for its configuration before serving jobs).
const CONFIG = 1
const JOB = 2

task worker {
    let ch = channel("worker", MANY)
    let scale = 0
    loop {
        let m, op, v = recv(ch)
        if op == CONFIG {
            scale = v
            reply(m)
        } else {
            assert(scale != 0, "a job arrived before the configuration")
            reply(m, v * scale)
        }
    }
}

task configurator {
    let w = open("worker")
    call(w, CONFIG, 10)
}

task client {
    let w = open("worker")
    print("job done:", call(w, JOB, 4))
}

spawn worker()
spawn configurator()
spawn client()
