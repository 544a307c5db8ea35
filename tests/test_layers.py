"""The layer picture is enforced: imports go one way, and each third-party import lives in one module."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "healthpass"

#: tier of each top-level module or subpackage; a module may import only lower tiers (or its own package)
TIERS = {
    "errors": 0, "batch": 0,
    "model": 1,
    "codec": 2, "crypto": 2,
    "signers": 3, "cose": 3, "state": 3,
    "issue": 4, "trust": 4, "rules": 4, "formats": 4,
    "verify": 5,
    "qr": 2,  # stands apart: text in, image out; uses only errors and model
    "cli": 6, "__init__": 6, "__main__": 7,
}

#: third-party distribution -> the only module allowed to import it
OWNERS = {
    "cbor2": {"codec/cbor.py"},
    "cryptography": {"crypto/__init__.py"},
    "zlib_ng": {"codec/compress.py"},
    "segno": {"qr.py"}, "qrcode": {"qr.py"}, "zxingcpp": {"qr.py"}, "pyzbar": {"qr.py"}, "PIL": {"qr.py"},
    "pkcs11": {"signers/pkcs11.py"},
    "jsonschema": {"formats/eu_dcc.py"}, "fastjsonschema": {"formats/eu_dcc.py"},
}

STDLIB_OK = {"__future__"}


def _unit(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def _imports(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text("utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module, node.lineno))
            if node.module == "healthpass":
                found += [(f"healthpass.{alias.name}", node.lineno) for alias in node.names]
    return found


def test_every_module_has_a_tier() -> None:
    units = {_unit(p) for p in PACKAGE.rglob("*.py")}
    assert units <= set(TIERS), sorted(units - set(TIERS))


def test_imports_point_down() -> None:
    problems = []
    for path in PACKAGE.rglob("*.py"):
        unit = _unit(path)
        for name, line in _imports(path):
            if not name.startswith("healthpass.") or name == "healthpass.__version__":
                continue
            target = name.split(".")[1]
            if target == unit:
                continue
            if TIERS.get(target, 99) >= TIERS[unit]:
                problems.append(f"{path.relative_to(PACKAGE)}:{line} imports {name}")
    assert not problems, "\n".join(problems)


def test_third_party_imports_live_in_their_owner() -> None:
    problems = []
    for path in PACKAGE.rglob("*.py"):
        rel = str(path.relative_to(PACKAGE))
        for name, line in _imports(path):
            top = name.split(".")[0]
            if top in OWNERS and rel not in OWNERS[top]:
                problems.append(f"{rel}:{line} imports {top} (owned by {sorted(OWNERS[top])})")
    assert not problems, "\n".join(problems)


def test_import_healthpass_stays_light() -> None:
    import subprocess
    import sys

    code = ("import sys, healthpass, healthpass.verify, healthpass.issue;"
            "heavy=[m for m in ('cryptography.x509','PIL','segno','zxingcpp','pyzbar','qrcode','pkcs11','jsonschema')"
            " if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
