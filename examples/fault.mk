# fault.mk: one worker reads past the end of its array. That task alone is killed, the
# report says where (with the call chain), and the other workers finish.
fn average(a, n) {
    let sum = 0
    let i = 0
    while i <= n {                      # the bug: <= reads a[n]
        sum += a[i]
        i += 1
    }
    return sum / n
}

task worker(id, n) {
    let a = array(n)
    let i = 0
    while i < n {
        a[i] = i * id
        i += 1
    }
    if id == 2 {
        print("worker", id, "average", average(a, n))
    } else {
        print("worker", id, "sum", a[0] + a[n - 1])
    }
}

spawn worker(1, 4)
spawn worker(2, 4)
spawn worker(3, 4)
