"""Reference checkpoint kiosk: a local web page that reads a health code from the camera, an uploaded
picture or pasted text, verifies it offline and shows the result card (``healthpass.display``).

    .venv/bin/python examples/kiosk/app.py --demo /tmp/kiosk      # a demo configuration, then serve it
    .venv/bin/python examples/kiosk/app.py --config DIR           # http://127.0.0.1:8080

The configuration directory (re-read whenever a file in it changes: no restart)::

    kiosk.json          optional {"profile": "clinic", "language": "zh-Hans"} (the page starts in that
                        language; without one, in the browser's preferred language, else zh-Hans)
    roots/*.pem         trust-list root public keys
    trust-lists/*       signed trust lists (per root the newest is used; rollback refused via .state/)
    keys/<REGION>.pem   issuer public keys trusted directly (e.g. keys/630000.pem)
    dsc/*               EU signer certificates (PEM or DER)
    rules/*.bundle      signed rule bundles (checked against the roots; the newest that loads governs; when
                        bundles are there but none loads, every code is refused: fail closed)
    .state/             anti-rollback state, written by the kiosk

Only loopback peers are served (and only with a loopback Host header, against DNS rebinding); uploads are
bounded (bytes here, pixels by ``healthpass.qr.scan``); logs and responses carry only the view: verdict,
colour, error code and the card, never the code text or anything else from the payload.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from healthpass import HealthPassError, Region, TrustList, Verifier, issuer_key, qr, trust_root
from healthpass.display import Language, build_view, card_bytes, render_html
from healthpass.state import StateStore
from healthpass.trust import MAX_DOCUMENT_BYTES

__all__ = ["MAX_TEXT_BYTES", "MAX_UPLOAD_BYTES", "KioskConfig", "LoopbackOnly", "create_app"]

LOG = logging.getLogger("healthpass.kiosk")
STATIC = Path(__file__).resolve().parent / "static"
#: An uploaded picture is bounded like ``scan`` input: at most ``qr.MAX_IMAGE_BYTES`` (its pixels, format and
#: decoding work are bounded by ``qr.scan`` itself); larger uploads are refused while being read.
MAX_UPLOAD_BYTES = qr.MAX_IMAGE_BYTES
#: Uploads read and checked at the same time (the rest wait their turn).
MAX_CONCURRENT = 4
#: A pasted code may be this long (a code is at most a few hundred characters; verify reads 256 KiB).
MAX_TEXT_BYTES = 256 * 1024
#: the page's root element as static/index.html has it; the configured language replaces it
_PAGE_LANGUAGE = '<html lang="zh-Hans" data-language="">'
_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; "
                               "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


# ------------------------------------------------------------------------------------------ localhost only


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0]).is_loopback
    except ValueError:
        return False


def _host_name(header: str) -> str:
    header = header.strip().lower()
    if header.startswith("["):  # [::1]:8080
        return header[: header.find("]") + 1]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class LoopbackOnly:
    """ASGI middleware: 403 for a peer that is not on a loopback address, or a Host header naming another
    host (a page on another site that rebinds its name to 127.0.0.1 cannot reach the kiosk)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in {"http", "websocket"}:
            client = scope.get("client")
            host = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"host"), "")
            if not (client and _is_loopback(client[0])) or _host_name(host) not in _LOOPBACK_NAMES:
                LOG.warning("refused a request from a non-local peer or host")
                response = PlainTextResponse("this kiosk serves localhost only", status_code=403)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


# ------------------------------------------------------------------------------ configuration, reloaded


@dataclass(frozen=True)
class KioskConfig:
    """One loaded configuration: the verifier and the checkpoint's profile and default language.

    ``language`` answers API requests without ``lang``; ``language_configured`` says whether kiosk.json set it:
    the page then starts in it, and otherwise in the browser's preferred language (``static/kiosk.js``)."""

    fingerprint: tuple[tuple[str, int, int, int], ...]
    verifier: Verifier | None
    profile: str | None = None
    language: Language = Language.ZH_HANS
    problems: tuple[str, ...] = field(default=())
    language_configured: bool = False


