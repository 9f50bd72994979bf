"""The dashboard's safety: it binds 127.0.0.1 unless told otherwise, and nothing in a request or a
loaded file is ever evaluated as code.

Covered elsewhere (referenced, not repeated): a real server started by ``zonesim dashboard``
listens on 127.0.0.1 only (tests/test_dashboard.py::test_cli_serves_the_page_on_localhost, with
``ss``); two browser sessions share no models, settings or charts
(tests/test_dashboard.py::test_two_controllers_share_nothing and
::test_page_sessions_are_isolated); a typed number is parsed, never evaluated
(tests/test_dashboard.py::test_parse_number_rejects_with_a_clear_message).
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import zonesim
from zonesim.config import load_config
from zonesim.errors import ZonesimInputError
from zonesim.geography import load_municipalities

SRC = Path(zonesim.__file__).resolve().parent

# Calls that run code or rebuild arbitrary objects from data.
FORBIDDEN_NAMES = {"eval", "exec", "compile", "__import__", "execfile"}
FORBIDDEN_ATTRS = {
    ("pickle", "load"),
    ("pickle", "loads"),
    ("pickle", "Unpickler"),
    ("cloudpickle", "load"),
    ("cloudpickle", "loads"),
    ("dill", "load"),
    ("dill", "loads"),
    ("marshal", "load"),
    ("marshal", "loads"),
    ("shelve", "open"),
    ("yaml", "load"),
    ("yaml", "unsafe_load"),
    ("yaml", "full_load"),
    ("pd", "read_pickle"),
    ("pandas", "read_pickle"),
    ("joblib", "load"),
}


def code_execution_calls(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if isinstance(f, ast.Name) and f.id in FORBIDDEN_NAMES:
            found.append((node.lineno, f.id))
        elif isinstance(f, ast.Attribute):
            base = f.value.id if isinstance(f.value, ast.Name) else None
            if (base, f.attr) in FORBIDDEN_ATTRS:
                found.append((node.lineno, f"{base}.{f.attr}"))
            if f.attr == "load" and base in ("np", "numpy"):  # np.load(..., allow_pickle=True)
                for kw in node.keywords:
                    if kw.arg == "allow_pickle" and not (
                        isinstance(kw.value, ast.Constant) and kw.value.value is False
                    ):
                        found.append((node.lineno, "np.load(allow_pickle)"))
        if isinstance(f, ast.Attribute) and f.attr in ("run", "Popen", "call", "check_output"):
            for kw in node.keywords:  # a shell would interpret text
                if kw.arg == "shell" and not (
                    isinstance(kw.value, ast.Constant) and kw.value.value is False
                ):
                    found.append((node.lineno, f"{f.attr}(shell=...)"))
    return found


def test_the_scanner_finds_what_it_looks_for():
    """The scan below can fail: it flags each forbidden call in a sample."""
    sample = (
        "eval(x)\nexec(y)\nimport pickle\npickle.loads(b)\nyaml.load(t)\n"
        "np.load(p, allow_pickle=True)\nsubprocess.run(c, shell=True)\npd.read_pickle(p)\n"
        "np.load(p)\nre.compile('a')\n"
    )
    names = [n for _, n in code_execution_calls(ast.parse(sample))]
    assert names == [
        "eval",
        "exec",
        "pickle.loads",
        "yaml.load",
        "np.load(allow_pickle)",
        "run(shell=...)",
        "pd.read_pickle",
    ]


def test_no_source_file_evaluates_or_unpickles_anything():
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 30 and any(p.parent.name == "dashboard" for p in files)
    offenders = {}
    for path in files:
        calls = code_execution_calls(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        if calls:
            offenders[str(path.relative_to(SRC))] = calls
    assert offenders == {}


def test_dashboard_binds_localhost_by_default():
    pytest.importorskip("solara")
    import zonesim.cli as cli
    from zonesim.dashboard.server import serve

    args = cli.build_parser().parse_args(["dashboard"])
    assert args.host == "127.0.0.1"
    assert inspect.signature(serve).parameters["host"].default == "127.0.0.1"


CODE_CSV = (
    "id,name,population,arrondissement\n"
    "1,\"__import__('os').system('touch PWNED')\",40000,=HYPERLINK(\"http://x\")\n"
    "2,=1+1,30000,@SUM(A1:A9)\n"
    "3,\"exec(open('x').read())\",35000,+cmd|' /C calc'!A0\n"
)


def test_code_and_formulas_in_a_table_are_kept_as_text(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "towns.csv"
    path.write_text(CODE_CSV, encoding="utf-8")
    munis = load_municipalities(path)
    assert [m.name for m in munis] == [
        "__import__('os').system('touch PWNED')",
        "=1+1",
        "exec(open('x').read())",
    ]
    assert munis[0].arrondissement == '=HYPERLINK("http://x")'
    assert [m.population for m in munis] == [40000, 30000, 35000]
    assert not (tmp_path / "PWNED").exists()


def test_code_as_a_number_is_an_input_error(tmp_path):
    path = tmp_path / "towns.csv"
    path.write_text("id,name,population\n1,A,__import__('os').getpid()\n", encoding="utf-8")
    with pytest.raises(ZonesimInputError, match="row 2: population"):
        load_municipalities(path)
    cfg = tmp_path / "c.toml"
    cfg.write_text('[zone]\nname = "__import__(\'os\')"\npopulation = "2*1000"\n', "utf-8")
    with pytest.raises(ZonesimInputError, match=r"'zone\.population'"):
        load_config(cfg)


def test_dashboard_upload_keeps_code_as_text(tmp_path, monkeypatch):
    pytest.importorskip("solara")
    from zonesim.dashboard import app

    monkeypatch.chdir(tmp_path)
    data = (
        CODE_CSV.replace(",arrondissement", ",zone")
        .replace('=HYPERLINK("http://x")', "Z")
        .replace("@SUM(A1:A9)", "Z")
        .replace("+cmd|' /C calc'!A0", "Z")
    )
    zones = app.load_zones(data.encode("utf-8"), "towns.csv")
    assert [z.name for z in zones] == ["Z"]
    names = [m.name for m in zones[0].municipalities]
    assert "__import__('os').system('touch PWNED')" in names and "=1+1" in names
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ZonesimInputError, match=r"towns\.csv"):
        app.load_zones(b"id,name,population\n1,A,=1+1\n", "towns.csv")
