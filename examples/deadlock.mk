# deadlock.mk: two tasks call each other at the same time over 1-to-1 channels. Neither can
# answer, so the run ends in a deadlock, and the report says who waits where.
task alice {
    let mine = channel("alice", ONE)
    let bob = open("bob")
    let answer = ask(bob, 1)
    print("alice got", answer)
}

task bob {
    let mine = channel("bob", ONE)
    let alice = open("alice")
    let answer = ask(alice, 2)
    print("bob got", answer)
}

fn ask(h, question) {
    return call(h, question)
}

spawn alice()
spawn bob()
