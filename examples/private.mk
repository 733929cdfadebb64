# private.mk: a server gives each client a private channel of its own.
#
# A client calls the server's public channel once. The server makes an anonymous ONE
# channel with pair(), starts a session task, and moves one end to the session (in the
# reply to its first call) and the other to the client (in the reply to its request).
# From then on the client and its session talk on a channel no other task holds: there is
# no name to find it by, and nobody else can send on it.

task server {
    let s = channel("files", MANY)
    let hand = channel("hand", MANY)        # where a new session asks for its end
    loop {
        let m, who = recv(s)
        let mine, theirs = pair()
        spawn session()
        let hm = recv(hand)
        reply_move(hm, mine)                # word 0 of the session's call: its end
        reply_move(m, theirs, who)          # word 0 of the client's call: its end
    }
}

task session {
    let hand = open("hand")
    let mine = call(hand)
    close(hand)
    let total = 0
    loop {
        let err, h, x = try recv(mine)
        if err != 0 { return }              # the client closed its end
        total += x
        reply(h, total)
    }
}

task client(id, n) {
    let c = open("files")
    let p, me = call(c, id)                 # p: this client's end of its private channel
    let i = 1
    let sum = 0
    while i <= n { sum = call(p, i); i += 1 }
    print("client", me, "private end", p, "sum", sum)
    close(p)
}

spawn server()
spawn client(1, 3)
spawn client(2, 4)
