"""The kiosk example, loaded from examples/kiosk/app.py, served by a real uvicorn on a loopback port."""

from __future__ import annotations

import importlib.util
import json
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from healthpass import Region, SoftwareSigner, TrustList, issuer_key, qr

from ..conftest import NOW, ROOT
from ._build import issue, sample

APP = ROOT / "examples" / "kiosk" / "app.py"


def kiosk_module() -> ModuleType:
    name = "healthpass_kiosk_example"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, APP)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@contextmanager
def serve(app: Any) -> Iterator[str]:
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the kiosk did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)
        sock.close()


class Setup:
    """A configuration directory with a national root, a Qinghai key in trust list seq 1, and codes."""

    def __init__(self, base: Path, *, language: str | None = None, profile: str | None = None) -> None:
        self.dir = base / "config"
        self.root = SoftwareSigner.generate()
        self.province = SoftwareSigner.generate()
        self.stranger = SoftwareSigner.generate()
        (self.dir / "roots").mkdir(parents=True)
        (self.dir / "trust-lists").mkdir()
        (self.dir / "roots" / "national.pem").write_bytes(self.root.public_key_pem())
        self.write_list(1, [self.province])
        settings = {k: v for k, v in (("language", language), ("profile", profile)) if v}
        if settings:
            (self.dir / "kiosk.json").write_text(json.dumps(settings), "utf-8")
        name = {**sample()["holder"], "name": "张小三"}
        self.green = issue(self.province, sample(holder=name))
        self.expired = issue(self.province, sample(holder=name), at=NOW - timedelta(days=4))
        self.untrusted = issue(self.stranger, sample(holder=name))

    def write_list(self, seq: int, signers: list[SoftwareSigner], name: str = "national.htl") -> Path:
        keys = [issuer_key(s.public_key_pem(), region=Region("630000")) for s in signers]
        path = self.dir / "trust-lists" / name
        path.write_bytes(TrustList.build(self.root, seq=seq, keys=keys, valid_for=timedelta(days=30),
                                         now=NOW - timedelta(hours=1)))
        return path

    def png(self, text: str, path: Path) -> Path:
        qr.write_png(text, path)
        return path


def fixed_clock() -> Callable[[], datetime]:
    return lambda: NOW
