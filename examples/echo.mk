# echo.mk: two clients call one echo server (a 1-to-N channel).
task echo {
    let ch = channel("echo", MANY)      # a 1-to-N server channel, named
    loop {
        let m, x = recv(ch)             # m: an mhandle pointing at the caller
        reply(m, x + 1)
    }
}

task client(id, n) {
    let c = open("echo")                # O(log n) lookup, once
    let i = 0
    while i < n {
        assert(call(c, i) == i + 1)     # send, wait for the reply: O(1)
        i += 1
    }
    print("client", id, "done")
}

spawn echo()
spawn client(1, 100)
spawn client(2, 100)
