# supervisor: restart the tasks that fail, one for one, with a limit on the rate.
#
#   import "supervisor"
#   task sup {
#       let s = supervisor.new(3, 100)          # at most 3 restarts in any 100 ticks
#       supervisor.add(s, spawn worker())
#       exit(supervisor.run(s))                 # GAVE_UP (1) past the limit: escalate
#   }
#
# The calling task supervises its children through the kernel (monitor, status, restart):
# child i signals bit i of the task's pending word when it ends, so `run` waits for all of
# them in one `wait`. A child that faults or exits with a code other than 0 is restarted (with
# its spawn arguments, as the next generation); one that ends with 0 is done.

const MAXKIDS = 64        # children at most: one bit of the pending word each
const DONE = 0            # run: every child ended with 0
const GAVE_UP = 1         # run: one more restart would pass the limit
# a supervisor's array: its settings and counts, the children's ids, then a ring holding
# the ticks of the last `max` restarts
const MAX = 0             # restarts allowed in a window
const WINDOW = 1          # its length, in ticks
const NKIDS = 2           # children added
const RUNNING = 3         # children not ended with 0
const KEPT = 4            # restart ticks in the ring
const OLDEST = 5          # where the oldest of them is
const KIDS = 8
const RING = KIDS + MAXKIDS

fn new(max, window) {
    assert(max >= 0 && window >= 0, "supervisor.new: max and window must not be negative")
    let s = array(RING + max)
    s[MAX] = max
    s[WINDOW] = window
    return s
}

# Supervise task `id` (one the caller may monitor): 0, or the error of `monitor`, or
# E_NOSPACE past MAXKIDS children.
fn add(s, id) {
    let n = s[NKIDS]
    if n == MAXKIDS { return E_NOSPACE }
    let err = try monitor(id, 1 << n)
    if err != 0 { return err }
    s[KIDS + n] = id
    s[NKIDS] = n + 1
    s[RUNNING] += 1
    return 0
}

# The id of child i now (a restart gives it a new one).
fn child(s, i) { return s[KIDS + i] }

# Restart the children that fail until every one has ended with 0 (DONE) or a restart
# would pass the limit (GAVE_UP: that child stays ended, the others run on). The calling
# task's pending word is the children's while it runs.
fn run(s) {
    while s[RUNNING] > 0 {
        let bits = wait()
        let i = 0
        while i < s[NKIDS] {
            if (bits >>> i) & 1 != 0 && ended(s, i) == GAVE_UP { return GAVE_UP }
            i += 1
        }
    }
    return DONE
}

# Child i has ended: done, restarted, or the limit is reached.
fn ended(s, i) {
    let how, code = status(s[KIDS + i])
    if how == T_EXITED && code == 0 {
        s[RUNNING] -= 1
        return DONE
    }
    if !allow(s) { return GAVE_UP }
    s[KIDS + i] = restart(s[KIDS + i])
    return DONE
}

# Whether one more restart stays within MAX in any WINDOW ticks; if so, its tick is kept.
fn allow(s) {
    let max = s[MAX]
    if max == 0 { return 0 }
    let t = now()
    if s[KEPT] == max {
        if t - s[RING + s[OLDEST]] < s[WINDOW] { return 0 }
        s[OLDEST] = (s[OLDEST] + 1) % max
        s[KEPT] -= 1
    }
    s[RING + (s[OLDEST] + s[KEPT]) % max] = t
    s[KEPT] += 1
    return 1
}
