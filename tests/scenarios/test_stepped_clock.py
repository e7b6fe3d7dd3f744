from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scenarios.clock import FileClock, SteppedClock


def test_stepped_clock_is_shared_through_its_file(tmp_path: Path) -> None:
    start = datetime(2026, 3, 2, 7, 0, 0, tzinfo=UTC)
    clock = SteppedClock(start, tmp_path / "clock")
    reader = FileClock(tmp_path / "clock")
    assert reader.now() == start
    clock.set(start + timedelta(days=3, seconds=17))
    assert reader.now() == start + timedelta(days=3, seconds=17)
    assert reader.now().tzinfo is UTC
    with pytest.raises(ValueError, match="cannot go back"):
        clock.set(start)
    with pytest.raises(ValueError, match="naive"):
        clock.set(datetime(2026, 3, 9))
