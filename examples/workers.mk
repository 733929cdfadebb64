# workers.mk: a registry of workers named by number.
#
# Each worker registers the name "worker-N", built at run time in an array (put_str writes
# the literal part, the digits are computed). A client finds worker N by building the
# same name; `open` waits for a worker that has not registered yet, and a literal name
# ("worker-3" below) meets a name built at run time: a name is its bytes.

fn digits(a, i, n) {
    if n >= 10 { i = digits(a, i, n / 10) }
    a[i] = '0' + n % 10
    return i + 1
}

fn worker_name(n) {
    let a = array(16)
    digits(a, put_str(a, 0, "worker-"), n)
    return a
}

task worker(n) {
    let c = channel(worker_name(n), MANY)
    loop {
        let m, x = recv(c)
        reply(m, x * n)
    }
}

task client {
    let i = 1
    while i <= 4 {
        let w = open(worker_name(i * 3))    # waits until worker i*3 is there
        print("worker", i * 3, "says", call(w, 2))
        close(w)
        i += 1
    }
    print("worker-3 says", call(open("worker-3"), 5))
}

task starter(n) {
    let i = n
    while i > 0 { spawn worker(i); i -= 1 }
}

spawn client()
spawn starter(12)
