"""The package's shape: layers you can see in the folders, imports pointing down only, no meaning written twice.

    core (relpose/*.py)  <  synth/  <  mocap/, wild/  <  viz/  <  lab/  <  cli/

A module may import its own layer and those below it. `__main__.py` files are entry points (they call
relpose.cli) and are not imported by anything.
"""
import ast
import hashlib
import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "relpose"
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
LAYERS = {"core": 0, "synth": 1, "mocap": 2, "wild": 2, "viz": 3, "lab": 4, "cli": 5}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in LAYERS) else "core"


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if p.name != "__main__.py"}


def imported_modules(path: Path, name: str) -> set[str]:
    """Every relpose module a file imports, at the top or inside functions."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "relpose"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "relpose":
                continue
            found.add(target)
            for a in node.names:  # `from relpose import checkpoints` imports a module
                if f"{target}.{a.name}" in modules():
                    found.add(f"{target}.{a.name}")
    return found


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: {m for m in imported_modules(path, name) if m in known and m != name}
            for name, path in known.items()}


def test_layers_import_only_downwards():
    wrong = []
    for name, deps in import_graph().items():
        for dep in deps:
            if dep == "relpose":
                continue
            if LAYERS[layer_of(dep)] > LAYERS[layer_of(name)]:
                wrong.append(f"{name} ({layer_of(name)}) imports {dep} ({layer_of(dep)})")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles():
    graph = import_graph()
    state: dict[str, int] = {}

    def visit(node, trail):
        if state.get(node) == 1:
            cycle = trail[trail.index(node):] + [node]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        if state.get(node) == 2:
            return
        state[node] = 1
        for dep in sorted(graph[node]):
            if dep != "relpose" and not dep.startswith(node + "."):   # a package importing its own modules
                visit(dep, trail + [node])
        state[node] = 2

    for name in sorted(graph):
        visit(name, [])


# A whole string that names a module (or 'module:function') of the package: an import waiting to happen.
MODULE_REFERENCE = re.compile(r"relpose(\.\w+)+(:\w+)?")


def test_no_upward_import_hidden_in_a_string():
    """A module names no module of a higher layer in a string that is nothing but that name (importlib would
    import it past the graph above), and the core calls no importer at all: upper layers register with it."""
    wrong = []
    for name, path in modules().items():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and MODULE_REFERENCE.fullmatch(node.value):
                target = node.value.split(":")[0]
                if LAYERS[layer_of(target)] > LAYERS[layer_of(name)]:
                    wrong.append(f"{name}:{node.lineno} names {node.value!r} ({layer_of(target)})")
            importer = (isinstance(node, ast.Attribute) and node.attr == "import_module") or \
                (isinstance(node, ast.Name) and node.id in ("import_module", "__import__"))
            if layer_of(name) == "core" and importer:
                wrong.append(f"{name}:{node.lineno} imports a module by name (register from above instead)")
    assert not wrong, "\n".join(wrong)


def test_the_string_scan_sees_a_maker_reference():
    """Guard the guard: the old registry entry is caught by the pattern and the layer order."""
    assert MODULE_REFERENCE.fullmatch("relpose.synth:ensure_synthetic")
    assert not MODULE_REFERENCE.fullmatch("run `python -m relpose.synth` to generate it")
    assert LAYERS[layer_of("relpose.synth")] > LAYERS[layer_of("relpose.datasets")]


def package_modules(init: Path) -> list[str]:
    folder = init.parent
    return sorted(p.stem for p in folder.glob("*.py") if p.stem not in ("__init__", "__main__")) + \
        sorted(p.name for p in folder.iterdir() if (p / "__init__.py").exists())


@pytest.mark.parametrize("init", sorted(PACKAGE.rglob("__init__.py")), ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_every_package_docstring_names_all_its_modules(init):
    doc = ast.get_docstring(ast.parse(init.read_text())) or ""
    missing = [m for m in package_modules(init) if not re.search(rf"\b{m}\b", doc)]
    assert not missing, f"{init.relative_to(PACKAGE.parent)} does not name {', '.join(missing)}"


def test_checkpoint_files_know_nothing_of_the_model():
    assert "relpose.model" not in import_graph()["relpose.checkpoints"]


def test_below_the_command_line_nothing_sees_a_namespace():
    for name, path in modules().items():
        if layer_of(name) == "cli":
            continue
        text = path.read_text()
        assert "argparse" not in text and "Namespace" not in text and not re.search(r"\bargs\.\w", text), name


def test_the_layer_test_sees_real_imports():
    """Guard the guard: known edges are found (a parser bug would make every test above pass)."""
    graph = import_graph()
    assert "relpose.model" in graph["relpose.weights"] and "relpose.checkpoints" in graph["relpose.weights"]
    assert "relpose.train" in graph["relpose.cli.run"] and "relpose.lab.settings" in graph["relpose.cli.demo"]
    assert layer_of("relpose.cli.run") == "cli" and layer_of("relpose.model") == "core"
    assert layer_of("relpose.synth") == "synth" and layer_of("relpose.synth.motion") == "synth"


def notebook_code(path: Path) -> str:
    nb = json.loads(path.read_text())
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_notebooks_call_functions_not_the_command_line(path):
    code = notebook_code(path)
    for pattern in (r"run_cli", r"relpose\.cli\.run\b", r"from relpose\.cli import main", r"cli_main", r"parse_args",
                    r"subprocess", r"^\s*!", r"%run", r"relpose\.cli\.demo"):
        assert not re.search(pattern, code, flags=re.M), f"{path.name}: {pattern}"


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_every_name_a_notebook_takes_from_the_package_exists(path):
    """A module moved or renamed keeps the notebooks working: each `from relpose... import name` resolves, and
    each `module.attribute` a notebook calls on a relpose module it imported exists."""
    import importlib

    code = notebook_code(path)
    modules_by_alias, missing = {}, []
    for package, names in re.findall(r"^from (relpose[\w.]*) import \(?([\w ,\n]+?)\)?(?:#.*)?$", code, flags=re.M):
        base = importlib.import_module(package)
        for entry in filter(None, (n.strip() for n in names.replace("\n", ",").split(","))):
            name, _, alias = entry.partition(" as ")
            if not hasattr(base, name):
                try:
                    importlib.import_module(f"{package}.{name}")
                except ImportError:
                    missing.append(f"{package}.{name}")
                    continue
            value = getattr(base, name, None) or importlib.import_module(f"{package}.{name}")
            if isinstance(value, type(re)):
                modules_by_alias[(alias or name).strip()] = value
    for alias, module in modules_by_alias.items():
        for attribute in set(re.findall(rf"(?<![\w.]){alias}\.(\w+)", code)):
            if not hasattr(module, attribute):
                missing.append(f"{alias}.{attribute} ({module.__name__})")
    assert not missing, f"{path.name}: " + ", ".join(sorted(missing))


# ----------------------------------------------------------------------------- meaning written once

def significant_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, normalised text) of the lines that carry code (no blanks, comments, lone brackets,
    docstring-free: every line counts, but whitespace and trailing comments do not)."""
    out = []
    for i, line in enumerate(path.read_text().splitlines(), 1):
        text = line.split("#")[0].strip() if not line.strip().startswith(("'", '"')) else line.strip()
        if text and not re.fullmatch(r"[\)\]\}:,]*", text):
            out.append((i, text))
    return out


def test_no_block_of_six_lines_is_repeated_in_the_package():
    window = 6
    seen = defaultdict(list)
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = significant_lines(path)
        for k in range(len(lines) - window + 1):
            block = tuple(t for _, t in lines[k:k + window])
            if sum(1 for t in block if not t.startswith(("from ", "import "))) < window:
                continue  # import lists are not logic
            seen[hashlib.sha1("\n".join(block).encode()).hexdigest()].append(
                f"{path.relative_to(PACKAGE.parent)}:{lines[k][0]}")
    repeats = [places for places in seen.values() if len(places) > 1]
    assert not repeats, "repeated blocks:\n" + "\n".join(", ".join(p) for p in repeats[:10])
