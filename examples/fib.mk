# fib.mk: a server computes Fibonacci numbers recursively; the client checks them with a loop.
fn fib(n) {
    if n < 2 { return n }
    return fib(n - 1) + fib(n - 2)
}

task server {
    let ch = channel("fib", MANY)
    loop {
        let m, n = recv(ch)
        reply(m, fib(n))
    }
}

task client {
    let c = open("fib")
    let a = 0
    let b = 1
    let n = 0
    while n <= 20 {
        assert(call(c, n) == a)
        let t = a + b
        a = b
        b = t
        n += 1
    }
    print("fib(20) =", call(c, 20), "fib(25) =", call(c, 25))
}

spawn server()
spawn client()
