#!/usr/bin/env python3
"""Write a file of mixed garbage for ``healthpass verify --batch``, plus the public key that verifies its few
valid codes.

    python tools/garbage_batch.py --lines 1000000 --out /tmp/garbage.txt --key-out /tmp/PUB.pem
    healthpass verify --trust-key 630000=/tmp/PUB.pem --at 2026-11-25T13:00:00Z --json \\
        --batch /tmp/garbage.txt --workers 2 > /tmp/results.jsonl

Lines (deterministic for a given ``--seed``): random bytes decoded as latin-1, raw bytes that are not UTF-8,
invalid UTF-8 sequences, truncated and mutated real codes (at the text, base45, zlib and CBOR layers), every
attack of the adversarial catalogue, valid codes, whitespace-only and empty lines, and huge lines (up to
``--max-huge`` bytes, beyond the CLI's 65,536-character line cut).

A line ends at LF, CRLF or a lone CR (Python's universal newlines, as the CLI reads): line contents never hold
CR or LF themselves, so the file has exactly ``--lines`` lines. :func:`expected_lines` gives the numbers of the
non-blank ones, i.e. the ``line`` of each result the CLI must print, in order.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "tests" / "vectors" / "attacks.json"
#: The time at which the catalogue's valid codes verify.
AT = "2026-11-25T13:00:00Z"
BASE45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
BAD_UTF8 = [b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82",
            b"\x80\x80\x80", b"\xf8\x88\x80\x80\x80"]
BLANKS = [b"", b" ", b"\t", b"  \t ", b"\x0b\x0c", b"\xc2\xa0", b"\xe3\x80\x80", b"\x1c\x1d\x1e\x1f"]
#: kinds of line and their weights
KINDS: dict[str, float] = {
    "latin1": 20, "raw_bytes": 10, "bad_utf8": 5, "truncated_code": 10, "text_mutation": 15,
    "zlib_mutation": 8, "cbor_mutation": 8, "catalogue": 8, "valid": 5, "blank": 6, "prefix_junk": 4, "huge": 0.1,
}


def _clean(data: bytes) -> bytes:
    return data.replace(b"\n", b"").replace(b"\r", b"")


class Garbage:
    """A deterministic generator of garbage lines around the catalogue's codes."""

    def __init__(self, seed: int, max_huge: int) -> None:
        self.rng = random.Random(seed)
        self.max_huge = max_huge
        doc = json.loads(CATALOGUE.read_text("utf-8"))
        self.valid = [c["text"].strip() for c in doc["controls"]
                      if c["trust"] == "default" and c["text"].startswith("HP1:")]
        self.attacks = [v["text"] for v in doc["vectors"] if v["kind"] == "code"]
        self.public_pem = doc["keys"]["ed-qinghai"]["public_pem"]
        from healthpass.codec import b45decode, decompress

        self.compressed = [b45decode(code[4:]) for code in self.valid]
        self.messages = [decompress(c, max_size=1 << 16) for c in self.compressed]
        names = list(KINDS)
        self._kinds = self.rng.choices(names, weights=[KINDS[n] for n in names], k=4096)
        self._next = 0

    def line(self) -> bytes:
        kind = self._kinds[self._next % len(self._kinds)]
        self._next += 1
        if self._next % len(self._kinds) == 0:
            self.rng.shuffle(self._kinds)
        return _clean(getattr(self, f"_{kind}")())

    # -- kinds --------------------------------------------------------------------------------------------

    def _latin1(self) -> bytes:
        return self.rng.randbytes(self.rng.randint(1, 300)).decode("latin-1").encode("utf-8")

    def _raw_bytes(self) -> bytes:
        return self.rng.randbytes(self.rng.randint(1, 200))

    def _bad_utf8(self) -> bytes:
        parts = [self.rng.choice(BAD_UTF8) if self.rng.random() < 0.5 else self.rng.choice(BASE45).encode()
                 for _ in range(self.rng.randint(1, 40))]
        return (b"HP1:" if self.rng.random() < 0.5 else b"") + b"".join(parts)

    def _truncated_code(self) -> bytes:
        code = self.rng.choice(self.valid)
        return code[: self.rng.randint(0, len(code) - 1)].encode()

    def _text_mutation(self) -> bytes:
        chars = list(self.rng.choice(self.valid))
        for _ in range(self.rng.randint(1, 5)):
            at = self.rng.randrange(len(chars))
            op = self.rng.random()
            if op < 0.5:
                chars[at] = self.rng.choice(BASE45 + "abcxyz\x00\t\u00e9\u200b\ufffd")
            elif op < 0.75:
                del chars[at]
            else:
                chars.insert(at, self.rng.choice(BASE45))
        return "".join(chars).encode("utf-8")

    def _zlib_mutation(self) -> bytes:
        from healthpass.codec import b45encode

        data = bytearray(self.rng.choice(self.compressed))
        for _ in range(self.rng.randint(1, 4)):
            data[self.rng.randrange(len(data))] ^= 1 << self.rng.randrange(8)
        return ("HP1:" + b45encode(bytes(data))).encode()

    def _cbor_mutation(self) -> bytes:
        from healthpass.codec import b45encode, compress

        data = bytearray(self.rng.choice(self.messages))
        for _ in range(self.rng.randint(1, 4)):
            at = self.rng.randrange(len(data))
            if self.rng.random() < 0.7:
                data[at] = self.rng.randrange(256)
            else:
                data[at:at] = self.rng.randbytes(self.rng.randint(1, 9))
        return ("HP1:" + b45encode(compress(bytes(data)))).encode()

    def _catalogue(self) -> bytes:
        return self.rng.choice(self.attacks).encode("utf-8")

    def _valid(self) -> bytes:
        code = self.rng.choice(self.valid)
        return (self.rng.choice(["", " ", "\t"]) + code + self.rng.choice(["", " ", "\t"])).encode()

    def _blank(self) -> bytes:
        return self.rng.choice(BLANKS)

    def _prefix_junk(self) -> bytes:
        head = self.rng.choice(["HP1:", "HC1:", "hp1:", "HP1", "HP1::", "\ufeffHP1:", "HP1:\x00"])
        return (head + "".join(self.rng.choices(BASE45, k=self.rng.randint(0, 90)))).encode("utf-8")

    def _huge(self) -> bytes:
        size = self.rng.randint(5_000, self.max_huge)
        fill = self.rng.choice([b"0", b"A", b"%", b"\xff", b"\xc3\xa9"])
        head = self.rng.choice([b"HP1:", b"HC1:", b""])
        return head + fill * (size // len(fill))


def lines(count: int, *, seed: int = 20261125, max_huge: int = 200_000) -> Iterator[bytes]:
    """``count`` garbage lines, each with its terminator (LF, and now and then CRLF or a lone CR)."""
    garbage = Garbage(seed, max_huge)
    ends = random.Random(seed + 1)
    after_cr = False
    for _ in range(count):
        roll = ends.random()
        content = garbage.line()
        end = b"\n" if roll < 0.9 else b"\r\n" if roll < 0.97 else b"\r"
        if after_cr and not content and end == b"\n":
            end = b"\r\n"  # a lone CR followed by an empty LF line would read as one CRLF
        after_cr = end == b"\r"
        yield content + end


def write(path: Path, count: int, *, seed: int = 20261125, max_huge: int = 200_000) -> None:
    with path.open("wb") as out:
        buffer: list[bytes] = []
        for line in lines(count, seed=seed, max_huge=max_huge):
            buffer.append(line)
            if len(buffer) >= 4096:
                out.write(b"".join(buffer))
                buffer.clear()
        out.write(b"".join(buffer))


def expected_lines(path: Path) -> Iterator[int]:
    """Numbers (1-based) of the non-blank lines, read as the CLI reads them: UTF-8 with replacement,
    universal newlines, surrounding whitespace ignored."""
    with path.open(encoding="utf-8", errors="replace", newline="") as stream:
        for number, line in enumerate(stream, start=1):
            if line.rstrip("\r\n").strip():
                yield number


def public_key_pem() -> str:
    return json.loads(CATALOGUE.read_text("utf-8"))["keys"]["ed-qinghai"]["public_pem"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--key-out", type=Path, help="write the public key of the valid codes (region 630000)")
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--max-huge", type=int, default=200_000, help="longest huge line, in bytes")
    parser.add_argument("--count-expected", action="store_true", help="print the number of non-blank lines")
    args = parser.parse_args(argv)
    write(args.out, args.lines, seed=args.seed, max_huge=args.max_huge)
    if args.key_out:
        args.key_out.write_text(public_key_pem(), "utf-8")
    if args.count_expected:
        print(sum(1 for _ in expected_lines(args.out)))
    print(f"wrote {args.lines:,} lines ({args.out.stat().st_size:,} bytes) to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    io.DEFAULT_BUFFER_SIZE = 1 << 16
    sys.exit(main())
