from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lrs.clock import Clock, from_us, to_us


def test_clock_never_repeats_or_goes_back():
    clock = Clock()
    readings = [clock.now_us() for _ in range(10_000)]
    assert all(later > earlier for earlier, later in zip(readings, readings[1:], strict=False))


def test_a_reserved_range_is_never_handed_out_again():
    clock = Clock()
    first = clock.now_us(count=1000)
    after = clock.now_us()
    assert after >= first + 1000


@given(st.datetimes(timezones=st.just(UTC)))
def test_microsecond_conversion_is_exact(moment):
    assert from_us(to_us(moment)) == moment


def test_other_time_zones_convert_to_utc():
    moment = datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    assert from_us(to_us(moment)) == datetime(2026, 1, 1, 10, tzinfo=UTC)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="naive"):
        to_us(datetime(2026, 1, 1))
