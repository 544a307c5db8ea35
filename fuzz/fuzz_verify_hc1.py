#!/usr/bin/env python3
"""Fuzz target: full verification of HC1 (EU DCC) codes through the same API (see _verify.py)."""

from __future__ import annotations

from _common import run
from _verify import make_target

test_one_input, seeds = make_target("HC1:", "ed-dsc")

if __name__ == "__main__":
    run(test_one_input, seeds)
