"""The native kernel's structures: one table (layout.py) gives the IR types and the ctypes
views, and both must agree byte for byte; the memory a task costs; mhandle tables, which
only the creator of a MANY channel has."""
from __future__ import annotations

import ctypes

import pytest
from llvmlite import binding as llvm
from llvmlite import ir

from mikro.backends import x86
from mikro.backends.x86 import engine
from mikro.backends.x86 import layout as L
from mikro.vm import abi
from mikro.vm.asm import assemble as asm


@pytest.fixture(scope="module")
def parsed():
    """The structures as LLVM sees them: a module with a global of each, and the host's
    data layout."""
    td = engine._target_machine().target_data
    mod = ir.Module(context=ir.Context())
    lay = L.Layout(mod.context)
    for name in L.ORDER:
        ir.GlobalVariable(mod, lay.types[name], "g." + name)
    ll = llvm.parse_assembly(str(mod))
    return td, {name: ll.get_global_variable("g." + name).global_value_type for name in L.ORDER}


@pytest.mark.parametrize("name", L.ORDER)
def test_ir_and_ctypes_views_agree(name, parsed):
    td, types = parsed
    c = L.C[name]
    assert td.get_abi_size(types[name]) == ctypes.sizeof(c)
    for i, (field, _, _) in enumerate(L.STRUCTS[name]):
        assert td.get_element_offset(types[name], i) == getattr(c, field).offset, field


def test_task_structure_fits_in_two_kib():
    # the task structure, a free-list entry and a ready-queue entry (mikro/bench/costs.py)
    assert ctypes.sizeof(L.CTask) + 16 < 2048
    assert ctypes.sizeof(L.C["ChSlot"]) == 16 and ctypes.sizeof(L.C["MhSlot"]) == 16
    assert L.MH_TABLE_BYTES == 16 * abi.MH_SLOTS


# A server spawned anew three times (the slot of the one before reused each time): each
# makes a ONE channel (no mhandle table) and then a MANY one (a table), takes 70 calls (more
# than MH_SLOTS messages, so slots and generations turn over), checks that the mhandle of
# the last message still answers data/conn, and exits, freeing its table.
SERVERS = '''
.task boss
.task server
.task client
.task pest
.boot boss
boss:
    li a0, "done"
    li a1, 2
    sys channel
    mov s1, a1
    li s0, 3
again:
    li a0, 1
    sys spawn
    li a0, 2
    sys spawn
    li a0, 3
    sys spawn
    mov a0, s1
    sys recv
    mov a0, a1
    sys reply
    addi s0, s0, -1
    bnz s0, again
    li a0, 0
    sys exit
server:
    li a0, "one"
    li a1, 1
    sys channel
    mov s3, a1
    li a0, "srv"
    li a1, 2
    sys channel
    mov s0, a1
    li s1, 70
loop:
    mov a0, s0
    sys recv
    mov s2, a1
    mov a0, s2
    sys data
    addi a1, a1, 1
    mov a0, s2
    sys set_data
    addi s1, s1, -1
    bz s1, last
    mov a0, s2
    mov a1, a2
    sys reply
    jmp loop
last:
    mov a0, s2
    sys data
    mov a0, a1
    sys puti
    mov a0, s2
    sys conn
    mov a0, a1
    sys puti
    mov a0, s2
    sys reply
    mov a0, s2
    sys try data
    sys puti
    sys putnl
    mov a0, s3
    sys close
    mov a0, s0
    sys close
    li a0, 0
    sys exit
client:
    li a0, "srv"
    sys open
    mov s0, a1
    li s1, 70
call:
    mov a0, s0
    mov a1, s1
    sys call
    addi s1, s1, -1
    bnz s1, call
    li a0, "done"
    sys open
    mov a0, a1
    sys call
    li a0, 0
    sys exit
pest:
    li a0, 64
    sys try reply
    sys puti
    li a0, 200
    sys try data
    sys puti
    li a0, 64
    sys try close
    sys puti
    sys putnl
    li a0, 0
    sys exit
'''


def test_mhandle_tables_made_for_many_servers_and_freed():
    from mikro.vm import interp
    from mikro.vm.options import RunOptions
    program = asm(SERVERS)
    got = x86.run(program, RunOptions(), cache=False)
    want = interp.run(program, RunOptions())
    for field in ("status", "output", "faults", "waiting", "exits", "tasks_spawned"):
        assert getattr(got, field) == getattr(want, field), field
    assert got.status == "clean"
    # each server: the connection word after 70 messages, the connection id, then the
    # mhandle is stale after the reply; the pest, which has no table, gets E_BADHANDLE for
    # any mhandle value
    assert sorted(got.output.splitlines()) == ["-1 -1 -1"] * 3 + ["70 1 -1"] * 3
    assert got.tasks_spawned == 10
