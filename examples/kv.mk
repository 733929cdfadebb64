# kv.mk: three clients of the stdlib key-value server. Each connection has its own table,
# which the server finds through the per-client word, so equal keys do not collide.
import "kv"

task client(id, n) {
    let c = kv.connect()
    let k = 0
    while k < n {
        kv.put(c, k, id * 100 + k)
        k += 1
    }
    let sum = 0
    k = 0
    while k < n {
        sum += kv.get(c, k)
        k += 1
    }
    print("client", id, "stored", kv.size(c), "keys, sum", sum, "has 99:", kv.has(c, 99))
}

spawn kv.server()
spawn client(1, 10)
spawn client(2, 20)
spawn client(3, 5)
