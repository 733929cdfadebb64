# feed.mk: a server keeps a history of readings and pushes every subscriber the latest
# window of it as one long message (pushbuf), cut out of the history with copy.
const READINGS = 10
const WINDOW = 4
const READERS = 2

task feed {
    let ch = channel("feed", MANY)
    let subs = array(READERS)
    let n = 0
    while n < READERS {                 # a subscriber calls once; its connection is kept
        let m, id = recv(ch)
        subs[n] = conn(m)
        reply(m, n)
        n += 1
    }
    let history = array(READINGS)
    let i = 0
    while i < READINGS {
        history[i] = i * i
        i += 1
    }
    let window = array(WINDOW)
    copy(window, 0, history, READINGS - WINDOW, WINDOW)    # the last WINDOW readings
    i = 0
    while i < READERS {
        pushbuf(ch, subs[i], window, 0, WINDOW, READINGS)   # waits until taken
        i += 1
    }
    print("feed pushed", WINDOW, "readings to", READERS, "readers")
}

task reader(id) {
    let c = open("feed")
    call(c, id)
    let buf = array(8)
    let h, total, w1, w2, got = recvbuf(c, buf)
    let sum = 0
    let i = 0
    while i < got {
        sum += buf[i]
        i += 1
    }
    print("reader", id, "got", got, "of", total, "readings, last", buf[got - 1], "sum", sum)
}

spawn feed()
spawn reader(1)
spawn reader(2)
