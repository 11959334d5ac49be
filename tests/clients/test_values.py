import pytest
from hypothesis import given
from hypothesis import strategies as st

from lrs.clients.base import Scope, block_location
from lrs.clients.values import (
    MAX_DEPTH,
    decode_fields,
    decode_state,
    encode_fields,
    encode_state,
    join_fields,
)
from lrs.mongo import decode_key, encode_key

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@given(st.dictionaries(st.text(), json_values))
def test_state_encoding_round_trips(state):
    assert decode_state(encode_state("b", state)) == state
    fields = encode_fields("b", state)
    assert decode_fields(fields) == state
    assert decode_state(join_fields(fields)) == state


def test_nesting_is_limited_for_the_whole_state_whether_encoded_whole_or_by_field():
    value = 1
    for _ in range(MAX_DEPTH):  # fine alone, one level too deep inside the state
        value = [value]
    for encode in (encode_fields, encode_state):
        with pytest.raises(TypeError, match="block 'b'.*nested more than"):
            encode("b", {"f": value})
    encode_fields("b", {"f": value[0]})
    encode_state("b", {"f": value[0]})


@given(st.text())
def test_key_encoding_round_trips_and_is_safe_for_mongodb(name):
    key = encode_key(name)
    assert decode_key(key) == name
    assert key.startswith("_")
    assert "." not in key and "$" not in key and "\x00" not in key


@given(st.text(), st.text())
def test_key_encoding_is_one_to_one(first, second):
    if first != second:
        assert encode_key(first) != encode_key(second)


@pytest.mark.parametrize(
    ("key", "location"),
    [
        ("block-v1:Org+C+R+type@problem+block@p1", ("course-v1:Org+C+R", "problem")),
        ("block-v1:Org+C+R+type@html+block@a+b", ("course-v1:Org+C+R", "html")),
        ("i4x://Org/C/problem/p1", (None, None)),
        ("anything", (None, None)),
    ],
)
def test_block_location_parses_usage_keys(key, location):
    assert block_location(key) == location


def test_scope_names_match_xblock():
    assert [scope.value for scope in Scope] == ["user_state", "preferences", "user_info"]
    assert Scope.coerce("user_state") is Scope.user_state
