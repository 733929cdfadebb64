# The stdlib servers, tested in mikro itself: the pytest plugin runs each test block on
# every backend and checks its `# expect:` lines.
import "kv"
import "sync"
import "pubsub"
import "disk"

spawn kv.server()
spawn sync.mutex()
spawn pubsub.hub()
spawn disk.server()

test "kv: a put is read back, a missing key reads 0" {
    let c = kv.connect()
    kv.put(c, 7, 49)
    kv.put(c, 8, -1)
    print(kv.get(c, 7), kv.get(c, 8), kv.get(c, 9))     # expect: 49 -1 0
    print(kv.has(c, 7), kv.has(c, 9), kv.size(c))       # expect: 1 0 2
}

test "kv: each connection has its own table" {
    let a = kv.connect()
    let b = kv.connect()
    kv.put(a, 1, 10)
    kv.put(b, 1, 20)
    print(kv.get(a, 1), kv.get(b, 1), kv.size(a))       # expect: 10 20 1
}

test "kv: a full table says E_NOSPACE" {
    let c = kv.connect()
    let i = 0
    while i < kv.SLOTS { assert(kv.put(c, i, i) == 0); i += 1 }
    print(kv.put(c, 1000, 1) == E_NOSPACE, kv.size(c))  # expect: 1 64
}

task contender(n) {
    let c = sync.connect()
    let i = 0
    while i < n {
        sync.lock(c)
        let k = kv.connect()
        yield()
        close(k)
        sync.unlock(c)
        i += 1
    }
}

test "sync: lock is not re-entrant, unlock needs the owner" {
    let a = sync.connect()
    let b = sync.connect()
    print(sync.lock(a), sync.lock(a) == E_BUSY)         # expect: 0 1
    print(sync.unlock(b) == E_INVAL, sync.unlock(a))    # expect: 1 0
}

test "sync: waiters get the lock in turn" {
    spawn contender(3)
    spawn contender(3)
    let c = sync.connect()
    sync.lock(c)
    yield()
    sync.unlock(c)
    print("done")                                       # expect: done
}

# A subscriber says when it has subscribed and what it got, through the test's channel,
# so the test is the same under every schedule.
task subscriber(id) {
    let s = pubsub.subscribe()
    let r = open("ready")
    call(r, 0)
    let h, topic, value = recv(s)
    call(r, id * 1000 + value)
}

test "pubsub: a publish reaches every subscriber" {
    let ready = channel("ready", MANY)
    spawn subscriber(1)
    spawn subscriber(2)
    let n = 0
    while n < 2 { let m = recv(ready); reply(m); n += 1 }
    let p = pubsub.connect()
    print("reached", pubsub.publish(p, 3, 99))          # expect: reached 2
    let sum = 0
    while n < 4 { let m, got = recv(ready); reply(m); sum += got; n += 1 }
    print("got", sum)                                   # expect: got 3198
}

test "disk: a range written is read back, by any connection" {
    let c = disk.connect()
    let a = array(300)
    let i = 0
    while i < 300 { a[i] = i * i; i += 1 }
    print(disk.write(c, 7, a, 100, 200))                # expect: 200
    let b = array(200)
    let other = disk.connect()
    print(disk.read(other, 7, 200, b), b[0], b[199])    # expect: 200 10000 89401
}

test "disk: a read larger than its buffer keeps what fits and says how much was sent" {
    let c = disk.connect()
    let b = array(1)
    print(disk.read(c, 0, 5, b), disk.size(c))          # expect: 5 8192
}

test "disk: a range off the disk is E_INVAL" {
    let c = disk.connect()
    let a = array(4)
    let b = array(4)
    print(disk.write(c, disk.SIZE - 3, a, 0, 4) == E_INVAL,
          disk.read(c, disk.SIZE, 1, b) == E_INVAL,
          disk.read(c, disk.SIZE, 0, b))                 # expect: 1 1 0
}

test "a failed assert is the expected fault" {
    # expect-status: fault
    assert(kv.get(kv.connect(), 1) == 1, "nothing was put")
}
