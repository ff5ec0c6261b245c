"""The package's import graph: no cycles, and no module importing a layer above its own (every import
counts, including those inside functions: a deferred import is still a dependency)."""
from __future__ import annotations

import ast
from pathlib import Path

import impact_bench

ROOT = Path(impact_bench.__file__).resolve().parent
# lowest first; a module may import its own layer and those below it, never one above
LAYERS = [
    {"errors", "faults", "audio_notices", "registry", "cache", "distributed", "audio", "features", "kaldi",
     "checkpoints", "metrics", "plots", "results_models", "task_files", "published", "stats"},
    {"suites", "reference", "weights", "encoders", "baselines", "impact", "synth", "anomaly", "probe", "listen_head",
     "extract", "results", "datasets"},
    {"readers", "listen_reproduce", "compare", "hear"},
    {"pipeline", "runner"},
    {"leaderboards"},
    {"cli", "__init__", "__main__"},
]


def _area(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _layer(module: str) -> int:
    area = _area(module)
    for rank, names in enumerate(LAYERS):
        if area in names:
            return rank
    raise AssertionError(f"{module}: area {area!r} is in no layer of tests/test_architecture.py")


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = ["impact_bench", *rel.parts]
        if parts[-1] == "__init__" and len(parts) > 2:
            parts = parts[:-1]
        out[".".join(parts)] = path
    baselines = ROOT.parent / "baselines"  # installed as impact_bench.baselines (editable installs map it)
    if not (ROOT / "baselines").is_dir() and baselines.is_dir():
        for path in baselines.glob("*.py"):
            out["impact_bench.baselines" + ("" if path.stem == "__init__" else f".{path.stem}")] = path
    return out


def _imports(path: Path, module: str) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("impact_bench")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                name = f"{base}.{node.module}" if node.module else base
            else:
                name = node.module or ""
            if name.startswith("impact_bench"):
                found.add(name)
                found |= {f"{name}.{a.name}" for a in node.names}
    return found


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    return {m: {i for i in _imports(p, m) if i in mods and i != m} for m, p in mods.items()}


def test_no_upward_imports():
    bad = [f"{m} (layer {_layer(m)}) imports {i} (layer {_layer(i)})"
           for m, deps in _graph().items() for i in sorted(deps) if _layer(i) > _layer(m)]
    assert not bad, "upward imports:\n  " + "\n  ".join(bad)


def test_no_import_cycles():
    graph = _graph()
    index, low, stack, on, cycles = {}, {}, [], set(), []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    # a package __init__ re-exporting its own submodules is not a cycle worth reporting
    cycles = [c for c in cycles if not all(x.startswith(min(c, key=len) + ".") or x == min(c, key=len) for x in c)]
    assert not cycles, f"import cycles: {cycles}"
