"""The change-freeze decision, as plain Python: no bindings, no host imports, no clock.

`decide(config_text, now_ms, step)` returns one of

    ("proceed",)
    ("wait", after_ms, reason)

or raises `InvalidConfig`. It is a pure function of its arguments, so CPython can test it
(`python3 -m unittest discover tests`) and the component (`app.py`) only maps types.

Settings (all times UTC):

    {
      "windows": [{"name": "year-end", "start": "2026-12-20T00:00:00Z", "end": "2027-01-04T00:00:00Z"}],
      "weekly":  [{"name": "weekend", "days": ["Sat", "Sun"]},
                  {"name": "friday-evening", "days": ["Fri"], "start": "16:00", "end": "24:00"}]
    }

* `windows`: one-off freezes, from `start` (included) to `end` (excluded), RFC 3339 times with
  `Z` or an explicit offset.
* `weekly`: freezes that come back every week on the listed `days` (`Mon` .. `Sun`, or the
  full names), from `start` to `end` (`HH:MM`, UTC, default `00:00` and `24:00`: the whole day).
  An `end` at or before `start` ends the next day (`"start": "22:00", "end": "06:00"`).

Inside a freeze the step waits until it ends; windows that touch or overlap are one freeze.
The wait is at most an hour at a time, so a changed config is noticed within the hour.
"""

import json
import re

SECOND_MS = 1000
MINUTE_MS = 60 * SECOND_MS
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
WEEK_MS = 7 * DAY_MS

#: The longest wait before the policy is asked again.
MAX_WAIT_MS = HOUR_MS

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DAY_NAMES = {name.lower(): i for i, name in enumerate(DAYS)}
DAY_NAMES.update(
    {full: i for i, full in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))}
)

EXAMPLE = (
    '{"windows": [{"name": "year-end", "start": "2026-12-20T00:00:00Z", "end": "2027-01-04T00:00:00Z"}], '
    '"weekly": [{"name": "weekend", "days": ["Sat", "Sun"]}]}'
)

RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:([Zz])|([+-])(\d{2}):(\d{2}))"
)
CLOCK = re.compile(r"(\d{2}):(\d{2})")


class InvalidConfig(Exception):
    """The settings cannot be used; the message says why, for `kubectl describe rollout`."""


class Window:
    """One configured freeze, able to say whether it holds at a time and when it ends."""

    def __init__(self, name, describe):
        self.name = name
        self.describe = describe

    def end_if_active(self, t):
        """The end (ms) of this window's occurrence that holds at `t`, or None."""
        raise NotImplementedError


class OneOff(Window):
    def __init__(self, name, start, end):
        super().__init__(name, f"{format_time(start)} to {format_time(end)}")
        self.start, self.end = start, end

    def end_if_active(self, t):
        return self.end if self.start <= t < self.end else None


