"""Print CBOR as annotated hex (one item per line, indented), for the spec's worked examples.

    python tools/annotate_cbor.py HEX            # any CBOR item
    python tools/annotate_cbor.py --code TEXT    # an HP1:/HC1: code: COSE_Sign1, headers and claims nested
"""

from __future__ import annotations

import argparse
import sys

from healthpass.codec import b45decode, decompress

MAJOR = ("uint", "nint", "bstr", "tstr", "array", "map", "tag", "simple")


def _head(data: bytes, pos: int) -> tuple[int, int, int]:
    first = data[pos]
    major, info = first >> 5, first & 0x1F
    if info < 24:
        return major, info, pos + 1
    size = 1 << (info - 24)
    return major, int.from_bytes(data[pos + 1 : pos + 1 + size], "big"), pos + 1 + size


def annotate(data: bytes, pos: int = 0, depth: int = 0, out: list[str] | None = None,
             nested: bool = False) -> tuple[int, list[str]]:
    out = [] if out is None else out
    major, arg, body = _head(data, pos)
    pad = "   " * depth
    head_hex = data[pos:body].hex()
    if major in (0, 1):
        value = arg if major == 0 else -1 - arg
        out.append(f"{pad}{head_hex:<12} # {MAJOR[major]} {value}")
        return body, out
    if major in (2, 3):
        chunk = data[body : body + arg]
        shown = repr(chunk.decode("utf-8")) if major == 3 else f"{arg} bytes"
        out.append(f"{pad}{head_hex:<12} # {MAJOR[major]} {shown}")
        if major == 2 and nested and arg and chunk[0] >> 5 in (4, 5):
            try:
                end, lines = annotate(chunk, 0, depth + 1, [], nested)
                if end == len(chunk):
                    out.append(f"{pad}   # ... which is CBOR:")
                    out.extend(lines)
                    return body + arg, out
            except (IndexError, ValueError):
                pass
        for i in range(0, arg, 16):
            out.append(f"{pad}   {chunk[i:i + 16].hex()}")
        return body + arg, out
    if major in (4, 5):
        out.append(f"{pad}{head_hex:<12} # {MAJOR[major]}({arg})")
        pos = body
        for _ in range(arg * (2 if major == 5 else 1)):
            pos, out = annotate(data, pos, depth + 1, out, nested)
        return pos, out
    if major == 6:
        out.append(f"{pad}{head_hex:<12} # tag({arg})")
        return annotate(data, body, depth + 1, out, nested)
    out.append(f"{pad}{head_hex:<12} # simple/float")
    return body, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("value")
    parser.add_argument("--code", action="store_true", help="VALUE is an HP1:/HC1: code text")
    args = parser.parse_args()
    data = decompress(b45decode(args.value.strip()[4:]), max_size=65536) if args.code else bytes.fromhex(args.value)
    _, lines = annotate(data, nested=True)
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
