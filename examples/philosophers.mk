# philosophers.mk: five dining philosophers and a waiter server that hands out both forks
# at once. A request that cannot be granted yet is answered later: the waiter keeps the
# mhandle and replies when a neighbour puts its forks down, so nobody deadlocks.
const N = 5
const TAKE = 1
const PUT = 2
const MEALS = 3

task waiter {
    let ch = channel("waiter", MANY)
    let fork = array(N)                  # 1 while a fork is in use
    let pending = array(N)               # mhandle of a philosopher waiting to eat, or -1
    let i = 0
    while i < N { pending[i] = -1; i += 1 }
    loop {
        let m, op, p = recv(ch)
        let left = p
        let right = (p + 1) % N
        if op == TAKE {
            if fork[left] == 0 && fork[right] == 0 {
                fork[left] = 1
                fork[right] = 1
                reply(m)
            } else {
                pending[p] = m
            }
        } else {
            fork[left] = 0
            fork[right] = 0
            reply(m)
            # a neighbour may now eat
            let q = 0
            while q < N {
                let l = q
                let r = (q + 1) % N
                if pending[q] >= 0 && fork[l] == 0 && fork[r] == 0 {
                    fork[l] = 1
                    fork[r] = 1
                    reply(pending[q])
                    pending[q] = -1
                }
                q += 1
            }
        }
    }
}

task philosopher(p) {
    let w = open("waiter")
    let meal = 0
    while meal < MEALS {
        call(w, TAKE, p)
        meal += 1
        print("philosopher", p, "eats meal", meal)
        yield()
        call(w, PUT, p)
    }
    print("philosopher", p, "is full")
}

spawn waiter()
spawn philosopher(0)
spawn philosopher(1)
spawn philosopher(2)
spawn philosopher(3)
spawn philosopher(4)