def _read(path: Path) -> bytes:
    """A configuration file, at most MAX_DOCUMENT_BYTES + 1 bytes of it (the loaders refuse a larger document; a
    key that long does not parse): a file of gigabytes planted in the directory is never read whole."""
    with path.open("rb") as handle:
        return handle.read(MAX_DOCUMENT_BYTES + 1)


def _files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.is_file() and not p.name.startswith("."))


def fingerprint(config_dir: Path) -> tuple[tuple[str, int, int, int], ...]:
    """What identifies the configuration's files now (name, size, mtime, inode): any change reloads."""
    paths = [config_dir / "kiosk.json"] + [p for sub in ("roots", "trust-lists", "keys", "dsc", "rules")
                                           for p in _files(config_dir / sub)]
    out = []
    for path in paths:
        try:
            st = path.stat()
        except OSError:
            continue
        out.append((str(path.relative_to(config_dir)), st.st_size, st.st_mtime_ns, st.st_ino))
    return tuple(out)


def load_config(config_dir: Path) -> KioskConfig:
    """Build the verifier from the directory. A file that does not load is skipped and reported by name and
    error code (a rejected trust-list update leaves the others in force)."""
    stamp = fingerprint(config_dir)
    problems: list[str] = []
    settings: dict[str, Any] = {}
    if (config_dir / "kiosk.json").is_file():
        try:
            settings = json.loads((config_dir / "kiosk.json").read_text("utf-8"))
        except (OSError, ValueError):
            problems.append("kiosk.json: not valid JSON")
    roots = []
    for path in _files(config_dir / "roots"):
        try:
            roots.append(trust_root(_read(path)))
        except (OSError, ValueError) as err:
            problems.append(f"roots/{path.name}: {type(err).__name__}")
    state = StateStore(config_dir / ".state")
    lists = []
    for path in _files(config_dir / "trust-lists"):
        try:
            lists.append(TrustList.load(_read(path), roots, state=state))
        except HealthPassError as err:
            problems.append(f"trust-lists/{path.name}: {err.code.value}")
        except OSError:
            problems.append(f"trust-lists/{path.name}: unreadable")
    keys = []
    for path in _files(config_dir / "keys"):
        try:
            keys.append(issuer_key(_read(path), region=Region(path.name.split(".")[0])))
        except (OSError, ValueError) as err:
            problems.append(f"keys/{path.name}: {type(err).__name__}")
    for path in _files(config_dir / "dsc"):
        try:
            keys.append(issuer_key(_read(path), source="dsc"))
        except (OSError, ValueError) as err:
            problems.append(f"dsc/{path.name}: {type(err).__name__}")
    rules = None
    bundles = [p for p in _files(config_dir / "rules") if p.suffix == ".bundle"]
    if bundles:
        from healthpass.rules.bundle import RuleBundle

        # The newest bundle that loads governs, whatever the file names; an older one beside it is refused
        # (rollback) and ignored. When bundles are configured but none loads, the kiosk refuses every code
        # (fail closed): dropping the checkpoint's rules would pass codes its policy rejects.
        for path in bundles:
            try:
                bundle = RuleBundle.load(_read(path), roots, state=state)
            except HealthPassError as err:
                problems.append(f"rules/{path.name}: {err.code.value}")
                continue
            except OSError:
                problems.append(f"rules/{path.name}: unreadable")
                continue
            if rules is None or bundle.seq > rules.seq:
                rules = bundle
        if rules is None:
            problems.append("rules: no rule bundle loads, every code is refused until one does")
            keys, lists = [], []
    verifier = Verifier(keys=keys, trust_lists=lists, rules=rules) if (keys or lists) else None
    language = settings.get("language")
    configured = next((x for x in Language if x.value == language), None)
    if language is not None and configured is None:
        problems.append("kiosk.json: language must be zh-Hans, zh-Hant or en (the page follows the browser)")
    profile = settings.get("profile")
    return KioskConfig(stamp, verifier, profile if isinstance(profile, str) else None,
                       configured or Language.ZH_HANS, tuple(problems), configured is not None)


