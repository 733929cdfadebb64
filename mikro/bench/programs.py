"""Generated `.mk` source of the mikro benchmarks.

Channel names must be string literals, so programs that need many names are written out
as source text with every name in it. A program that measures a steady state prints `go`
when its crowd is set up and every task of it blocked, and a last line when the measured
operations are done: the harness times the interval between the two lines, so setting up
and tearing down a million tasks stays out of the figure. Every program ends clean: the
tasks left wait in `recv`.
"""
from __future__ import annotations

ECHO = """
task echo {
    let ch = channel("echo", MANY)
    loop {
        let m, x = recv(ch)
        reply(m, x + 1)
    }
}
"""

# examples/echo.mk: an echo server and two clients of 100 calls; the program whose
# schedules per second `mikro bench` reports
EXPLORED = ECHO + """
task client(id, n) {
    let c = open("echo")
    let i = 0
    while i < n {
        assert(call(c, i) == i + 1)
        i += 1
    }
    print("client", id, "done")
}
spawn echo()
spawn client(1, 100)
spawn client(2, 100)
"""


def _client(barrier: bool) -> str:
    wait = '    open("go")\n' if barrier else ""
    return f"""
task client(n, w) {{
{wait}    let c = open("echo")
    let i = 0
    while i < w {{
        call(c, i)
        i += 1
    }}
    print("go")
    i = 0
    let x = 0
    while i < n {{
        x = call(c, x)
        i += 1
    }}
    print(x)
}}
"""


# k tasks that stay alive blocked in recv on a connection of `name`, spawned from native
# code; then the spawner opens the barrier "go": whoever waits for it is woken behind
# every idle task still in the (FIFO) ready queue.
IDLE = """
task idle_{name} {{
    let c = open("{name}")
    recv(c)
}}

task spawner_{name}(k) {{
    let i = 0
    while i < k {{
        spawn idle_{name}()
        i += 1
    }}
    let g = channel("go", MANY)
    recv(g)
}}
"""

HUB = """
task hub {
    let h = channel("hub", MANY)
    loop {
        let m, x = recv(h)
        reply(m, x)
    }
}
"""


def roundtrip(n: int, warm: int = 0) -> str:
    """A client makes `warm` calls to an echo server, prints go, makes n more, prints n."""
    return ECHO + _client(False) + f"\nspawn echo()\nspawn client({n}, {warm})\n"


LONG_ECHO = """
task lecho(w) {
    let ch = channel("lecho", MANY)
    let r = array(w)
    loop {
        let m, _, _, _, n = recvbuf(ch, r)
        replybuf(m, r, 0, n)
    }
}

task lclient(n, warm, w) {
    let c = open("lecho")
    let a = array(w)
    let b = array(w)
    let i = 0
    while i < warm {
        callbuf(c, a, 0, w, b)
        i += 1
    }
    print("go")
    i = 0
    while i < n {
        a[0] = i
        callbuf(c, a, 0, w, b)
        assert(b[0] == i)
        i += 1
    }
    print(n)
}
"""


def long_roundtrip(n: int, words: int, warm: int = 0) -> str:
    """A client sends `words` words to an echo server by callbuf and gets them back, n
    times after `warm` round trips; it prints go before the n, n after them."""
    return LONG_ECHO + f"\nspawn lecho({words})\nspawn lclient({n}, {warm}, {words})\n"


SEG_ECHO = """
task secho(w) {
    let ch = channel("secho", ONE)
    let m, s = recv(ch)                 # the client's segment, lent read-write
    reply(m)
    let r = array(w)
    loop {
        let e, h, x = try recv(ch)      # the client's words are in s
        if e != 0 { break }             # the client is done
        r[0] = s[0]
        copy(s, 0, r, 0, w)
        reply(h, x)                     # and the answer's words are in s
    }
}

task sclient(n, w) {
    let s = segment(w)
    let c = open("secho")
    call(c, grant(c, s, RW))
    let a = array(w)
    print("go")
    let i = 0
    while i < n {
        a[0] = i
        copy(s, 0, a, 0, w)
        call(c, i)
        assert(s[0] == i)
        i += 1
    }
    print(n)
}
"""


