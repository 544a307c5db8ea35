"""The layer picture is enforced: imports go one way, and each third-party import lives in one module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from healthpass.signers import SoftwareSigner

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "healthpass"

#: tier of each top-level module or subpackage; a module may import only lower tiers (or its own package)
TIERS = {
    "errors": 0, "batch": 0, "_lazy": 0,
    "model": 1,
    "codec": 2, "crypto": 2,
    "signers": 3, "cose": 3, "state": 3,
    "documents": 4,  # what trust lists, rule bundles and status lists share
    "trust": 5, "rules": 5, "formats": 5,
    "status": 5.5,  # status lists and deltas use trust's key ring and the documents layer; verify uses them
    "unverified": 6,  # decodes without verifying, into plain records (verify imports it only for a deprecated alias)
    "registry": 6,
    "verify": 7,
    "issue": 8,  # above verify: transcoding verifies the foreign code before re-issuing it
    "qr": 2,  # stands apart: text in, image out; uses only errors and model
    "display": 8,  # the checkpoint view: outcomes of verify in, display models and cards out
    "cli": 9, "__init__": 9, "__main__": 10,
}

#: third-party distribution -> the only module allowed to import it
OWNERS = {
    "cbor2": {"codec/cbor.py"},
    "cryptography": {"crypto/__init__.py"},
    "zlib_ng": {"codec/compress.py"},
    "segno": {"qr.py"}, "qrcode": {"qr.py"}, "zxingcpp": {"qr.py"}, "pyzbar": {"qr.py"},
    "PIL": {"qr.py", "display/png.py"},  # imaging: the QR module and the display's PNG renderer only
    "babel": {"display/i18n.py"},
    "pkcs11": {"signers/pkcs11.py"},
    "jsonschema": {"formats/eu_dcc.py"}, "fastjsonschema": {"formats/eu_dcc.py"},
    "psycopg": {"registry.py"}, "sqlite3": {"registry.py"},
    # not third-party, but the SM2 binding to libcrypto (issue 18) stays whole in one module
    "ctypes": {"crypto/sm2.py"},
}

STDLIB_OK = {"__future__"}


def _unit(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


#: calls whose constant string argument names a module imported later (``healthpass._lazy.LazyModule``,
#: ``importlib.import_module``): they count as imports of that module
LAZY_IMPORTERS = {"LazyModule", "import_module"}


def _public_homes() -> dict[str, str]:
    import healthpass

    return dict(healthpass._LAZY)


#: public name of the package -> the module defining it (``from healthpass import Region`` imports the model)
_PUBLIC_HOMES = _public_homes()


def _call_name(node: ast.Call) -> str | None:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _imports(path: Path) -> list[tuple[str, int]]:
    """Every module ``path`` imports: import statements anywhere (deferred ones in functions included), lazy
    imports (:data:`LAZY_IMPORTERS`), and the modules named in a package's PEP 562 ``_LAZY`` table."""
    tree = ast.parse(path.read_text("utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module, node.lineno))
            if node.module == "healthpass":  # a public name counts as an import of the module defining it
                found += [(_PUBLIC_HOMES.get(alias.name, f"healthpass.{alias.name}"), node.lineno)
                          for alias in node.names]
        elif isinstance(node, ast.Call) and _call_name(node) in LAZY_IMPORTERS:
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                found.append((node.args[0].value, node.lineno))
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "_LAZY" for t in targets) and node.value is not None:
                found += [(c.value, c.lineno) for c in ast.walk(node.value) if isinstance(c, ast.Constant)
                          and isinstance(c.value, str) and c.value.startswith("healthpass.")]
    return found


def test_lazy_imports_are_seen() -> None:
    """The layering checks below read deferred imports too (else a lazy import could point anywhere)."""
    verify = dict(_imports(PACKAGE / "verify.py"))
    assert "healthpass.formats.eu_dcc" in verify
    package = {name for name, _ in _imports(PACKAGE / "__init__.py")}
    assert {"healthpass.verify", "healthpass.issue", "healthpass.qr", "healthpass.state"} <= package


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
            "heavy=[m for m in ('cryptography.x509','PIL','segno','zxingcpp','pyzbar','qrcode','pkcs11','jsonschema',"
            "'babel')"
            " if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


# ---------------------------------------------------------------- start-up: what a process imports


def _fresh(code: str, *argv: str) -> str:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True)
    return proc.stdout.strip().splitlines()[-1]


def test_import_healthpass_imports_nothing_else() -> None:
    loaded = _fresh("import sys, healthpass; print(sorted(m for m in sys.modules if m.startswith('healthpass')))")
    assert loaded == "['healthpass', 'healthpass._lazy']"  # _lazy: stdlib only, the PEP 562 hook


