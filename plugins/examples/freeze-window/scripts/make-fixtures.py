#!/usr/bin/env python3
"""Writes the freeze-window example plugin's golden fixtures, ../fixtures/<case>.json.

Every expected decision below is written out by hand (times, waits and reasons); nothing is
computed with the plugin's own code. Run it after changing a case:
`python3 scripts/make-fixtures.py`.
"""

import json
import pathlib
from datetime import datetime

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "fixtures"

HOUR_MS = 3_600_000

YEAR_END = {"name": "year-end", "start": "2026-12-20T00:00:00Z", "end": "2027-01-04T00:00:00Z"}
WEEKEND = {"name": "weekend", "days": ["Sat", "Sun"]}
CONFIG = {"windows": [YEAR_END], "weekly": [WEEKEND]}

YEAR_END_TEXT = '"year-end" (2026-12-20 00:00 UTC to 2027-01-04 00:00 UTC)'
WEEKEND_TEXT = '"weekend" (every Sat, Sun, all day UTC)'


def at(text):
    """An RFC 3339 time as the host's now-unix-ms."""
    return int(datetime.fromisoformat(text).timestamp()) * 1000


def ctx(config, now, *, step=(2, 4), elapsed_ms=120_000):
    return {
        "rollout": {"namespace": "shop", "name": "web-rollout", "rollout-id": None},
        "step-index": step[0],
        "step-count": step[1],
        "elapsed-ms": elapsed_ms,
        "now-unix-ms": at(now) if isinstance(now, str) else now,
        "config": config,
        "args": [
            ["namespace", "shop"],
            ["rollout", "web-rollout"],
            ["workload", "web"],
            ["stable-revision", "6b7f9c8d4"],
            ["canary-revision", "5d8f6c7b9"],
        ],
    }


CASES = {}


def case(name, description, context, expect):
    assert name not in CASES, name
    CASES[name] = {"description": description, "call": "evaluate", "args": {"ctx": context}, "expect": expect}


def proceed():
    return {"ok": "proceed"}


def wait(after_ms, reason):
    return {"ok": {"wait": {"after-ms": after_ms, "reason": reason}}}


def invalid(fragment):
    return {"err": {"invalid-input": fragment}}


# --- outside every freeze -----------------------------------------------------------------------

case(
    "outside-proceeds",
    "a Wednesday in March, outside the year-end freeze and the weekend: the step goes on",
    ctx(CONFIG, "2026-03-04T10:00:00+00:00"),
    proceed(),
)
case(
    "window-end-is-excluded",
    "at the very end of the year-end window (a Monday, 00:00) the freeze is over",
    ctx({"windows": [YEAR_END]}, "2027-01-04T00:00:00+00:00"),
    proceed(),
)
case(
    "weekly-hours-outside",
    "a Friday-evening freeze from 16:00: at 15:59 on a Friday the step goes on",
    ctx({"weekly": [{"name": "friday-evening", "days": ["Fri"], "start": "16:00"}]}, "2026-03-06T15:59:00+00:00"),
    proceed(),
)

# --- inside a freeze ----------------------------------------------------------------------------

