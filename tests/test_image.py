"""The instruction encoding and the .mko image format round-trip exactly."""
import pytest
from hypothesis import given, strategies as st

from mikro.vm.image import Boot, Function, ImageError, Pos, Program, TaskType
from mikro.vm.isa import OPCODES, Instr, decode, encode

instrs = st.builds(Instr, st.integers(0, len(OPCODES) - 1), st.integers(0, 255),
                   st.integers(0, 255), st.integers(0, 255), st.integers(-(1 << 31), (1 << 31) - 1))


@given(instrs)
def test_encode_decode_round_trip(ins):
    assert decode(encode(ins)) == ins


@given(st.lists(instrs, min_size=1, max_size=20), st.lists(st.integers(-(1 << 63), (1 << 63) - 1)),
       st.lists(st.text()), st.lists(st.tuples(st.integers(0, 100), st.integers(-5, 5))))
def test_image_round_trip(code, consts, strings, boots):
    p = Program(code=code, consts=consts, strings=strings, files=["a.mk", "é.mk"],
                lines=[Pos(i % 2, i + 1, i % 7) for i in range(len(code))],
                tasks=[TaskType("main", 0, 1)], functions=[Function("f", 0, 1, 3)],
                boot=[Boot(t, (a,)) for t, a in boots])
    assert Program.from_bytes(p.to_bytes()) == p


@pytest.mark.parametrize("data, message", [
    (b"", "bad magic"),
    (b"ELF\0\0\0\1\0", "bad magic"),
    (b"MIKRO\0\2\0", "version 2"),
    (b"MIKRO\0\1\0", "section CODE is missing"),
    (b"MIKRO\0\1\0CODE\x08\0\0\0\x05\0\0\0", "truncated"),
])
def test_malformed_images_are_rejected(data, message):
    with pytest.raises(ImageError, match=message):
        Program.from_bytes(data)


def test_every_truncation_is_an_image_error():
    p = Program(code=[Instr(1, 1, 0, 0, 5)], strings=["x"], files=["a.mk"], lines=[Pos(0, 1, 1)],
                tasks=[TaskType("t", 0, 0)], boot=[Boot(0, ())])
    data = p.to_bytes()
    for n in range(len(data)):
        with pytest.raises(ImageError):
            Program.from_bytes(data[:n])
