# pubsub.mk: a hub pushes every published message to each subscriber (server-initiated
# sends with `push`); subscribers take them with `recv` on their own connection.
import "pubsub"

const NEWS = 1
const STOP = 2

task subscriber(id) {
    let s = pubsub.subscribe()
    let got = 0
    loop {
        let h, topic, value = recv(s)
        if topic == STOP { break }
        got += value
    }
    print("subscriber", id, "got", got)
}

task publisher(n) {
    let p = pubsub.connect()
    yield()                              # let the subscribers subscribe first
    let i = 1
    while i <= n {
        let reached = pubsub.publish(p, NEWS, i)
        assert(reached == 3, "every subscriber gets every message")
        i += 1
    }
    pubsub.publish(p, STOP, 0)
    print("published", n, "messages")
}

spawn pubsub.hub()
spawn subscriber(1)
spawn subscriber(2)
spawn subscriber(3)
spawn publisher(5)
