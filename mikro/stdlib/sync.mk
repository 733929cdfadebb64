# sync: a mutex server. A lock request that cannot be granted is not answered: the server
# keeps its mhandle and replies when the lock is released, so waiting costs the client
# nothing but its blocked `call`.
#
#   import "sync"
#   spawn sync.mutex()
#   let c = sync.connect()
#   sync.lock(c)
#   ...critical section...
#   sync.unlock(c)

const LOCK = 1
const UNLOCK = 2
const MAXWAIT = 60        # an mhandle slot is kept for each waiter (64 slots per task)

task mutex {
    let ch = channel("mutex", MANY)
    let owner = 0          # connection id holding the lock, 0 when free
    let waiting = array(MAXWAIT)     # FIFO of (mhandle) waiting for the lock
    let conns = array(MAXWAIT)       # their connection ids
    let head = 0
    let count = 0
    loop {
        let m, op = recv(ch)
        if op == LOCK {
            if owner == 0 {
                owner = conn(m)
                reply(m, 0)
            } else if owner == conn(m) {
                reply(m, E_BUSY)                 # not re-entrant
            } else if count == MAXWAIT {
                reply(m, E_NOSPACE)
            } else {
                let tail = (head + count) % MAXWAIT
                waiting[tail] = m
                conns[tail] = conn(m)
                count += 1
            }
        } else if op == UNLOCK {
            if owner != conn(m) {
                reply(m, E_INVAL)
                continue
            }
            owner = 0
            reply(m, 0)
            if count > 0 {
                owner = conns[head]
                reply(waiting[head], 0)
                head = (head + 1) % MAXWAIT
                count -= 1
            }
        } else {
            reply(m, E_INVAL)
        }
    }
}

fn connect() { return open("mutex") }
fn lock(c) { return call(c, LOCK) }
fn unlock(c) { return call(c, UNLOCK) }
