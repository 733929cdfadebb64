# ring.mk: a producer streams numbers to a consumer through a ring in a shared segment.
# The words move by plain array stores and loads, with no syscall per word; messages only
# say how far each side got, so the producer never overwrites what is not yet read.
const SLOTS = 8
const END = -1

task consumer {
    let ch = channel("ring", ONE)
    let m, ring = recv(ch)              # the producer's grant: our name for its ring
    reply(m)
    let got = 0
    let sum = 0
    loop {
        let m2, upto = recv(ch)         # items got .. upto - 1 are in the ring
        if upto == END { break }
        while got < upto {
            sum += ring[got % len(ring)]
            got += 1
        }
        reply(m2, got)                  # their slots are free again
    }
    print("consumer read", got, "items, sum", sum)
}

task producer(n) {
    let ring = segment(SLOTS)
    let c = open("ring")
    call(c, grant(c, ring, RO))         # the consumer may read the ring, not write it
    let sent = 0
    let freed = 0                       # the consumer has read everything before this
    while sent < n {
        while sent < n && sent - freed < SLOTS {
            ring[sent % SLOTS] = sent * sent
            sent += 1
        }
        freed = call(c, sent)
    }
    send(c, END)
    revoke(ring)                        # the consumer's reference is stale from here
    print("producer wrote", n, "items through", SLOTS, "slots")
}

spawn consumer()
spawn producer(100)
