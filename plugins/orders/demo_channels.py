"""Demo data of sales channels: where each demo order came from, marketplace order numbers, and
a few tags. Uses its own random generator so the rest of the demo stays as it was."""

from __future__ import annotations

import random

from .services import add_tag

# (channel, weight, prefix of its order numbers; None: no external reference)
CHANNELS = (("shop", 4, None), ("phone", 3, None), ("wechat", 3, "WX"), ("taobao", 5, "TB"), ("jd", 3, "JD"),
            ("website", 2, "W"), ("api", 1, "API"))
TAGS = ("VIP", "加急", "礼品包装", "需回访")


def origins(count: int, seed: int = 16) -> list[tuple[str, str]]:
    """``count`` pairs ``(channel, external reference or "")``, references unique per channel."""
    rng = random.Random(seed)
    names = [c for c, _w, _p in CHANNELS]
    weights = [w for _c, w, _p in CHANNELS]
    prefixes = {c: p for c, _w, p in CHANNELS}
    result = []
    for index in range(count):
        channel = rng.choices(names, weights)[0]
        prefix = prefixes[channel]
        result.append((channel, f"{prefix}{2026_000_000 + index * 37 + rng.randint(0, 30)}" if prefix else ""))
    return result


def tag_some(orders, seed: int = 16) -> None:
    """Put a tag on about one order in eight."""
    rng = random.Random(seed)
    for order in orders:
        if rng.random() < 0.125:
            add_tag(order, rng.choice(TAGS))