def test_public_names_resolve_lazily() -> None:
    import healthpass

    lazy = healthpass._LAZY  # the PEP 562 table: every public name but the qr module and the version
    assert set(lazy) | {"qr", "__version__"} == set(healthpass.__all__)
    assert set(healthpass.__all__) <= set(dir(healthpass))
    for name in healthpass.__all__:
        value = getattr(healthpass, name)
        if name in lazy:
            module = __import__(lazy[name], fromlist=[name])
            assert value is getattr(module, name), name
    from healthpass import Verifier, qr  # from-imports go through the same hook

    assert Verifier.__module__ == "healthpass.verify" and qr.__name__ == "healthpass.qr"
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        healthpass.nothing_here  # noqa: B018


def test_issue15_item10_dir_lists_only_public_names() -> None:
    import healthpass

    names = set(dir(healthpass))
    assert set(healthpass.__all__) <= names
    private = {n for n in names if not (n in healthpass.__all__ or (n.startswith("__") and n.endswith("__")))}
    assert private == set(), private
    for helper in ("Any", "MappingProxyType", "TYPE_CHECKING", "annotations", "_LAZY"):
        assert helper not in names
    from healthpass import Verifier  # noqa: F401  # a name resolved on first use does not change that

    assert set(dir(healthpass)) == names


#: never needed to verify an HP1 code against a key given on the command line
NOT_FOR_HP1_VERIFY = ("healthpass.issue", "healthpass.state", "healthpass.unverified", "healthpass.formats.eu_dcc",
                      "healthpass.signers",
                      "healthpass.rules", "healthpass.qr", "healthpass.model.qr_capacity", "cryptography.x509",
                      "hashlib", "hmac", "PIL", "segno", "zxingcpp", "jsonschema", "fastjsonschema", "pkcs11",
                      "healthpass.crypto.certificates", "healthpass.model.signer", "concurrent.futures",
                      "healthpass.display", "babel", "ctypes", "healthpass.crypto.sm2",
                      # a code with no status reference or provenance, keys given directly (issue 16: start-up)
                      "healthpass.documents", "healthpass.status", "healthpass.model.status",
                      "healthpass.codec.statuslist", "healthpass.model.provenance", "healthpass.codec.provenance",
                      "healthpass.codec.trust_list", "healthpass.codec.signed_doc", "shutil", "zlib_ng", "gzip")


def test_cli_verify_imports_only_what_it_uses(tmp_path: Path, code: str, es_signer: SoftwareSigner) -> None:
    """One ``healthpass verify`` in a fresh process, as the program runs it (``main()`` on ``sys.argv``)."""
    pub = tmp_path / "qh.pub.pem"
    pub.write_bytes(es_signer.public_key_pem())
    script = ("import sys; from healthpass.cli import main; sys.argv[0] = 'healthpass'; status = main(); "
              f"print(status, [m for m in {NOT_FOR_HP1_VERIFY!r} if m in sys.modules])")
    out = _fresh(script, "verify", "--trust-key", f"630000={pub}", "--at", "2026-11-25T12:00:00Z", code)
    assert out == "0 []"


def test_issue16_item4_one_default_qr_version_importable_without_qr_libraries() -> None:
    """The default maximum QR version is written once (``model.qr_capacity``) and the Issuer, the capacity
    check and the QR writers all use it; importing the Issuer and the table loads no QR or imaging library."""
    import inspect

    from healthpass import Issuer, qr
    from healthpass.model import qr_capacity

    default = qr_capacity.DEFAULT_MAX_QR_VERSION
    assert Issuer.__dataclass_fields__["max_qr_version"].default == default
    assert inspect.signature(qr_capacity.check_capacity).parameters["max_version"].default == default
    assert default == qr.DEFAULT_MAX_VERSION
    for writer in (qr.check_capacity, qr.render_png, qr.render_svg, qr.write_png, qr.write_svg):
        assert inspect.signature(writer).parameters["max_version"].default == default, writer
    loaded = _fresh("import sys; from healthpass.model.qr_capacity import DEFAULT_MAX_QR_VERSION; "
                    "from healthpass import Issuer; Issuer; "
                    "print([m for m in ('healthpass.qr','segno','PIL','zxingcpp','pyzbar','qrcode') "
                    "if m in sys.modules])")
    assert loaded == "[]"


