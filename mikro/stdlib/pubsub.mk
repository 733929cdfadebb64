# pubsub: a hub that forwards each published word to every subscriber with `push`.
# A subscriber subscribes on its own connection, then takes messages with `recv`;
# `publish` returns once every subscriber has taken the message.
#
#   import "pubsub"
#   spawn pubsub.hub()
#   let s = pubsub.subscribe()          # a subscriber's connection
#   let h, topic, value = recv(s)       # one published message
#   let p = pubsub.connect()
#   pubsub.publish(p, topic, value)     # gives the number of subscribers reached

const SUBSCRIBE = 1
const PUBLISH = 2
const UNSUBSCRIBE = 3
const MAXSUBS = 256

task hub {
    let ch = channel("pubsub", MANY)
    let subs = array(MAXSUBS)          # connection ids, in subscription order
    let n = 0
    loop {
        let m, op, topic, value = recv(ch)
        if op == SUBSCRIBE {
            if n == MAXSUBS { reply(m, E_NOSPACE); continue }
            subs[n] = conn(m)
            n += 1
            reply(m, 0)
        } else if op == PUBLISH {
            let i = 0
            let reached = 0
            while i < n {
                let err = try push(ch, subs[i], topic, value)
                if err == 0 {
                    reached += 1
                    i += 1
                } else {
                    n -= 1                       # gone: drop it
                    subs[i] = subs[n]
                }
            }
            reply(m, reached)
        } else if op == UNSUBSCRIBE {
            let i = 0
            while i < n {
                if subs[i] == conn(m) {
                    n -= 1
                    subs[i] = subs[n]
                    break
                }
                i += 1
            }
            reply(m, 0)
        } else {
            reply(m, E_INVAL)
        }
    }
}

fn connect() { return open("pubsub") }

fn subscribe() {
    let c = open("pubsub")
    call(c, SUBSCRIBE)
    return c
}

fn publish(c, topic, value) { return call(c, PUBLISH, topic, value) }
fn unsubscribe(c) { return call(c, UNSUBSCRIBE) }
