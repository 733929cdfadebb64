# kv: a key-value server. Each connection has its own table, found in O(1) through the
# per-client word the kernel hands the server with every message: no lookup by client id.
#
#   import "kv"
#   spawn kv.server()
#   let c = kv.connect()
#   kv.put(c, 7, 49)
#   kv.get(c, 7)          # 49; 0 for a key never put
#   kv.has(c, 7)          # 1
#   kv.size(c)            # number of keys of this connection

const PUT = 1
const GET = 2
const HAS = 3
const SIZE = 4
const SLOTS = 64          # keys per connection (open addressing, linear probing)

# A table is one array: SLOTS used flags, SLOTS keys, SLOTS values, then the key count.
fn table(m) {
    let t = data(m)
    if t == 0 {
        t = array(3 * SLOTS + 1)
        set_data(m, t)
    }
    return t
}

# The slot holding key, or the free slot where it would go, or -1 when the table is full.
fn slot(t, key) {
    let i = (key ^ (key >>> 29)) & (SLOTS - 1)
    let n = 0
    while n < SLOTS {
        if t[i] == 0 || t[SLOTS + i] == key { return i }
        i = (i + 1) & (SLOTS - 1)
        n += 1
    }
    return -1
}

task server {
    let ch = channel("kv", MANY)
    loop {
        let m, op, key, value = recv(ch)
        let t = table(m)
        let i = slot(t, key)
        if op == PUT {
            if i < 0 { reply(m, E_NOSPACE); continue }
            if t[i] == 0 {
                t[i] = 1
                t[SLOTS + i] = key
                t[3 * SLOTS] = t[3 * SLOTS] + 1
            }
            t[2 * SLOTS + i] = value
            reply(m, 0)
        } else if op == GET {
            if i >= 0 && t[i] == 1 { reply(m, t[2 * SLOTS + i]) } else { reply(m, 0) }
        } else if op == HAS {
            reply(m, i >= 0 && t[i] == 1)
        } else if op == SIZE {
            reply(m, t[3 * SLOTS])
        } else {
            reply(m, E_INVAL)
        }
    }
}

fn connect() { return open("kv") }
fn put(c, key, value) { return call(c, PUT, key, value) }
fn get(c, key) { return call(c, GET, key) }
fn has(c, key) { return call(c, HAS, key) }
fn size(c) { return call(c, SIZE) }