def test_issue16_item4_signer_protocol_defined_once() -> None:
    """One Signer class: the public names (``healthpass.Signer``, ``healthpass.signers.Signer``) are the model's."""
    import healthpass
    from healthpass import signers
    from healthpass.model import signer

    assert healthpass.Signer is signers.Signer is signer.Signer
    assert signer.Signer.__module__ == "healthpass.model.signer"
    defining = [p for p in PACKAGE.rglob("*.py") if "class Signer(" in p.read_text("utf-8")]
    assert [p.relative_to(PACKAGE).as_posix() for p in defining] == ["model/signer.py"]


def test_issue16_item6_two_lazy_import_mechanisms() -> None:
    """Deferred imports take one of two forms (``healthpass._lazy``): ``LazyModule("...")`` for a module some
    inputs need, and a package's ``_LAZY`` table behind ``lazy_names`` (PEP 562). No hand-written module
    ``__getattr__``, no ``import_module`` outside ``_lazy``, and no import inside a function except of an
    optional third-party library in its owner module. (The command line, ``cli``, is the edge and loads its
    command modules on demand; it is checked by its own tests.)"""
    offences = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if _unit(path) == "cli":
            continue
        tree = ast.parse(path.read_text("utf-8"))
        methods = {id(f) for c in ast.walk(tree) if isinstance(c, ast.ClassDef) for f in c.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name == "__getattr__" and rel != "_lazy.py" \
                    and id(node) not in methods:
                offences.append(f"{rel}:{node.lineno} hand-written module __getattr__")
            if isinstance(node, ast.Call) and _call_name(node) == "import_module" and rel != "_lazy.py":
                offences.append(f"{rel}:{node.lineno} import_module")
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Import | ast.ImportFrom):
                        names = [a.name for a in inner.names] if isinstance(inner, ast.Import) else [inner.module or ""]
                        for name in names:
                            if rel not in OWNERS.get(name.split(".")[0], ()):
                                offences.append(f"{rel}:{inner.lineno} function-local import of {name}")
    assert offences == []


# ---------------------------------------------------------------- the CLI uses the public API only

#: what modules under cli/ may import from healthpass besides the CLI's own modules: ``from healthpass import X``
#: with X in ``healthpass.__all__``, and the documented public modules below (README "Python API"), each with
#: the names it documents (None: every name in its ``__all__``). Never a name starting with ``_``.
CLI_PUBLIC_API: dict[str, frozenset[str] | None] = {
    "healthpass.errors": None, "healthpass.issue": None, "healthpass.verify": None, "healthpass.trust": None,
    "healthpass.state": None, "healthpass.status": None, "healthpass.registry": None, "healthpass.unverified": None,
    "healthpass.rules": None, "healthpass.qr": None, "healthpass.display": None, "healthpass.formats.eu_dcc": None,
    "healthpass.signers": None, "healthpass.signers.pkcs11": None, "healthpass.batch": None,
    # the duration syntax of manifests and options; printing untrusted text safely
    "healthpass.model.jsonform": frozenset({"parse_duration", "format_duration", "payload_from_json"}),
    "healthpass.model.text": frozenset({"escape_text", "escape_json"}),
    "healthpass.model.time": None,  # the one time policy (README "Times")
}


def _module_all(module: str) -> frozenset[str]:
    """A module's ``__all__``, read from its source (nothing imported): a literal list of names, a package's
    ``submodule.__all__`` (read the same way), ``+`` of those, or a list extended by ``__all__ += ...``."""
    rel = PACKAGE.joinpath(*module.split(".")[1:])
    path = rel.with_suffix(".py") if rel != PACKAGE and rel.with_suffix(".py").exists() else rel / "__init__.py"
    body = ast.parse(path.read_text("utf-8")).body
    submodules = {alias.asname or alias.name: f"{module}.{alias.name}" for node in body
                  if isinstance(node, ast.ImportFrom) and node.module == module for alias in node.names}

    def names(node: ast.expr) -> frozenset[str]:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return names(node.left) | names(node.right)
        if isinstance(node, ast.Attribute) and node.attr == "__all__" and isinstance(node.value, ast.Name):
            return _module_all(submodules[node.value.id])
        return frozenset(ast.literal_eval(node))

    found: frozenset[str] | None = None
    for node in body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            found = names(node.value)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and node.target.id == "__all__":
            assert found is not None, f"{module}: __all__ extended before it is assigned"
            found |= names(node.value)
    assert found is not None, f"{module} has no __all__"
    return found


