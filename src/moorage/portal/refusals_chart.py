"""The Refusals tab's chart: refusals per five minutes over the last three hours, as the
geometry of an inline SVG (no script, no library)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from moorage.store.audit import Denial

CHART_BUCKET = timedelta(minutes=5)
CHART_BUCKETS = 36  # three hours
CHART_DETAILS = 1000  # the audit keeps at most this many details per registry


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    height: float
    count: int
    label: str


@dataclass(frozen=True, slots=True)
class Chart:
    """Refusals per bucket over the last hours, as geometry for an inline SVG (viewBox 412x132;
    the plot is x 36..396, y 10..110; no script, no library)."""

    bars: tuple[Bar, ...]
    ticks: tuple[tuple[float, str], ...]
    peak: int
    total: int
    start: datetime
    end: datetime


def chart(denials: Iterable[Denial], now: datetime) -> Chart:
    step = int(CHART_BUCKET.total_seconds())
    end = datetime.fromtimestamp((int(now.timestamp()) // step + 1) * step, tz=now.tzinfo)
    start = end - CHART_BUCKET * CHART_BUCKETS
    counts = [0] * CHART_BUCKETS
    for d in denials:
        if start <= d.at < end:
            counts[int((d.at - start) / CHART_BUCKET)] += 1
    peak = max(counts)
    width = 360 / CHART_BUCKETS
    bars = []
    for i, count in enumerate(counts):
        height = 100 * count / peak if peak else 0
        at = start + CHART_BUCKET * i
        label = f"{at:%H:%M}-{at + CHART_BUCKET:%H:%M} UTC: {count} refused"
        bars.append(Bar(36 + i * width + 1, 110 - height, height, count, label))
    per_hour = int(timedelta(hours=1) / CHART_BUCKET)
    ticks = tuple(
        (36 + i * width, f"{start + CHART_BUCKET * i:%H:%M}")
        for i in range(0, CHART_BUCKETS + 1, per_hour)
    )
    return Chart(tuple(bars), ticks, peak, sum(counts), start, end)