def segment_roundtrip(n: int, words: int) -> str:
    """The long round trip through a shared segment: the client copies `words` words from
    its array into a segment it lent the server and calls; the server copies as many from
    its own array into the segment and replies, n times; it prints go, then n. Each way
    moves the words once (`copy`), as a long message does."""
    return SEG_ECHO + f"\nspawn secho({words})\nspawn sclient({n}, {words})\n"


def roundtrip_tasks(n: int, tasks: int, warm: int = 0) -> str:
    """The round trip with `tasks` tasks alive in all: the extra ones idle on a separate
    server ("hub"), so the echo server still has one connection."""
    idle = max(tasks - 4, 0)                    # besides: echo, client, hub, spawner
    if not idle:
        return roundtrip(n, warm)
    return (ECHO + _client(True) + HUB + IDLE.format(name="hub")
            + f"\nspawn hub()\nspawn spawner_hub({idle})\nspawn echo()\nspawn client({n}, {warm})\n")


def roundtrip_connections(n: int, conns: int, warm: int = 0) -> str:
    """The round trip on a server with `conns` connections: conns - 1 clients stay idle on
    the echo channel itself, one client calls."""
    if conns <= 1:
        return roundtrip(n, warm)
    return (ECHO + _client(True) + IDLE.format(name="echo")
            + f"\nspawn echo()\nspawn spawner_echo({conns - 1})\nspawn client({n}, {warm})\n")


def push(n: int, clients: int, warm: int = 0) -> str:
    """A server with `clients` connections pushes `warm` messages to its last one
    (connection id `clients`), which takes each with recv, prints go, pushes n more and
    prints n."""
    return f"""
task pub(k, n, w) {{
    let h = channel("pub", MANY)
    let i = 0
    while i < k {{
        let m, x = recv(h)
        reply(m)
        i += 1
    }}
    i = 0
    while i < w {{
        push(h, k, i)
        i += 1
    }}
    print("go")
    i = 0
    while i < n {{
        push(h, k, i)
        i += 1
    }}
    print(n)
    recv(h)
}}

task sub {{
    let c = open("pub")
    send(c, 1)
    loop {{
        recv(c)
    }}
}}

task spawner(k) {{
    let i = 0
    while i < k {{
        spawn sub()
        i += 1
    }}
}}

spawn pub({clients}, {n}, {warm})
spawn spawner({clients})
"""


def open_names(n: int, names: int, built: bool = False) -> str:
    """n open + close of one name while `names` other names are registered; prints go,
    then n. The names are built at run time ("name" and a number), 60 per holder task (a
    task has 64 chandle slots); the holders run (and block) before the opener: the ready
    queue is FIFO. The opened name is the literal "name_target", or with `built` the same
    name built in an array, which no string of the program is: found in the name tree."""
    target = "let t = array(11)\n    put_str(t, 0, \"name_target\")" if built else \
        'let t = 0'
    name = "t" if built else '"name_target"'
    per = 60
    return f"""
fn name(a, k) {{
    let i = put_str(a, 0, "name")
    let d = 1
    while d * 10 <= k {{ d *= 10 }}
    while d > 0 {{ a[i] = '0' + k / d % 10; i += 1; d /= 10 }}
    a[i] = 0
    return a
}}

task holder(first, count) {{
    let a = array(16)
    let i = 0
    let c = 0
    while i < count {{ c = channel(name(a, first + i), MANY); i += 1 }}
    recv(c)
}}

task target {{
    {target}
    let h = channel({name}, MANY)
    recv(h)
}}

task opener(n) {{
    {target}
    print("go")
    let i = 0
    while i < n {{
        let c = open({name})
        close(c)
        i += 1
    }}
    print(n)
}}

task spawner(names) {{
    let first = 0
    while first < names {{
        let count = names - first
        if count > {per} {{ count = {per} }}
        spawn holder(first, count)
        first += count
    }}
    yield()
    spawn target()
    spawn opener({n})
}}

spawn spawner({names})
"""