def _cli_api_problems(source: str, where: str) -> list[str]:
    """Every import in ``source`` (a module under cli/) that is not the public API: a private module, a name
    outside the module's documented names, a private name; deferred imports and ``import_module("...")`` too."""
    allowed_top = _module_all("healthpass")
    problems = []

    def check(module: str, names: list[str], line: int) -> None:
        if module == "healthpass.cli" or module.startswith("healthpass.cli."):
            return
        if module == "healthpass":
            allowed: frozenset[str] | None = allowed_top
        elif module in CLI_PUBLIC_API:
            allowed = CLI_PUBLIC_API[module] or _module_all(module)
        else:
            problems.append(f"{where}:{line} imports the private module {module}")
            return
        private = [name for name in names if name.startswith("_") and not name.endswith("__")]
        problems.extend(f"{where}:{line} imports {module}.{name}, not public API" for name in names
                        if name not in allowed or name in private)

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and (
                node.module == "healthpass" or node.module.startswith("healthpass.")):
            check(node.module, [alias.name for alias in node.names], node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.level:
            problems.append(f"{where}:{node.lineno} uses a relative import")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("healthpass."):
                    check(alias.name, [], node.lineno)
        elif isinstance(node, ast.Call) and _call_name(node) in LAZY_IMPORTERS | {"__import__"}:
            arg = node.args[0] if node.args else None
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                if arg.value.startswith("healthpass"):
                    check(arg.value, [], node.lineno)
            elif not (isinstance(arg, ast.JoinedStr) and isinstance(arg.values[0], ast.Constant)
                      and arg.values[0].value == "healthpass.cli."):
                problems.append(f"{where}:{node.lineno} imports a computed module name")
    return problems


def test_issue16_item3_cli_uses_the_public_api_only() -> None:
    sources = sorted((PACKAGE / "cli").rglob("*.py"))
    assert len(sources) > 10
    problems = [problem for path in sources
                for problem in _cli_api_problems(path.read_text("utf-8"), str(path.relative_to(PACKAGE)))]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("line", [
    "from healthpass.model.regions import Region",  # public as healthpass.Region, but imported from the model
    "from healthpass import crypto",  # a package module, not a public name
    "from healthpass.trust import _issuer_key_entry",  # a private name of a public module
    "from healthpass.model.jsonform import payload_to_json",  # a model function the CLI's list does not name
    "import healthpass.codec.cbor",
    "from healthpass.cli._io import _say\nfrom healthpass.cose import verify_sign1",
    "import importlib\nimportlib.import_module('healthpass.crypto')",
    "import importlib\nimportlib.import_module(name)",
    "from .._lazy import LazyModule",
])
def test_issue16_item3_cli_api_check_sees_private_imports(line: str) -> None:
    source = f"def command() -> None:\n    {line.replace(chr(10), chr(10) + '    ')}\n"  # deferred, as the CLI's are
    assert _cli_api_problems(source, "cli/x.py"), line


def test_issue16_item3_cli_api_check_accepts_the_public_api() -> None:
    source = ("from healthpass import Region, Verifier, qr, __version__\n"
              "from healthpass.errors import HealthPassError\nfrom healthpass.cli._io import _say\n"
              "from healthpass.rules import RuleBundle\n")
    assert _cli_api_problems(source, "cli/x.py") == []


def test_issue16_item3_cli_modules_stay_small() -> None:
    sizes = {path.name: len(path.read_text("utf-8").splitlines()) for path in (PACKAGE / "cli").glob("*.py")}
    assert not (PACKAGE / "cli.py").exists()
    assert max(sizes.values()) <= 450, sizes


@pytest.mark.parametrize(("package", "modules"), [
    ("healthpass.rules", ("healthpass.rules.bundle", "healthpass.rules.certlogic")),
    ("healthpass.display", ("healthpass.display.view",)),
])
def test_issue16_item6_a_package_reexports_its_modules_names_from_their_all(
        package: str, modules: tuple[str, ...]) -> None:
    """A package that re-exports a module whole takes the names from that module's ``__all__`` (one list, not
    two copies): each of them is public in the package, is the module's object, and the source reading of
    ``__all__`` that the CLI check uses sees the same names as the import does."""
    import importlib

    pkg = importlib.import_module(package)
    assert len(set(pkg.__all__)) == len(pkg.__all__)
    assert _module_all(package) == frozenset(pkg.__all__)
    for name in pkg.__all__:
        assert hasattr(pkg, name), name
    for module_name in modules:
        module = importlib.import_module(module_name)
        assert set(module.__all__) <= set(pkg.__all__)
        assert _module_all(module_name) == frozenset(module.__all__)
        for name in module.__all__:
            assert getattr(pkg, name) is getattr(module, name), name
    assert not [name for name in pkg.__all__ if name.startswith("_")]