case(
    "window-waits-an-hour-at-a-time",
    "Christmas Eve, inside the year-end window: wait, asking again after an hour (not the 10 "
    "days left) so a changed config is noticed; the reason names the window and its end",
    ctx(CONFIG, "2026-12-24T10:00:00+00:00"),
    wait(HOUR_MS, f"change freeze {YEAR_END_TEXT}: step 2 of 4 waits until Mon 2027-01-04 00:00 UTC, 10d14h left"),
)
case(
    "window-start-is-included",
    "at the very start of the year-end window the freeze holds",
    ctx({"windows": [YEAR_END]}, "2026-12-20T00:00:00+00:00", step=(1, 3)),
    wait(HOUR_MS, f"change freeze {YEAR_END_TEXT}: step 1 of 3 waits until Mon 2027-01-04 00:00 UTC, 15d left"),
)
case(
    "window-last-minutes",
    "20 minutes before the window ends the wait is exactly what is left",
    ctx({"windows": [YEAR_END]}, "2027-01-03T23:40:00+00:00"),
    wait(20 * 60_000, f"change freeze {YEAR_END_TEXT}: step 2 of 4 waits until Mon 2027-01-04 00:00 UTC, 20m left"),
)
case(
    "window-with-offset",
    "window times may carry an offset: 09:00+02:00 to 17:00+02:00 is 07:00 to 15:00 UTC",
    ctx(
        {"windows": [{"name": "board-meeting", "start": "2026-06-10T09:00:00+02:00", "end": "2026-06-10T17:00:00+02:00"}]},
        "2026-06-10T14:15:30+00:00",
    ),
    wait(
        45 * 60_000 - 30_000,
        'change freeze "board-meeting" (2026-06-10 07:00 UTC to 2026-06-10 15:00 UTC): step 2 of 4 '
        "waits until Wed 2026-06-10 15:00 UTC, 45m left",
    ),
)
case(
    "weekend-waits-until-monday",
    "Saturday morning: Saturday and Sunday make one freeze, which ends on Monday 00:00",
    ctx(CONFIG, "2026-03-07T10:00:00+00:00"),
    wait(HOUR_MS, f"change freeze {WEEKEND_TEXT}: step 2 of 4 waits until Mon 2026-03-09 00:00 UTC, 1d14h left"),
)
case(
    "weekly-overnight",
    "a weekly window whose end is before its start runs overnight: Friday 22:00 to Saturday "
    "06:00, so at Saturday 05:30 the step waits half an hour",
    ctx({"weekly": [{"name": "friday-night", "days": ["friday"], "start": "22:00", "end": "06:00"}]}, "2026-03-07T05:30:00+00:00"),
    wait(
        30 * 60_000,
        'change freeze "friday-night" (every Fri, 22:00-06:00 UTC): step 2 of 4 waits until Sat 2026-03-07 06:00 UTC, 30m left',
    ),
)
case(
    "weekend-runs-into-year-end",
    "Saturday 19 December, 23:59: the weekend freeze runs into the year-end window, so the "
    "step waits until the year-end window ends, not until Monday",
    ctx(CONFIG, "2026-12-19T23:59:00+00:00"),
    wait(
        HOUR_MS,
        f"change freeze {WEEKEND_TEXT}, followed by {YEAR_END_TEXT}: step 2 of 4 waits until "
        "Mon 2027-01-04 00:00 UTC, 15d1m left",
    ),
)
case(
    "two-freezes-at-once",
    "a Saturday inside the year-end window: both hold, and the later end counts",
    ctx(CONFIG, "2027-01-02T10:00:00+00:00"),
    wait(
        HOUR_MS,
        f"change freeze {YEAR_END_TEXT} and {WEEKEND_TEXT}: step 2 of 4 waits until Mon 2027-01-04 00:00 UTC, 1d14h left",
    ),
)

# --- settings that cannot be used -------------------------------------------------------------

case(
    "no-settings",
    "no settings at all: nothing would ever be frozen, which is a mistake, not a proceed",
    ctx({}, "2026-03-04T10:00:00+00:00"),
    invalid("no `windows` and no `weekly` freezes are set, so nothing is frozen"),
)
case(
    "not-json",
    "settings that are not JSON",
    ctx("windows: []", "2026-03-04T10:00:00+00:00"),
    invalid("the settings are not JSON"),
)
case(
    "unknown-setting",
    "a misspelt setting is refused rather than ignored",
    ctx({"windows": [YEAR_END], "weeky": [WEEKEND]}, "2026-03-04T10:00:00+00:00"),
    invalid("unknown setting 'weeky': freeze-window takes `windows` and `weekly`"),
)
case(
    "time-without-offset",
    "a time without Z or an offset is ambiguous and refused",
    ctx({"windows": [{**YEAR_END, "start": "2026-12-20T00:00:00"}]}, "2026-03-04T10:00:00+00:00"),
    invalid('windows[0] "year-end": `start` "2026-12-20T00:00:00" is not an RFC 3339 time'),
)
case(
    "end-before-start",
    "a window that ends before it starts",
    ctx({"windows": [{**YEAR_END, "end": "2026-01-04T00:00:00Z"}]}, "2026-03-04T10:00:00+00:00"),
    invalid('windows[0] "year-end" ends (2026-01-04T00:00:00Z) before it starts (2026-12-20T00:00:00Z)'),
)
case(
    "bad-day",
    "a day that is not one",
    ctx({"weekly": [{"name": "weekend", "days": ["Sat", "Sunday", "Sonntag"]}]}, "2026-03-04T10:00:00+00:00"),
    invalid('weekly[0] "weekend": "Sonntag" is not a day'),
)
case(
    "impossible-date",
    "30 February",
    ctx({"windows": [{**YEAR_END, "end": "2027-02-30T00:00:00Z"}]}, "2026-03-04T10:00:00+00:00"),
    invalid('`end` "2027-02-30T00:00:00Z" is not a valid date and time'),
)
case(
    "whole-week",
    "weekly freezes that cover the whole week would hold every rollout forever",
    ctx(
        {"weekly": [{"name": "weekdays", "days": ["Mon", "Tue", "Wed", "Thu", "Fri"]}, {"name": "weekend", "days": ["Sat", "Sun"]}]},
        "2026-03-04T10:00:00+00:00",
    ),
    invalid("the weekly freezes cover the whole week"),
)


def main():
    FIXTURES.mkdir(exist_ok=True)
    for old in FIXTURES.glob("*.json"):
        old.unlink()
    for name, fixture in CASES.items():
        text = json.dumps(fixture, indent=1, ensure_ascii=False) + "\n"
        (FIXTURES / f"{name}.json").write_text(text)
    print(f"wrote {len(CASES)} fixtures to {FIXTURES}")


if __name__ == "__main__":
    main()