class Weekly(Window):
    def __init__(self, name, days, start, end):
        length = end - start if end > start else end + DAY_MS - start
        hours = "all day" if length == DAY_MS and start == 0 else f"{clock(start)}-{clock(end)}"
        super().__init__(name, f"every {', '.join(DAYS[d] for d in sorted(days))}, {hours} UTC")
        self.days, self.start, self.length = days, start, length

    def end_if_active(self, t):
        day = t // DAY_MS
        ends = []
        # An occurrence lasts at most a day, so only one starting today or yesterday can hold.
        for begin_day in (day - 1, day):
            if weekday(begin_day) in self.days:
                begin = begin_day * DAY_MS + self.start
                if begin <= t < begin + self.length:
                    ends.append(begin + self.length)
        return max(ends) if ends else None

    def covered_minutes(self):
        """The minutes of the week (0 = Monday 00:00) this window covers."""
        minutes = set()
        for d in self.days:
            first = d * 24 * 60 + self.start // MINUTE_MS
            minutes.update(m % (7 * 24 * 60) for m in range(first, first + self.length // MINUTE_MS))
        return minutes


def decide(config_text, now_ms, step):
    """The decision for a step (`step` is text such as "step 2 of 4") at `now_ms`."""
    windows = parse(config_text)
    t, chain = now_ms, []
    # Windows that touch or overlap make one freeze: follow them to its real end. Every window
    # is finite and the weekly ones leave a gap (checked in `parse`), so this ends.
    for _ in range(100_000):
        active = [(w, e) for w in windows if (e := w.end_if_active(t)) is not None]
        if not active:
            break
        chain += [w for w, _ in active if w not in chain]
        t = max(e for _, e in active)
    else:
        raise InvalidConfig("the freeze windows join up into a freeze that does not end")
    if not chain:
        return ("proceed",)
    left = t - now_ms
    now = [w for w in chain if w.end_if_active(now_ms) is not None]
    later = [w for w in chain if w not in now]
    named = " and ".join(f'"{w.name}" ({w.describe})' for w in now)
    if later:
        named += ", followed by " + " and ".join(f'"{w.name}" ({w.describe})' for w in later)
    reason = (
        f"change freeze {named}: {step} waits until "
        f"{format_time(t, weekday_name=True)}, {duration(left)} left"
    )
    return ("wait", min(left, MAX_WAIT_MS), reason)


# --- settings ---------------------------------------------------------------------------------


def parse(config_text):
    """The configured windows, in order: one-off windows, then weekly ones."""
    if not config_text.strip():
        raise InvalidConfig(f"freeze-window has no settings: expected {EXAMPLE}")
    try:
        config = json.loads(config_text)
    except ValueError as e:
        raise InvalidConfig(f"the settings are not JSON ({e}): expected {EXAMPLE}") from None
    if not isinstance(config, dict):
        raise InvalidConfig(f"the settings must be a JSON object, like {EXAMPLE}")
    unknown = sorted(set(config) - {"windows", "weekly"})
    if unknown:
        raise InvalidConfig(
            f"unknown setting {', '.join(map(repr, unknown))}: freeze-window takes `windows` and `weekly`"
        )
    one_off = [one_off_window(i, w) for i, w in enumerate(entries(config, "windows"))]
    weekly = [weekly_window(i, w) for i, w in enumerate(entries(config, "weekly"))]
    if not one_off and not weekly:
        raise InvalidConfig(f"no `windows` and no `weekly` freezes are set, so nothing is frozen: expected {EXAMPLE}")
    covered = set()
    for w in weekly:
        covered |= w.covered_minutes()
    if len(covered) == 7 * 24 * 60:
        raise InvalidConfig("the weekly freezes cover the whole week, so no rollout could ever go on")
    return one_off + weekly


def entries(config, key):
    value = config.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise InvalidConfig(f"`{key}` must be a list of objects, got {brief(value)}")
    return value


def fields(where, entry, required, optional):
    unknown = sorted(set(entry) - set(required) - set(optional))
    if unknown:
        allowed = ", ".join(f"`{f}`" for f in (*required, *optional))
        raise InvalidConfig(f"{where} has unknown field {', '.join(map(repr, unknown))} (fields: {allowed})")
    for field in required:
        if field not in entry:
            raise InvalidConfig(f"{where} has no `{field}`")
    name = entry["name"]
    if not isinstance(name, str) or not name.strip():
        raise InvalidConfig(f"{where}: `name` must be a non-empty string, got {brief(name)}")


def one_off_window(i, entry):
    where = f"windows[{i}]"
    fields(where, entry, ("name", "start", "end"), ())
    where = f'windows[{i}] "{entry["name"]}"'
    start = parse_time(where, "start", entry["start"])
    end = parse_time(where, "end", entry["end"])
    if end <= start:
        raise InvalidConfig(f"{where} ends ({entry['end']}) before it starts ({entry['start']})")
    return OneOff(entry["name"], start, end)


def weekly_window(i, entry):
    where = f"weekly[{i}]"
    fields(where, entry, ("name", "days"), ("start", "end"))
    where = f'weekly[{i}] "{entry["name"]}"'
    days = entry["days"]
    if not isinstance(days, list) or not days:
        raise InvalidConfig(f"{where}: `days` must be a non-empty list such as [\"Sat\", \"Sun\"], got {brief(days)}")
    numbers = set()
    for day in days:
        if not isinstance(day, str) or day.lower() not in DAY_NAMES:
            raise InvalidConfig(f"{where}: {brief(day)} is not a day (write Mon, Tue, Wed, Thu, Fri, Sat or Sun)")
        numbers.add(DAY_NAMES[day.lower()])
    start = parse_clock(where, "start", entry.get("start", "00:00"))
    end = parse_clock(where, "end", entry.get("end", "24:00"))
    return Weekly(entry["name"], numbers, start, end)


def parse_time(where, field, value):
    """An RFC 3339 time as milliseconds since the Unix epoch."""
    match = RFC3339.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidConfig(
            f"{where}: `{field}` {brief(value)} is not an RFC 3339 time such as \"2026-12-20T00:00:00Z\" "
            "(with Z for UTC, or an offset such as +01:00)"
        )
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction = match.group(7)
    if not (1 <= month <= 12 and 1 <= day <= days_in_month(year, month) and hour < 24 and minute < 60 and second < 60):
        raise InvalidConfig(f"{where}: `{field}` {brief(value)} is not a valid date and time")
    ms = days_from_civil(year, month, day) * DAY_MS + hour * HOUR_MS + minute * MINUTE_MS + second * SECOND_MS
    if fraction:
        ms += int((fraction[1:] + "000")[:3])
    if match.group(9):
        offset = int(match.group(10)) * HOUR_MS + int(match.group(11)) * MINUTE_MS
        ms -= offset if match.group(9) == "+" else -offset
    return ms


def parse_clock(where, field, value):
    """`HH:MM` as milliseconds after midnight; `24:00` is the end of the day."""
    match = CLOCK.fullmatch(value) if isinstance(value, str) else None
    if match is None or int(match.group(2)) >= 60 or (int(match.group(1)), int(match.group(2))) > (24, 0):
        raise InvalidConfig(f"{where}: `{field}` {brief(value)} is not a time of day such as \"18:30\" (UTC, 00:00 to 24:00)")
    return int(match.group(1)) * HOUR_MS + int(match.group(2)) * MINUTE_MS


def brief(value):
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --- calendar (proleptic Gregorian, UTC; no clock, no time zone database) ---------------------


def days_from_civil(y, m, d):
    """Days since 1970-01-01 (Howard Hinnant's algorithm)."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(z):
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return yoe + era * 400 + (m <= 2), m, d


def days_in_month(y, m):
    if m == 2:
        return 29 if (y % 4 == 0 and y % 100 != 0) or y % 400 == 0 else 28
    return 30 if m in (4, 6, 9, 11) else 31


def weekday(day):
    """0 = Monday, for days since 1970-01-01 (a Thursday)."""
    return (day + 3) % 7


def clock(ms):
    return f"{ms // HOUR_MS:02d}:{ms % HOUR_MS // MINUTE_MS:02d}"


def format_time(ms, weekday_name=False):
    """`2027-01-04 00:00 UTC` (seconds only when not zero), optionally after the day's name."""
    day, rest = divmod(ms, DAY_MS)
    y, m, d = civil_from_days(day)
    text = f"{y:04d}-{m:02d}-{d:02d} {clock(rest)}"
    if rest % MINUTE_MS:
        text += f":{rest % MINUTE_MS // SECOND_MS:02d}"
    text += " UTC"
    return f"{DAYS[weekday(day)]} {text}" if weekday_name else text


def duration(ms):
    """`14d`, `2d3h`, `1h30m`, `45s`: rounded up to the minute from a minute on."""
    seconds = -(-ms // SECOND_MS)
    if seconds < 60:
        return f"{seconds}s"
    minutes = -(-seconds // 60)
    parts = [(minutes // 1440, "d"), (minutes % 1440 // 60, "h"), (minutes % 60, "m")]
    return "".join(f"{n}{unit}" for n, unit in parts if n)
