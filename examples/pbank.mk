# pbank.mk: the client-server bank of the P language's tutorial, in mikro.
#
# A bank server answers withdrawals; it keeps the balances in a database task, which it
# reads and then updates for each request; each account must keep at least 10. A client
# withdraws a random amount (`choose`, decided by the explorer as P's checker decides
# `choose`) until it has 10 left, and checks the bank's answers as the tutorial's client
# does: the balance never falls below 10, and a refused withdrawal leaves it unchanged.
# The planted bug is in the server's check, which lets a withdrawal take the balance to
# 0..9. The default schedule chooses 0 (withdraw 1 at a time) and `mikro run` ends clean;
# `mikro test examples/pbank.mk` finds a choice of amounts that breaks the rule.
const READ = 1
const UPDATE = 2
const MIN = 10

task database {
    let ch = channel("db", MANY)
    let balances = array(3)
    balances[1] = 40
    balances[2] = 25
    loop {
        let m, op, account, value = recv(ch)
        if op == UPDATE { balances[account] = value }
        reply(m, balances[account])
    }
}

task server {
    let ch = channel("bank", MANY)
    let db = open("db")
    loop {
        let m, account, amount = recv(ch)
        let balance = call(db, READ, account)
        if balance - amount >= 0 {                   # the bug: the minimum is MIN, not 0
            call(db, UPDATE, account, balance - amount)
            reply(m, 1, balance - amount)
        } else {
            reply(m, 0, balance)
        }
    }
}

task client(account, balance) {
    let bank = open("bank")
    while balance > MIN {
        let amount = choose(4) * balance / 3 + 1     # from 1 to the whole balance + 1
        let ok, now = call(bank, account, amount)
        assert(now >= MIN, "the bank left less than 10 in an account")
        if ok == 0 { assert(now == balance, "a refused withdrawal changed the balance") }
        balance = now
    }
    print("account", account, "has", balance, "left")
}

spawn database()
spawn server()
spawn client(1, 40)
spawn client(2, 25)
