"""How the ODS/API reads and writes back date and date-time members (API-BEHAVIOUR.md 1.7).

The ODS binds a date-time member to a .NET ``DateTime`` (invariant culture, zone-less = UTC) and answers it
as ISO 8601 in UTC with the fraction only when there is one (Newtonsoft ``yyyy-MM-ddTHH:mm:ss.FFFFFFFZ``);
a date member is a SQL ``DATE`` and reads back ``yyyy-MM-dd``. So what GET returns is not always what was
sent: ``2021-09-28`` or ``2021/09/28`` in ``administrationDate`` reads back ``2021-09-28T00:00:00Z``,
``2021-09-28 2:15:30 PM`` reads back ``2021-09-28T14:15:30Z`` and ``2022-09-05T16:44:33`` gains its ``Z``
(DMS ``Features/General/DataStrictnessValidation.feature`` scenarios 18-21, which state the ODS/API's
behaviour). A value none of these readers accepts is a 400, as in the ODS.
"""

from __future__ import annotations

import datetime as dt
import functools
import re

# "yyyy/M/d" or "M/d/yyyy" (the invariant culture's short date), with an optional time and AM/PM
_SLASHED = re.compile(r"^(?:(?P<y1>\d{4})/(?P<m1>\d{1,2})/(?P<d1>\d{1,2})"
                      r"|(?P<m2>\d{1,2})/(?P<d2>\d{1,2})/(?P<y2>\d{4}))(?P<time>[ T].*)?$")
# "yyyy-MM-dd h:mm[:ss] AM|PM"
_TWELVE_HOUR = re.compile(r"^(?P<date>\d{4}-\d{2}-\d{2}) (?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?"
                          r" ?(?P<ampm>[AaPp][Mm])$")
_CLOCK = re.compile(r"^(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?(?: ?(?P<ampm>[AaPp][Mm]))?$")


def _clock(h: str, mi: str, s: str | None, ampm: str | None) -> dt.time:
    hour = int(h)
    if ampm:
        if not 1 <= hour <= 12:
            raise ValueError("hour")
        hour = hour % 12 + (12 if ampm.lower() == "pm" else 0)
    return dt.time(hour, int(mi), int(s or 0))


def parse(text: str) -> dt.datetime | None:
    """The instant the ODS reads from ``text`` (UTC), or None when its reader refuses the value."""
    value = text.strip()
    try:
        match = _SLASHED.match(value)
        if match:
            year, month, day = ((match["y1"], match["m1"], match["d1"]) if match["y1"]
                                else (match["y2"], match["m2"], match["d2"]))
            moment = dt.datetime(int(year), int(month), int(day))
            clock = (match["time"] or "").strip()
            if clock:
                hm = _CLOCK.match(clock)
                if hm is None:
                    return None
                moment = dt.datetime.combine(moment.date(), _clock(hm["h"], hm["mi"], hm["s"], hm["ampm"]))
        elif (twelve := _TWELVE_HOUR.match(value)) is not None:
            moment = dt.datetime.combine(dt.date.fromisoformat(twelve["date"]),
                                         _clock(twelve["h"], twelve["mi"], twelve["s"], twelve["ampm"]))
        elif re.match(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?)?([Zz]|[+-]\d{2}:?\d{2})?$", value):
            moment = dt.datetime.fromisoformat(_seven_digit_fraction(value.replace("z", "Z")))
        else:
            return None
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def _seven_digit_fraction(value: str) -> str:
    """.NET writes up to 7 fraction digits; Python reads up to 6: drop the 100-nanosecond digit."""
    return re.sub(r"(\.\d{6})\d", r"\1", value)


def date_time_text(moment: dt.datetime) -> str:
    """As the ODS writes a ``DateTime`` in UTC: seconds always, the fraction only when not zero."""
    text = moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


@functools.lru_cache(maxsize=4096)   # the same dates come again and again (one administration day, many scores)
def read_back(text: str, with_time: bool) -> str | None:
    """What GET returns for a value sent as ``text`` in a date-time (``with_time``) or a date member; None
    when the ODS would refuse the value (400)."""
    moment = parse(text)
    if moment is None:
        return None
    if not with_time:
        # a date member keeps the date the client wrote: a time, if any, is dropped, not converted to UTC
        written = parse(text.strip()[:10]) or moment
        return written.strftime("%Y-%m-%d")
    return date_time_text(moment)
