"""How well each QR reader reads codes degraded like camera pictures, and how fast each QR writer is.

Generates ``--n`` random, realistic codes (``HP1:`` + base45 of random bytes, 400-600 characters, so
QR version 13-15 at error correction M), renders them with :func:`healthpass.qr.render_png`, degrades them
(module size, rotation, keystone, blur, noise, JPEG, low contrast, glare, a combined mild case), and
reports for each reader (zxing-cpp, pyzbar) the share read back exactly and the median time per image.
Then times the writers (segno, qrcode, zxing-cpp) for PNG and SVG, and decodes every PNG of the EU DCC
test data when ``HEALTHPASS_SHARED`` (or ``../shared``) is present.

    python benchmarks/qr_degradation.py             # markdown tables
    python benchmarks/qr_degradation.py --n 20 --json

numpy and PIL are used here only (the library itself needs neither numpy nor PIL to render).
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageFilter

from healthpass import qr
from healthpass.errors import ErrorCode, ScanError

B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
LIB_READERS = ("zxing", "pyzbar")
BASE_PPM = 4  # pixels per module of every degradation other than the module-size rows
RENDER_PPM = 8  # rendered at this size, then area-averaged down to the simulated camera resolution


def b45encode(data: bytes) -> str:
    out = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        n, c = divmod(n, 45)
        e, d = divmod(n, 45)
        out += [B45[c], B45[d], B45[e]]
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        out += [B45[c], B45[d]]
    return "".join(out)


def make_codes(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    codes = []
    for _ in range(n):
        total = rng.randint(400, 600)
        nbytes = (total - 4) * 2 // 3  # base45: 3 characters per 2 bytes
        codes.append("HP1:" + b45encode(rng.randbytes(nbytes)))
    return codes


# ------------------------------------------------------------------------------------------ degradations


def render(code: str, ppm: float) -> Image.Image:
    """The code at ``ppm`` pixels per module, area-averaged like a sensor would (greyscale)."""
    big = Image.open(io.BytesIO(qr.render_png(code, scale=RENDER_PPM))).convert("L")
    modules = big.width // RENDER_PPM
    size = max(1, round(modules * ppm))
    return big.resize((size, size), Image.Resampling.BOX)


def to_array(img: Image.Image) -> np.ndarray:
    return np.asarray(img, dtype=np.float64)


def from_array(arr: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(np.rint(arr), 0, 255).astype(np.uint8), mode="L")


def pad(img: Image.Image, margin: int) -> Image.Image:
    out = Image.new("L", (img.width + 2 * margin, img.height + 2 * margin), 255)
    out.paste(img, (margin, margin))
    return out


def rotate(img: Image.Image, angle: float) -> Image.Image:
    return img.rotate(angle, resample=Image.Resampling.BILINEAR, expand=True, fillcolor=255)


def keystone(img: Image.Image, top: float) -> Image.Image:
    """Perspective: the top edge of the symbol shrinks to ``top`` x the bottom edge (camera tilted)."""
    img = pad(img, img.width // 8)
    w, h = img.size
    inset = w * (1 - top) / 2
    src = [(0, 0), (w, 0), (w, h), (0, h)]
    dst = [(inset, 0), (w - inset, 0), (w, h), (0, h)]
    rows = []
    rhs = []
    for (x, y), (u, v) in zip(dst, src, strict=True):  # output point (x, y) samples input (u, v)
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    coeffs = np.linalg.solve(np.array(rows, dtype=np.float64), np.array(rhs, dtype=np.float64))
    return img.transform((w, h), Image.Transform.PERSPECTIVE, tuple(coeffs), Image.Resampling.BILINEAR, fillcolor=255)


def blur(img: Image.Image, sigma_modules: float, ppm: float = BASE_PPM) -> Image.Image:
    return img.filter(ImageFilter.GaussianBlur(radius=sigma_modules * ppm))


def noise(img: Image.Image, sd: float, rng: np.random.Generator) -> Image.Image:
    return from_array(to_array(img) + rng.normal(0.0, sd, (img.height, img.width)))


def jpeg(img: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue())).convert("L")


def contrast(img: Image.Image, dark: int, light: int) -> Image.Image:
    return from_array(dark + to_array(img) / 255.0 * (light - dark))


def glare(img: Image.Image, radius: float) -> Image.Image:
    """A bright elliptical reflection, semi-axes radius x 0.6 radius (share of the width), saturated
    (pure white, sensor clipping) over its inner 82 % and fading out beyond."""
    arr = to_array(img)
    h, w = arr.shape
    y, x = np.mgrid[0:h, 0:w]
    a, b = radius * w, 0.6 * radius * w
    r2 = ((x - 0.6 * w) / a) ** 2 + ((y - 0.4 * h) / b) ** 2
    return from_array(arr + 400.0 * np.exp(-(r2**2)))


def combined(img_code: str, rng: np.random.Generator) -> Image.Image:
    img = render(img_code, 3)
    img = keystone(rotate(img, 8), 0.9)
    img = blur(img, 0.25, 3)
    img = noise(img, 15, rng)
    return jpeg(img, 60)


@dataclass(frozen=True)
class Case:
    group: str
    level: str
    make: Callable[[str, np.random.Generator], Image.Image]


def cases() -> list[Case]:
    out = [Case("clean", f"{BASE_PPM} px/module", lambda c, r: render(c, BASE_PPM))]
    out += [Case("module size", f"{p} px/module", lambda c, r, p=p: render(c, p)) for p in (6, 2, 1.5, 1.2)]
    out += [Case("rotation", f"{a}°", lambda c, r, a=a: rotate(render(c, BASE_PPM), a)) for a in (10, 45, 90, 173)]
    out += [
        Case("keystone", f"top {int(k * 100)}%", lambda c, r, k=k: keystone(render(c, BASE_PPM), k))
        for k in (0.9, 0.8, 0.7)
    ]
    out += [Case("blur", f"sigma {s} module", lambda c, r, s=s: blur(render(c, BASE_PPM), s)) for s in (0.33, 0.5)]
    out += [Case("noise", f"sd {sd}", lambda c, r, sd=sd: noise(render(c, BASE_PPM), sd, r)) for sd in (40, 80)]
    out += [Case("jpeg", f"quality {q}", lambda c, r, q=q: jpeg(render(c, BASE_PPM), q)) for q in (50, 20)]
    out += [
        Case("low contrast", f"{d} on {li}", lambda c, r, d=d, li=li: contrast(render(c, BASE_PPM), d, li))
        for d, li in ((100, 160), (120, 150), (135, 150))
    ]
    out += [
        Case("glare", f"radius {g:.0%} of width", lambda c, r, g=g: glare(render(c, BASE_PPM), g))
        for g in (0.15, 0.25, 0.35)
    ]
    out.append(Case("combined mild", "3 px, 8°, top 90%, blur 0.25, sd 15, JPEG 60", combined))
    return out


# ------------------------------------------------------------------------------------------------ readers


@dataclass
class Row:
    group: str
    level: str
    read: dict[str, int] = field(default_factory=dict)
    ms: dict[str, float] = field(default_factory=dict)
    n: int = 0


def _raw_zxing(img: Image.Image) -> list[str]:
    import zxingcpp

    return [r.text for r in zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode)]


def _raw_pyzbar(img: Image.Image) -> list[str]:
    from pyzbar import pyzbar

    return [s.data.decode() for s in pyzbar.decode(img, symbols=[pyzbar.ZBarSymbol.QRCODE])]


def _lib(reader: str) -> Callable[[Image.Image], list[str]]:
    def read(img: Image.Image) -> list[str]:
        try:
            return qr.scan_all(img, reader=reader)  # type: ignore[arg-type]
        except ScanError:
            return []

    return read


#: healthpass.qr.scan with each reader (one pass, then the sharpen, upscale and smooth retries), and each
#: library called once on the image as is (what the retries add).
READERS: dict[str, Callable[[Image.Image], list[str]]] = {
    "auto": _lib("auto"),
    "zxing": _lib("zxing"),
    "pyzbar": _lib("pyzbar"),
    "zxing 1 pass": _raw_zxing,
    "pyzbar 1 pass": _raw_pyzbar,
}


def timed_scan(img: Image.Image, reader: str) -> tuple[list[str], float]:
    start = time.perf_counter()
    texts = READERS[reader](img)
    return texts, (time.perf_counter() - start) * 1000


def run_readers(codes: list[str], seed: int) -> list[Row]:
    rows = []
    for case in cases():
        rng = np.random.default_rng(seed)
        row = Row(case.group, case.level, n=len(codes))
        times: dict[str, list[float]] = {r: [] for r in READERS}
        for code in codes:
            img = case.make(code, rng)
            img.load()
            ok = {}
            for reader in READERS:
                texts, ms = timed_scan(img, reader)
                ok[reader] = code in texts
                times[reader].append(ms)
                row.read[reader] = row.read.get(reader, 0) + ok[reader]
        row.ms = {r: statistics.median(t) for r, t in times.items()}
        rows.append(row)
        print(f"  {case.group} {case.level}: {row.read}", file=sys.stderr)
    return rows


def run_no_code(repeat: int = 5) -> list[dict[str, Any]]:
    """What a picture without any code costs each reader (the retries run to the end)."""
    variants: dict[str, Callable[[Image.Image], Any]] = {
        "auto": qr.scan_all,
        "auto, retry=False": lambda im: qr.scan_all(im, retry=False),
        "zxing": lambda im: qr.scan_all(im, reader="zxing"),
        "pyzbar": lambda im: qr.scan_all(im, reader="pyzbar"),
    }
    out = []
    pictures = [(f"noise {w}x{h}", Image.effect_noise((w, h), 50)) for w, h in ((640, 480), (1920, 1080))]
    pictures += [
        ("gradient 1920x1080", Image.linear_gradient("L").resize((1920, 1080))),
        ("mandelbrot 1920x1080", Image.effect_mandelbrot((1920, 1080), (-2.0, -1.0, 1.0, 1.0), 100).convert("L")),
    ]
    for label, img in pictures:
        entry: dict[str, Any] = {"size": label}
        for name, fn in variants.items():
            times = []
            for _ in range(repeat):
                start = time.perf_counter()
                assert fn(img) == []
                times.append((time.perf_counter() - start) * 1000)
            entry[name] = statistics.median(times)
        out.append(entry)
    return out


# ------------------------------------------------------------------------------------------------ writers


def writer_segno(code: str, kind: str) -> bytes:
    """The library's writer (healthpass.qr uses segno, mode pinned to alphanumeric, boost_error off)."""
    if kind == "png":
        return qr.render_png(code, scale=6)
    return qr.render_svg(code).encode()


