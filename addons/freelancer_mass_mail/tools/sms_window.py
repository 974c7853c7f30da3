"""Daytime sending window for commercial SMS."""

from datetime import datetime, time, timedelta

import pytz


def _parse_hour(value, default):
    try:
        hours, _sep, minutes = str(value).partition(":")
        return time(int(hours), int(minutes or 0))
    except (TypeError, ValueError):
        return default


def _window(start, end):
    return _parse_hour(start, time(8, 0)), _parse_hour(end, time(20, 0))


def in_sending_window(now_utc, start, end, tz_name):
    """Return True when naive UTC ``now_utc`` falls in [start, end) local time.

    ``start`` and ``end`` are ``"HH:MM"`` strings in time zone ``tz_name``.
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
