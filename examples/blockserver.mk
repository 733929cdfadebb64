# blockserver.mk: clients of the stdlib disk server (mikro/stdlib/disk.mk) write and read
# ranges of any length, each in one round trip: the words are copied once, at the
# rendezvous, between the client's array and the server's memory (long messages).
import "disk"

# write n words at pos, read them back into a fresh array, check every word
task client(id, pos, n) {
    let c = disk.connect()
    let a = array(n)
    let i = 0
    while i < n { a[i] = id * 1_000_000 + i; i += 1 }
    let wrote = disk.write(c, pos, a, 0, n)
    let b = array(n)
    let got = disk.read(c, pos, n, b)
    let bad = 0
    i = 0
    while i < n { if b[i] != a[i] { bad += 1 } i += 1 }
    print("client", id, "wrote", wrote, "read", got, "words at", pos, "wrong:", bad)
}

# a part of an array, a read larger than the buffer, a range off the disk
task edges {
    let c = disk.connect()
    let a = array(10)
    let i = 0
    while i < 10 { a[i] = 100 + i; i += 1 }
    disk.write(c, 8000, a, 4, 3)                   # a[4], a[5], a[6]
    let small = array(2)
    let n = disk.read(c, 8000, 3, small)           # 3 words sent, the 2 that fit land
    print("edges: read", n, "kept", small[0], small[1])
    print("edges: off the disk", disk.write(c, disk.SIZE - 1, a, 0, 2) == E_INVAL,
          disk.read(c, -1, 1, small) == E_INVAL, "size", disk.size(c))
}

spawn disk.server()
spawn client(1, 0, 1)
spawn client(2, 10, 100)
spawn client(3, 1000, 5000)
spawn edges()
