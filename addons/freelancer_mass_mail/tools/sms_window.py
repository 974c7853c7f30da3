"""Daytime sending window for commercial SMS."""

import re
from datetime import datetime, time, timedelta

import pytz

# "HH:MM" or "H:MM" on a 24-hour clock, from 00:00 to 23:59.
WINDOW_TIME_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_window_time(value):
    """Return the ``datetime.time`` of an ``"HH:MM"`` string, or None when it is not one."""
    match = WINDOW_TIME_RE.match(value.strip()) if isinstance(value, str) else None
    if not match:
        return None
    return time(int(match.group(1)), int(match.group(2)))


def is_known_timezone(tz_name):
    """Return True when ``tz_name`` is in ``pytz.all_timezones``."""
    return isinstance(tz_name, str) and tz_name in pytz.all_timezones_set


def _window(start, end):
    start_time, end_time = parse_window_time(start), parse_window_time(end)
    if start_time is None or end_time is None:
        raise ValueError(f"Invalid SMS window {start!r}-{end!r}: expected HH:MM times")
    return start_time, end_time


def in_sending_window(now_utc, start, end, tz_name):
    """Return True when naive UTC ``now_utc`` falls in [start, end) local time.

    ``start`` and ``end`` are ``"HH:MM"`` strings in time zone ``tz_name``.
    Raises ValueError on an invalid time and pytz.UnknownTimeZoneError on an
    unknown time zone.
    """
    start_time, end_time = _window(start, end)
    local = pytz.utc.localize(now_utc).astimezone(pytz.timezone(tz_name))
    return start_time <= local.time() < end_time


def next_window_start(now_utc, start, end, tz_name):
    """Return the naive UTC datetime at which the next sending window opens."""
    start_time, _end_time = _window(start, end)
    tz = pytz.timezone(tz_name)
    local = pytz.utc.localize(now_utc).astimezone(tz)
    candidate_day = local.date()
    if local.time() >= start_time:
        candidate_day += timedelta(days=1)
    candidate = tz.localize(datetime.combine(candidate_day, start_time))
    return candidate.astimezone(pytz.utc).replace(tzinfo=None)
