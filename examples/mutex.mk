# mutex.mk: workers take turns in a critical section guarded by the stdlib mutex server.
# A worker that finds the lock taken waits in its `call` until the holder unlocks.
import "sync"

task worker(id, rounds) {
    let c = sync.connect()
    let i = 0
    while i < rounds {
        sync.lock(c)
        print("worker", id, "in round", i)
        yield()                          # others run, but none enters
        sync.unlock(c)
        i += 1
    }
}

spawn sync.mutex()
spawn worker(1, 2)
spawn worker(2, 2)
spawn worker(3, 2)
