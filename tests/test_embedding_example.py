"""The example of docs/embedding.md: a .mk program with one of its servers mocked in Python.

examples/bank.mk has a bank server and an auditor that spawns two depositors; a deposit is
a GET then a SET. Here the bank is a Python function, the auditor and depositors are the
program's own tasks, and each test runs on both backends (the `mikro_session` fixture).
"""
from pathlib import Path

import mikro

BANK = mikro.load(Path(__file__).parent.parent / "examples" / "bank.mk")
GET, SET = 1, 2


def mock_bank(kernel):
    """Serve "bank" from Python with a fresh balance: GET gives it, SET changes it."""
    balance = 0

    def serve(msg: mikro.HostMessage):
        nonlocal balance
        op, value = msg.words[0], msg.words[1]
        if op == SET:
            balance = value
        return balance
    return kernel.host("bank", serve)


def start(kernel):
    mock_bank(kernel)
    kernel.spawn("auditor")


def test_the_auditor_sees_both_deposits(mikro_session):
    kernel = mikro_session.kernel(BANK, boot=False, trace=True)  # not the program's bank
    start(kernel)
    result = kernel.run()
    mikro_session.expect_clean(result)
    assert result.output == "balance 30\n"
    # the bank (task 1) took GET, SET from each depositor, then the auditor's GET
    taken = [e.words[:2] for e in result.trace if e.kind == "recv" and e.task == 1]
    assert taken == [(GET, 0), (SET, 10), (GET, 0), (SET, 30), (GET, 0)]


def test_exploration_finds_the_lost_update_and_its_seed_replays_it(mikro_session):
    found = mikro_session.explore(BANK, 200, boot=False, setup=start)
    assert not found.ok, "some interleaving loses a deposit"
    report = found.result.report(BANK)
    assert "assertion failed: lost update" in report
    kernel = mikro_session.kernel(BANK, boot=False, seed=found.failing_seed)
    start(kernel)
    assert kernel.run() == found.result