class ConfigWatcher:
    """The current configuration, rebuilt when the directory's files change (checked on each request)."""

    def __init__(self, config_dir: Path) -> None:
        self.config_dir = config_dir
        self._lock = threading.Lock()
        self._current = self._load()

    def _load(self) -> KioskConfig:
        config = load_config(self.config_dir)
        LOG.info("configuration loaded: %d trust files, problems: %s", len(config.fingerprint),
                 "; ".join(config.problems) or "none")
        return config

    def current(self) -> KioskConfig:
        stamp = fingerprint(self.config_dir)
        if stamp != self._current.fingerprint:
            with self._lock:
                if stamp != self._current.fingerprint:
                    self._current = self._load()
        return self._current


# ------------------------------------------------------------------------------------------------- app


class _TooLarge(Exception):
    pass


async def _bounded_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise _TooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _outcome(config: KioskConfig, kind: str, body: bytes, now: datetime) -> Any:
    """Read and verify: the verified credential, or the error (never the text itself)."""
    try:
        if kind == "image":
            text = qr.scan(body)
        else:
            try:
                text = body.decode("utf-8").strip()
            except UnicodeDecodeError:
                text = ""
        if config.verifier is None:
            from healthpass.errors import ErrorCode, Stage, TrustListError

            raise TrustListError(ErrorCode.TRUST_LIST_INVALID, Stage.TRUST_LIST, "no usable trust configured")
        return config.verifier.verify(text, at=now, profile=config.profile)
    except HealthPassError as err:
        return err


def create_app(config_dir: Path, *, clock: Callable[[], datetime] | None = None) -> ASGIApp:
    """The kiosk as an ASGI app. ``clock`` gives the verification time (default: the system clock)."""
    watcher = ConfigWatcher(Path(config_dir))
    now_of = clock or (lambda: datetime.now(UTC))
    # At most this many uploads are read and checked at once (memory: MAX_UPLOAD_BYTES each); others wait.
    slots = asyncio.Semaphore(MAX_CONCURRENT)

    async def index(_: Request) -> Response:
        config = await run_in_threadpool(watcher.current)
        page = (STATIC / "index.html").read_text("utf-8")
        if config.language_configured:  # the page starts in it (kiosk.js); else in the browser's preferred one
            tag = config.language.value  # one of three fixed values: nothing from the file reaches the page
            page = page.replace(_PAGE_LANGUAGE, f'<html lang="{tag}" data-language="{tag}">', 1)
        return HTMLResponse(page, headers=_SECURITY_HEADERS)

    async def script(_: Request) -> Response:
        return FileResponse(STATIC / "kiosk.js", media_type="text/javascript; charset=utf-8",
                            headers=_SECURITY_HEADERS)

    async def verify(request: Request) -> Response:
        started = time.perf_counter()
        kind = request.query_params.get("kind", "image")
        if kind not in {"image", "text"}:
            return JSONResponse({"error": "kind must be image or text"}, status_code=400, headers=_SECURITY_HEADERS)
        config = await run_in_threadpool(watcher.current)  # a reload reads files and checks signatures
        language = request.query_params.get("lang") or config.language.value
        if language not in {x.value for x in Language}:
            return JSONResponse({"error": "lang must be zh-Hans, zh-Hant or en"}, status_code=400,
                                headers=_SECURITY_HEADERS)
        card_format = request.query_params.get("format", "json")
        if card_format not in {"json", "svg", "png"}:
            return JSONResponse({"error": "format must be json, svg or png"}, status_code=400,
                                headers=_SECURITY_HEADERS)
        async with slots:
            try:
                body = await _bounded_body(request, MAX_UPLOAD_BYTES if kind == "image" else MAX_TEXT_BYTES)
            except _TooLarge:
                return JSONResponse({"error": "upload too large"}, status_code=413, headers=_SECURITY_HEADERS)
            now = now_of()
            outcome = await run_in_threadpool(_outcome, config, kind, body, now)
            del body
        view = build_view(outcome, now=now, language=language, profile=config.profile)
        LOG.info("checked %s: verdict=%s colour=%s error=%s in %.0f ms", kind, view.verdict.value,
                 view.colour.value, view.error_code or "-", (time.perf_counter() - started) * 1000)
        if card_format == "svg":
            return Response(card_bytes(view, ".svg"), media_type="image/svg+xml", headers=_SECURITY_HEADERS)
        if card_format == "png":
            try:
                data = await run_in_threadpool(card_bytes, view, ".png")
            except RuntimeError as err:  # the Noto CJK fonts are missing: the message names the package
                return JSONResponse({"error": str(err)}, status_code=503, headers=_SECURITY_HEADERS)
            return Response(data, media_type="image/png", headers=_SECURITY_HEADERS)
        return JSONResponse({"verdict": view.verdict.value, "colour": view.colour.value,
                             "error_code": view.error_code, "card": render_html(view)}, headers=_SECURITY_HEADERS)

    app = Starlette(routes=[
        Route("/", index, methods=["GET"]),
        Route("/kiosk.js", script, methods=["GET"]),
        Route("/api/verify", verify, methods=["POST"]),
    ])
    return LoopbackOnly(app)