def throughput(per_client: int, clients: int) -> str:
    """`clients` clients each make `per_client` calls to one echo server, all released at
    once by the barrier; the coordinator prints go, then k when every client is done."""
    return ECHO + f"""
task client(n) {{
    let g = open("go")
    let c = open("echo")
    let i = 0
    while i < n {{
        call(c, i)
        i += 1
    }}
    send(g, 1)
}}

task coordinator(k, n) {{
    let i = 0
    while i < k {{
        spawn client(n)
        i += 1
    }}
    yield()
    print("go")
    let g = channel("go", MANY)
    i = 0
    while i < k {{
        let m, x = recv(g)
        reply(m)
        i += 1
    }}
    print(k)
}}

spawn echo()
spawn coordinator({clients}, {per_client})
"""


def spawn_tasks(k: int) -> str:
    """k tasks spawned from native code, each left alive blocked in recv. Prints go, then
    k once every one of them has run: yield puts the spawner behind them all."""
    return HUB + f"""
task idle {{
    let c = open("hub")
    recv(c)
}}

task spawner(k) {{
    print("go")
    let i = 0
    while i < k {{
        spawn idle()
        i += 1
    }}
    yield()
    print(k)
}}

spawn hub()
spawn spawner({k})
"""


def straight_code(statements: int) -> str:
    """A program of `statements` arithmetic statements: compile cost per instruction."""
    body = "\n".join(f"    x = x * {3 + i % 7} + {i} ^ (x >> {1 + i % 13})" for i in range(statements))
    return f"task main(x) {{\n{body}\n    print(x)\n}}\n\nspawn main(1)\n"


