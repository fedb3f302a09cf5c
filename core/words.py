"""Words for counts: "1 input", "2 inputs", "1,056 parameters" (one rule for every
message in the app, headless or in the window)."""

from __future__ import annotations


def plural(n: int, noun: str, many: str = "") -> str:
    """``n`` and ``noun``, in the plural unless ``n`` is 1: ``plural(1, "input")`` is
    "1 input", ``plural(1056, "parameter")`` is "1,056 parameters", ``plural(3, "class")``
    is "3 classes". ``many`` gives an irregular plural."""
    if n == 1:
        return f"1 {noun}"
    if not many:
        many = noun + ("es" if noun.endswith(("s", "x", "ch", "sh")) else "s")
    return f"{n:,} {many}"


__all__ = ["plural"]
