# A supervisor restarts a worker that crashes while its clients retry.
#
# The worker wears out: every third request kills it. Its supervisor (the stdlib module)
# restarts it, at most 3 times in 100 ticks; the restarted worker registers its name again,
# and a client whose call failed with E_CLOSED opens the name again (open waits until the
# new worker has made it) and asks again. Every fault is still reported: the run ends with
# status fault, the report listing each crash and each restart.
import "supervisor"

task worker {
    let s = channel("work", MANY)
    print("worker generation", self() >> 32, "ready")
    let served = 0
    loop {
        let m, x = recv(s)
        served += 1
        assert(served % 3 != 0, "worn out")
        reply(m, x * x)
    }
}

task sup {
    let s = supervisor.new(3, 100)
    supervisor.add(s, spawn worker())
    exit(supervisor.run(s))
}

task client(id) {
    let c = open("work")
    let i = 1
    while i <= 4 {
        let err, y = try call(c, id * 10 + i)
        if err == E_CLOSED {                # the worker crashed: connect to the next one
            close(c)
            c = open("work")
            continue
        }
        print("client", id, "asked", id * 10 + i, "got", y)
        i += 1
    }
}

spawn sup()
spawn client(1)
spawn client(2)