def mixed_code(statements: int) -> str:
    """A program of about `statements` statements of every shape real programs have:
    functions of ten statements each, with branches, a bounded loop, calls of the function
    before, arrays and prints (a syscall); a server and a client make IPC calls. Every run
    of it ends clean."""
    fns = []
    for f in range(max(statements // 10, 1)):
        call = f"x = f{f - 1}(x, {f % 5}) + 1" if f else "x = x + 1"
        fns.append(f"""fn f{f}(x, y) {{
    let a = array(4)
    if x > {f} {{
        x = x * 3 + y
    }} else {{
        x = x - {f % 7} ^ y
    }}
    let i = 0
    while i < 3 {{
        a[i % 4] = x + i
        i += 1
    }}
    {call}
    if x % 17 == {f % 17} {{ print(x) }}
    return x + a[1]
}}""")
    last = len(fns) - 1
    return "\n".join(fns) + f"""
task server {{
    let ch = channel("s", MANY)
    loop {{
        let m, x = recv(ch)
        reply(m, f{last}(x, 1))
    }}
}}
task client {{
    let c = open("s")
    print(call(c, 1) % 1000)
}}
spawn server()
spawn client()
"""


def notify_roundtrip(n: int, warm: int = 0) -> str:
    """Two tasks on a ONE channel signal each other in turn, each waiting for the other's
    bit (the notification counterpart of a call/reply round trip): `warm` round trips,
    go, n more, n."""
    return f"""
task pinger(n, w) {{
    let o = channel("bell", ONE)
    wait()                              # the ponger has opened its end
    let i = 0
    while i < w {{
        notify(o, 1)
        wait()
        i += 1
    }}
    print("go")
    i = 0
    while i < n {{
        notify(o, 1)
        wait()
        i += 1
    }}
    print(n)
    notify(o, 2)
}}

task ponger {{
    let o = open("bell")
    notify(o, 1)
    while wait() == 1 {{
        notify(o, 1)
    }}
}}

spawn pinger({n}, {warm})
spawn ponger()
"""


# task switches after a program's last timed line: native code returns to Python (which
# stamps the line) after at most 2^16 switches (x86 run.BUDGET), so the work after them
# is not timed
TEARDOWN_AFTER = (1 << 16) + 16


def restart_cycle(n: int, warm: int = 0, fresh: bool = False) -> str:
    """A supervisor and a task that ends at once: each cycle the supervisor restarts it
    and waits for the bit of its end. `fresh`, the baseline without supervision: each
    cycle spawns a new task that opens a ONE channel of the supervisor and ends, its end
    seen as E_CLOSED in the supervisor's recv. `warm` cycles, go, n more, n."""
    if fresh:
        cycle = """let o = channel("end", ONE)
        spawn leaver()
        let e = try recv(o)
        close(o)"""
    else:
        cycle = """w = restart(w)
        wait()"""
    return f"""
task quitter {{ exit(0) }}
task leaver {{
    let c = open("end")
    exit(0)
}}

task sup(n, k) {{
    let w = spawn quitter()
    monitor(w, 1)
    wait()
    let i = 0
    while i < k {{
        {cycle}
        i += 1
    }}
    print("go")
    i = 0
    while i < n {{
        {cycle}
        i += 1
    }}
    print(n)
}}

spawn sup({n}, {warm})
"""


def timers(n: int, pending: int, warm: int = 0) -> str:
    """`pending` tasks sleep with deadlines far off while one task sleeps one tick at a
    time: `warm` sleeps, go, n more, n. Each sleep sets a deadline in a heap of `pending`
    others, and the clock moving to it fires it. Then the task gives way until its last
    line has reached Python: the pending deadlines fire at the end of the run, and the
    pending tasks end, after it (timed, that teardown was most of the figure at 10^5)."""
    return f"""
task sleeper(t) {{
    sleep(t)
}}

task ticker(k, n, w) {{
    let i = 0
    while i < k {{
        spawn sleeper(1000000000000 + i)
        i += 1
    }}
    sleep(1)                            # the sleepers have set their deadlines
    i = 0
    while i < w {{
        sleep(1)
        i += 1
    }}
    print("go")
    i = 0
    while i < n {{
        sleep(1)
        i += 1
    }}
    print(n)
    i = 0
    while i < {TEARDOWN_AFTER} {{         # the line reaches Python before the sleepers'
        yield()                         # deadlines fire and their tasks end (not timed)
        i += 1
    }}
}}

spawn ticker({pending}, {n}, {warm})
"""


def select_roundtrip(n: int, members: int, warm: int = 0) -> str:
    """The round trip with the echo server waiting in select over `members` handles
    before each recv: its own channel and members - 1 idle connections to another server,
    so every select looks at its whole set and waits (the client has not called again
    yet) before a call wakes it: `warm` calls, go, n more, n."""
    return _client(False) + f"""
task idle {{
    let ch = channel("idle", MANY)
    loop {{
        let m = recv(ch)
        reply(m)
    }}
}}

task echo(k) {{
    let ch = channel("echo", MANY)
    let set = array(k)
    set[0] = ch
    let i = 1
    while i < k {{
        set[i] = open("idle")
        i += 1
    }}
    loop {{
        select(set)
        let m, x = recv(ch)
        reply(m, x + 1)
    }}
}}

spawn idle()
spawn echo({members})
spawn client({n}, {warm})
"""


def typed_roundtrip(n: int, warm: int = 0) -> str:
    """The round trip with the echo server taking the most urgent message (recv_type with
    a negative type) and the client calling with a type: `warm` calls, go, n more, n."""
    return f"""
task echo {{
    let ch = channel("echo", MANY)
    loop {{
        let m, x = recv_type(ch, -9)
        reply(m, x + 1)
    }}
}}

task client(n, w) {{
    let c = open("echo")
    let i = 0
    while i < w {{
        call(c, i, 0, 0, 3)
        i += 1
    }}
    print("go")
    i = 0
    let x = 0
    while i < n {{
        x = call(c, x, 0, 0, 3)
        i += 1
    }}
    print(x)
}}

spawn echo()
spawn client({n}, {warm})
"""
