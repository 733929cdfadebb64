# disk: a server holding SIZE words that clients read and write in ranges of any length,
# each in one round trip: the words move as a long message, copied once between the
# client's array and the server's memory (docs/kernel.md, "Long messages").
#
#   import "disk"
#   spawn disk.server()
#   let c = disk.connect()
#   disk.write(c, 100, a, 0, len(a))     # a's words to disk[100 ..]; gives the count
#   let b = array(50)
#   disk.read(c, 100, 50, b)             # disk[100 .. 150) into b; gives 50
#   disk.size(c)                         # SIZE

const READ = 1
const WRITE = 2
const SIZEOF = 3
const SIZE = 8192         # words on the disk (64 KiB)

# pos .. pos + n is a range of the disk (exact: no sum that could wrap)
fn inside(pos, n) { return pos >= 0 && n >= 0 && pos <= SIZE && n <= SIZE - pos }

task server {
    let ch = channel("disk", MANY)
    let d = array(SIZE)
    let in = array(SIZE)          # where a write's words land before they go to d
    loop {
        let m, op, pos, n, got = recvbuf(ch, in)
        if op == READ {
            if !inside(pos, n) { replybuf(m, 0, 0, 0, E_INVAL); continue }
            replybuf(m, d, pos, n, n)
        } else if op == WRITE {
            if !inside(pos, got) { replybuf(m, 0, 0, 0, E_INVAL); continue }
            let i = 0
            while i < got { d[pos + i] = in[i]; i += 1 }
            replybuf(m, 0, 0, 0, got)
        } else if op == SIZEOF {
            replybuf(m, 0, 0, 0, SIZE)
        } else {
            replybuf(m, 0, 0, 0, E_INVAL)
        }
    }
}

fn connect() { return open("disk") }
# a[off .. off + n) to disk[pos ..]: n, or E_INVAL when it would not fit on the disk
fn write(c, pos, a, off, n) { return callbuf(c, a, off, n, 0, WRITE, pos) }
# disk[pos .. pos + n) into dst (its first len(dst) words when n is larger): n, or E_INVAL
fn read(c, pos, n, dst) { return callbuf(c, 0, 0, 0, dst, READ, pos, n) }
fn size(c) { return callbuf(c, 0, 0, 0, 0, SIZEOF) }
