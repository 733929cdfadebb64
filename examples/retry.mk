# retry.mk: a client gives up on a server that stops answering in time.
# Each request gets ATTEMPTS tries, each with a deadline (`call_until`) and a pause between
# them. The server gets slower with every request; an answer it gives after its caller gave
# up reaches nobody, and a try the server never took is withdrawn from its queue.
const TIMEOUT = 100
const ATTEMPTS = 3
const PAUSE = 20

task slow {
    let s = channel("slow", MANY)
    let delay = 0
    loop {
        let m, x = recv(s)
        sleep(delay)
        reply(m, x * x)
        delay += 45
    }
}

# the answer to x, or -1 when every try timed out
fn ask(c, x) {
    let attempt = 1
    while attempt <= ATTEMPTS {
        let err, r = try call_until(c, now() + TIMEOUT, x)
        if err == 0 { return r }
        print("request", x, "try", attempt, "timed out at", now())
        if attempt < ATTEMPTS { sleep(PAUSE) }
        attempt += 1
    }
    return -1
}

task client {
    let c = open("slow")
    let x = 1
    loop {
        let r = ask(c, x)
        if r < 0 {
            print("gave up on request", x, "at", now())
            return
        }
        print("request", x, "answered", r, "at", now())
        x += 1
    }
}

spawn slow()
spawn client()
