"""Rates that stay honest on small counts: ratio or None, and the 95% Wilson interval."""

from __future__ import annotations

import math


def rate(numerator, denominator):
    """numerator / denominator, or None when the denominator is zero or missing (never 0%)."""
    if denominator is None or numerator is None:
        return None
    try:
        if math.isnan(float(denominator)) or math.isnan(float(numerator)):
            return None
    except (TypeError, ValueError):
        return None
    if float(denominator) == 0:
        return None
    return float(numerator) / float(denominator)


def wilson(successes, n, z: float = 1.959964) -> tuple[float, float] | None:
    """95% Wilson score interval for successes out of n, or None for n == 0."""
    if not n:
        return None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)