def writer_qrcode(code: str, kind: str) -> bytes:
    import qrcode
    import qrcode.image.svg
    from qrcode.util import MODE_ALPHA_NUM

    # SVG: qrcode sizes in mm, box_size 10 = 1 mm per module
    q = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=6 if kind == "png" else 10, border=4)
    q.add_data(code, optimize=0)
    q.make(fit=True)
    assert q.data_list[0].mode == MODE_ALPHA_NUM
    buf = io.BytesIO()
    if kind == "png":
        q.make_image().save(buf)
    else:
        q.make_image(image_factory=qrcode.image.svg.SvgPathImage).save(buf)
    return buf.getvalue()


def writer_zxing(code: str, kind: str) -> bytes:
    import zxingcpp

    barcode = zxingcpp.create_barcode(code, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    if kind == "svg":
        data = barcode.to_svg(scale=1).encode()
    else:
        bitmap = np.asarray(barcode.to_image(scale=6))
        buf = io.BytesIO()
        Image.fromarray(bitmap, mode="L").convert("1").save(buf, "PNG")
        data = buf.getvalue()
    return data


def decoded_version(png: bytes) -> tuple[str, str]:
    """Version and EC level zxing-cpp reads back from a PNG (checks what a writer really produced)."""
    import zxingcpp

    grey = Image.open(io.BytesIO(png)).convert("L")
    found = zxingcpp.read_barcodes(grey, formats=zxingcpp.BarcodeFormat.QRCode)
    return (found[0].extra.get("Version", "?"), found[0].ec_level) if found else ("none", "")


def run_writers(codes: list[str], repeat: int = 3) -> list[dict[str, Any]]:
    writers: dict[str, Callable[[str, str], bytes]] = {
        "segno": writer_segno,
        "qrcode": writer_qrcode,
        "zxing-cpp": writer_zxing,
    }
    results = []
    for name, fn in writers.items():
        entry: dict[str, Any] = {"writer": name}
        for kind in ("png", "svg"):
            per_code = []
            sizes = []
            for code in codes:
                best = float("inf")
                for _ in range(repeat):
                    start = time.perf_counter()
                    data = fn(code, kind)
                    best = min(best, (time.perf_counter() - start) * 1000)
                per_code.append(best)
                sizes.append(len(data))
            entry[f"{kind}_ms"] = statistics.median(per_code)
            entry[f"{kind}_bytes"] = statistics.median(sizes)
        # what was really produced: the version and EC zxing reads back vs the alphanumeric planner
        same_version = 0
        ec_ok = True
        for c in codes:
            version, ec = decoded_version(fn(c, "png"))
            same_version += version == str(qr.plan(c))
            ec_ok &= ec == "M"
        entry["version_matches_alphanumeric_plan"] = f"{same_version}/{len(codes)}"
        entry["ec_is_M"] = ec_ok
        results.append(entry)
    base = results[0]
    for entry in results:
        for key in ("png_ms", "svg_ms", "svg_bytes", "png_bytes"):
            entry[key + "_vs_segno"] = entry[key] / base[key]
    return results


# --------------------------------------------------------------------------------------------- EU data


def shared_dir() -> Path | None:
    env = os.environ.get("HEALTHPASS_SHARED")
    path = Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared"
    path = path / "vectors" / "dgc-testdata"
    return path if path.is_dir() else None


def run_eu() -> dict[str, Any] | None:
    root = shared_dir()
    if root is None:
        return None
    out: dict[str, Any] = {}
    files = sorted(root.rglob("*.png"))
    res: dict[str, Any] = {"total": len(files)}
    for reader in LIB_READERS:
        read = 0
        invalid = 0
        misses = []
        times = []
        for f in files:
            start = time.perf_counter()
            try:
                qr.scan(f, reader=reader)  # type: ignore[arg-type]
                read += 1
            except ScanError as exc:
                if exc.code is ErrorCode.IMAGE_INVALID:
                    invalid += 1
                else:
                    misses.append(str(f.relative_to(root)))
            times.append((time.perf_counter() - start) * 1000)
        res[reader] = {
            "read": read,
            "invalid": invalid,
            "not_read": misses,
            "median_ms": statistics.median(times),
        }
    out["png_files"] = res
    # embedded 2DCODE images whose EXPECTEDPICTUREDECODE is true: must decode to PREFIX exactly
    embedded = []
    for f in sorted(root.rglob("*.json")):
        try:
            doc = json.loads(f.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
        if isinstance(doc, dict) and "2DCODE" in doc and doc.get("EXPECTEDRESULTS", {}).get("EXPECTEDPICTUREDECODE"):
            embedded.append((f, base64.b64decode(doc["2DCODE"]), doc["PREFIX"]))
    res = {"total": len(embedded)}
    for reader in LIB_READERS:
        ok = 0
        misses = []
        for f, png, prefix in embedded:
            try:
                ok += qr.scan(png, reader=reader) == prefix  # type: ignore[arg-type]
            except ScanError:
                misses.append(str(f.relative_to(root)))
        res[reader] = {"matched_prefix": ok, "not_read": misses}
    out["embedded_2dcode"] = res
    return out


# ------------------------------------------------------------------------------------------------ output


def markdown(
    rows: list[Row],
    no_code: list[dict[str, Any]],
    writers: list[dict[str, Any]],
    eu: dict[str, Any] | None,
    args: Any,
) -> str:
    lines = [
        f"QR reader comparison: {args.n} codes of 400-600 characters (version 13-15, EC M), "
        f"degradations at {BASE_PPM} px/module unless stated; share read exactly, median ms per image.",
        "",
        "auto = healthpass.qr.scan() defaults (zxing-cpp, then pyzbar, on the image then on sharpened, "
        "2x upscaled and smoothed copies); zxing-cpp / pyzbar = scan(reader=...) (one reader, same retries); "
        "1 pass = the library called once on the image as is.",
        "",
        "| degradation | level | auto | zxing-cpp | pyzbar | zxing-cpp 1 pass | pyzbar 1 pass "
        "| ms auto | ms zxing-cpp / pyzbar | ms 1 pass zxing-cpp / pyzbar |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.group} | {r.level} | {r.read['auto']}/{r.n} | {r.read['zxing']}/{r.n} | "
            f"{r.read['pyzbar']}/{r.n} | {r.read['zxing 1 pass']}/{r.n} | {r.read['pyzbar 1 pass']}/{r.n} | "
            f"{r.ms['auto']:.1f} | {r.ms['zxing']:.1f} / {r.ms['pyzbar']:.1f} | "
            f"{r.ms['zxing 1 pass']:.1f} / {r.ms['pyzbar 1 pass']:.1f} |"
        )
    lines += [
        "",
        "Cost of a picture without any code (all retries run), median ms of 5:",
        "",
        "| picture | auto | auto, retry=False | zxing-cpp | pyzbar |",
        "|---|---|---|---|---|",
    ]
    for c in no_code:
        lines.append(
            f"| {c['size']} | {c['auto']:.1f} | {c['auto, retry=False']:.1f} | {c['zxing']:.1f} | {c['pyzbar']:.1f} |"
        )
    lines += [
        "",
        f"QR writer comparison ({args.n} codes, EC M; PNG 6 px/module; SVG 1 unit/module; "
        "ms = median per code of the best of 3 runs):",
        "",
        "| writer | PNG ms | PNG vs segno | PNG bytes | SVG ms | SVG vs segno | SVG bytes "
        "| SVG size vs segno | version = alphanumeric plan | EC M |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for w in writers:
        lines.append(
            f"| {w['writer']} | {w['png_ms']:.2f} | {w['png_ms_vs_segno']:.2f}x | {w['png_bytes']:.0f} | "
            f"{w['svg_ms']:.2f} | {w['svg_ms_vs_segno']:.2f}x | {w['svg_bytes']:.0f} | "
            f"{w['svg_bytes_vs_segno']:.1f}x | {w['version_matches_alphanumeric_plan']} | {w['ec_is_M']} |"
        )
    if eu is not None:
        files = eu["png_files"]
        emb = eu["embedded_2dcode"]
        lines += ["", "EU DCC test data:", "", "| set | zxing-cpp | pyzbar |", "|---|---|---|"]
        zx, zb = files["zxing"], files["pyzbar"]
        lines.append(f"| PNG files decoded (of {files['total']}) | {zx['read']} | {zb['read']} |")
        lines.append(f"| PNG files not an image | {files['zxing']['invalid']} | {files['pyzbar']['invalid']} |")
        lines.append(f"| median ms per file | {files['zxing']['median_ms']:.1f} | {files['pyzbar']['median_ms']:.1f} |")
        lines.append(
            f"| embedded 2DCODE = PREFIX (of {emb['total']}, EXPECTEDPICTUREDECODE true) | "
            f"{emb['zxing']['matched_prefix']} | {emb['pyzbar']['matched_prefix']} |"
        )
        for reader in LIB_READERS:
            if files[reader]["not_read"]:
                lines.append(f"\n{reader} did not read: {', '.join(files[reader]['not_read'])}")
    lines += ["", f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPU(s)."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50, help="number of generated codes (default 50)")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of markdown")
    parser.add_argument("--skip-eu", action="store_true", help="do not decode the EU test data")
    args = parser.parse_args(argv)
    codes = make_codes(args.n, args.seed)
    rows = run_readers(codes, args.seed)
    no_code = run_no_code()
    writers = run_writers(codes)
    eu = None if args.skip_eu else run_eu()
    if args.json:
        doc = {
            "n": args.n,
            "seed": args.seed,
            "base_px_per_module": BASE_PPM,
            "readers": [r.__dict__ for r in rows],
            "no_code": no_code,
            "writers": writers,
            "eu": eu,
            "python": platform.python_version(),
        }
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        print(markdown(rows, no_code, writers, eu, args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
