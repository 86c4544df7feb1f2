"""Rate limit specifications: `50/s burst 100`, parsed once from the settings.

Grammar: `off`, or `<count>/<unit>` with unit `s`, `m` or `h` (`second`, `minute`, `hour`
also read), optionally followed by `burst <n>`. The rate refills a token bucket; the burst is its
size, the most requests a caller may send at once after being idle. Without `burst` the bucket
holds one unit's worth: `600/m` allows 600 at once, then 10 a second.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

UNITS = {"s": 1.0, "sec": 1.0, "second": 1.0, "m": 60.0, "min": 60.0, "minute": 60.0, "h": 3600.0,
         "hour": 3600.0}
SPEC = re.compile(r"(?P<count>\d+(?:\.\d+)?)\s*/\s*(?P<unit>[a-z]+)(?:\s+burst\s+(?P<burst>\d+))?")


@dataclass(frozen=True)
class RateSpec:
    """A token bucket's refill rate and size."""

    per_second: float
    burst: int


def parse_rate(text: str) -> RateSpec | None:
    """`50/s burst 100` → RateSpec(50.0, 100); `off` → None (no limit).

    Raises:
        ValueError: anything else; the message shows the expected form.

    """
    text = " ".join(text.strip().lower().split())
    if text == "off":
        return None
    found = SPEC.fullmatch(text)
    if not found or found["unit"] not in UNITS:
        raise ValueError("must look like '50/s burst 100' (units s, m, h; burst optional) or 'off'")
    count = float(found["count"])
    burst = int(found["burst"]) if found["burst"] else math.ceil(count)
    if count <= 0 or burst < 1:
        raise ValueError("rate and burst must be positive (use 'off' for no limit)")
    return RateSpec(per_second=count / UNITS[found["unit"]], burst=burst)
