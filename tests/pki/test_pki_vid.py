import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.pki.vid import R_LENGTH, compute_vid, generate_r

VECTORS = json.loads((Path(__file__).parent / "vectors" / "vid.json").read_text())["vectors"]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["idn"])
def test_vid_known_answer(vector):
    assert compute_vid(vector["idn"], bytes.fromhex(vector["r"])) == bytes.fromhex(vector["vid"])


def test_r_is_20_fresh_bytes():
    values = {generate_r() for _ in range(50)}
    assert len(values) == 50
    assert all(len(r) == R_LENGTH for r in values)


@given(st.binary(min_size=20, max_size=20), st.binary(min_size=20, max_size=20))
def test_a_different_r_gives_a_different_vid(r1, r2):
    assert (compute_vid("1234561234567", r1) == compute_vid("1234561234567", r2)) == (r1 == r2)


@pytest.mark.parametrize(
    "idn", ["123456-1234567", "123456123456", "12345612345678", "１２３４５６１２３４５６７"]
)
def test_vid_refuses_anything_but_13_ascii_digits(idn):
    with pytest.raises(ValueError):
        compute_vid(idn, bytes(20))