# ------------------------------------------------------------------------------------------------ demo


def make_demo(config_dir: Path, *, now: datetime) -> dict[str, Path]:
    """A demo configuration: a national root, a Qinghai issuer key in a signed trust list, and three codes
    as PNGs under ``demo/`` (green, red status, expired). Returns the PNG paths."""
    from healthpass import Issuer, SoftwareSigner, payload_from_json

    root = SoftwareSigner.generate()
    province = SoftwareSigner.generate()
    for sub in ("roots", "trust-lists", "demo"):
        (config_dir / sub).mkdir(parents=True, exist_ok=True)
    (config_dir / "roots" / "national.pem").write_bytes(root.public_key_pem())
    key = issuer_key(province.public_key_pem(), region=Region("630000"))
    (config_dir / "trust-lists" / "national.htl").write_bytes(
        TrustList.build(root, seq=1, keys=[key], valid_for=timedelta(days=365), now=now))
    sample = json.loads((Path(__file__).resolve().parents[1] / "credential.json").read_text("utf-8"))
    issuer = Issuer(province, Region("630000"))
    red = json.loads(json.dumps(sample))
    red["status"]["colour"] = "red"
    codes = {
        "green": issuer.issue(payload_from_json(sample), now=now),
        "red": issuer.issue(payload_from_json(red), now=now),
        "expired": issuer.issue(payload_from_json(sample), now=now - timedelta(days=4)),
    }
    out = {}
    for name, text in codes.items():
        out[name] = config_dir / "demo" / f"{name}.png"
        qr.write_png(text, out[name])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description="healthpass reference checkpoint kiosk (localhost only)")
    parser.add_argument("--config", type=Path, help="the configuration directory (watched for changes)")
    parser.add_argument("--demo", type=Path, metavar="DIR", help="create a demo configuration in DIR and serve it")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--host", default="127.0.0.1", help="a loopback address (others are refused)")
    args = parser.parse_args()
    if not _is_loopback(args.host) and args.host != "localhost":
        parser.error("--host must be a loopback address: the kiosk serves this machine only")
    if (args.config is None) == (args.demo is None):
        parser.error("give --config DIR or --demo DIR")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    config_dir = args.config or args.demo
    if args.demo is not None:
        for name, path in make_demo(args.demo, now=datetime.now(UTC)).items():
            print(f"demo code ({name}): {path}")
    import uvicorn

    print(f"kiosk on http://{args.host}:{args.port}/ (configuration {config_dir})")
    uvicorn.run(create_app(config_dir), host=args.host, port=args.port, access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
