#!/usr/bin/env python3
"""Fuzz target: full verification of HP1 codes (text, COSE, signed claims, signed headers: see _verify.py)."""

from __future__ import annotations

from _common import run
from _verify import make_target

test_one_input, seeds = make_target("HP1:", "ed-qinghai")

if __name__ == "__main__":
    run(test_one_input, seeds)
