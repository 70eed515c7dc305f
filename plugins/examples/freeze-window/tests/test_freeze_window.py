"""Unit tests of the plain-Python logic, with CPython: `python3 -m unittest discover -s tests`
from plugins/examples/freeze-window. The golden fixtures test the built component."""

import json
import pathlib
import sys
import unittest
from datetime import datetime, timezone

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "src"))

import freeze_window as fw  # noqa: E402


def ms(text):
    return int(datetime.fromisoformat(text).timestamp() * 1000)


class Calendar(unittest.TestCase):
    def test_days_round_trip_and_match_the_standard_library(self):
        for day in range(-1_000_000, 1_000_000, 997):
            self.assertEqual(fw.days_from_civil(*fw.civil_from_days(day)), day)
        for text in ("1970-01-01", "2000-02-29", "2026-12-20", "2100-03-01"):
            date = datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
            self.assertEqual(fw.days_from_civil(date.year, date.month, date.day) * fw.DAY_MS, ms(date.isoformat()))
            self.assertEqual(fw.weekday(fw.days_from_civil(date.year, date.month, date.day)), date.weekday())

    def test_times_with_offsets_and_fractions(self):
        parse = lambda text: fw.parse_time("w", "start", text)  # noqa: E731
        self.assertEqual(parse("2026-12-20T00:00:00Z"), ms("2026-12-20T00:00:00+00:00"))
        self.assertEqual(parse("2026-12-20T01:30:00+01:30"), ms("2026-12-20T00:00:00+00:00"))
        self.assertEqual(parse("2026-12-19T20:00:00.250-04:00"), ms("2026-12-20T00:00:00+00:00") + 250)
        for bad in ("2026-12-20", "2026-12-20T00:00:00", "2026-13-01T00:00:00Z", "2025-02-29T00:00:00Z", 7):
            with self.assertRaises(fw.InvalidConfig):
                parse(bad)

    def test_durations_round_up(self):
        self.assertEqual(
            [fw.duration(x) for x in (1, 59_000, 59_001, 61_000, fw.HOUR_MS, 14 * fw.DAY_MS + 1)],
            ["1s", "59s", "1m", "2m", "1h", "14d1m"],
        )


class Decisions(unittest.TestCase):
    CONFIG = json.dumps({
        "windows": [{"name": "year-end", "start": "2026-12-20T00:00:00Z", "end": "2027-01-04T00:00:00Z"}],
        "weekly": [{"name": "weekend", "days": ["Sat", "Sun"]}],
    })

    def test_every_minute_of_a_week_outside_or_waiting_for_monday(self):
        monday = ms("2026-03-02T00:00:00+00:00")
        for minute in range(0, 7 * 24 * 60, 7):
            now = monday + minute * fw.MINUTE_MS
            decision = fw.decide(self.CONFIG, now, "step 1 of 2")
            if minute < 5 * 24 * 60:
                self.assertEqual(decision, ("proceed",))
            else:
                self.assertEqual(decision[0], "wait")
                self.assertEqual(decision[1], min(monday + fw.WEEK_MS - now, fw.MAX_WAIT_MS))
                self.assertIn("until Mon 2026-03-09 00:00 UTC", decision[2])

    def test_same_answer_for_the_same_input(self):
        now = ms("2026-12-24T10:00:00+00:00")
        self.assertEqual(fw.decide(self.CONFIG, now, "s"), fw.decide(self.CONFIG, now, "s"))


if __name__ == "__main__":
    unittest.main()
