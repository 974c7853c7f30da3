"""Send-time arithmetic: UTC datetimes are naive, as Odoo stores them."""

import datetime

import pytz


def next_hour_start(start_utc, hour, tz_name):
    """Return the first UTC time at or after ``start_utc`` when local time is ``hour``:00.

    When the local clock is already within ``hour``, ``start_utc`` itself is
    returned, so a fan whose best hour is now is mailed at once. The result is
    always less than 24 hours after ``start_utc``.
    """
    tz = pytz.timezone(tz_name)
    local_start = pytz.utc.localize(start_utc).astimezone(tz)
    if local_start.hour == hour:
        return start_utc
    day = local_start.date()
    if hour < local_start.hour:
        day += datetime.timedelta(days=1)
    local_slot = tz.localize(datetime.datetime.combine(day, datetime.time(hour)))
    return local_slot.astimezone(pytz.utc).replace(tzinfo=None)
