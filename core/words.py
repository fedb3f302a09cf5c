"""Words for counts: "1 input", "2 inputs", "1,056 parameters" (one rule for every
message in the app, headless or in the window)."""

from __future__ import annotations

# Nouns whose "ch" sounds as k take a plain "s": "300 epochs", not "300 epoches".
_CH_SOUNDED_K = ("epoch", "stomach", "monarch")


def plural(n: int, noun: str, many: str = "") -> str:
    """``n`` and ``noun``, in the plural unless ``n`` is 1: ``plural(1, "input")`` is
    "1 input", ``plural(1056, "parameter")`` is "1,056 parameters", ``plural(3, "class")``
    is "3 classes". ``many`` gives an irregular plural."""
    if n == 1:
        return f"1 {noun}"
    if not many:
        hissing = noun.endswith(("s", "x", "sh")) or (
            noun.endswith("ch") and not noun.endswith(_CH_SOUNDED_K))
        many = noun + ("es" if hissing else "s")
    return f"{n:,} {many}"


__all__ = ["plural"]
