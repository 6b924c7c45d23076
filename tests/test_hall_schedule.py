"""The hall's [schedule]: working periods, booking slots and the handoff wait, checked with lines named."""
from __future__ import annotations

from datetime import time
from pathlib import Path

from knowledge.catalogue import load_catalogue
from knowledge.hall import check_path, load_hall

BUNDLED = Path(__file__).resolve().parent.parent / "knowledge" / "data" / "hall"


def test_the_demo_hall_works_mornings_and_afternoons_in_half_hour_slots():
    hall = load_hall(None, load_catalogue()).hall
    slots = hall.schedule.slots()
    assert slots[0] == (time(9), time(9, 30)) and slots[-1] == (time(16, 30), time(17))
    assert (time(12), time(12, 30)) not in slots  # lunch
    assert hall.schedule.is_open_at(time(10)) and not hall.schedule.is_open_at(time(12, 30))


def _hall_copy(tmp_path: Path, schedule: str) -> Path:
    for name in ("units.csv", "list.csv"):
        (tmp_path / name).write_bytes((BUNDLED / name).read_bytes())
    text = (BUNDLED / "hall.toml").read_text(encoding="utf-8").split("[schedule]")[0]
    (tmp_path / "hall.toml").write_text(text + "[schedule]\n" + schedule, encoding="utf-8")
    return tmp_path


def test_a_broken_schedule_names_the_key_and_its_line(tmp_path):
    directory = _hall_copy(tmp_path, 'periods = ["13:00-12:00"]\nslot_capacity = 0\nextra_holidays = ["2027-01-01"]\n')
    problems = check_path(directory, load_catalogue())
    by_field = {p.field: p for p in problems}
    assert {"periods", "slot_capacity", "extra_holidays"} <= set(by_field)
    lines = (directory / "hall.toml").read_text(encoding="utf-8").splitlines()
    assert lines[by_field["slot_capacity"].line - 1].startswith("slot_capacity")


def test_local_holidays_and_capacity_are_read(tmp_path):
    directory = _hall_copy(tmp_path, 'periods = ["08:30-11:30"]\nslot_minutes = 60\nslot_capacity = 5\n'
                                     'extra_holidays = [2027-01-04]\n')
    hall = load_hall(directory, load_catalogue()).hall
    assert hall.schedule.slots() == ((time(8, 30), time(9, 30)), (time(9, 30), time(10, 30)),
                                     (time(10, 30), time(11, 30)))
    assert hall.schedule.slot_capacity == 5
    assert [d.isoformat() for d in hall.schedule.extra_holidays] == ["2027-01-04"]
