"""The package layout (docs/architecture.md): each layer imports only the layers below it,
and the module paths from before the layout still work."""

from __future__ import annotations

import ast
import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Rank of each layer: a module may import from a layer of the same or lower rank.
RANK = {
    "azr_env._io": 0, "azr_env._moved": 0,
    "azr_env.executor": 1,
    "azr_env.tasks": 2,
    "azr_env.scoring": 3,
    "azr_env.envs": 4,
    "azr_env.models": 5, "azr_env.export": 5,
    "azr_env.bench": 6, "azr_env.integrations": 6,
    "azr_agents": 7,
    "azr_env.cli": 8,
    "azr_env": 0,  # the package itself: env registration by name, importable from anywhere
}
# (importer, imported): the one deferred import up a layer, named in docs/architecture.md.
ALLOWED_UP = {("azr_env.tasks.taskset", "azr_env.scoring.gold")}


def layer(module: str) -> str:
    for name in sorted(RANK, key=len, reverse=True):
        if module == name or module.startswith(name + "."):
            return name
    raise AssertionError(f"{module} belongs to no layer: add it to docs/architecture.md and RANK")


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[0] == "agents":
        parts[0] = "azr_agents"
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path, module: str) -> set[str]:
    found = set()
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the package
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            if base == "azr_env":  # from azr_env import tasks: the subpackage is what is imported
                found.update(f"azr_env.{a.name}" for a in node.names if a.name != "*")
    return {m for m in found if m.split(".")[0] in ("azr_env", "azr_agents")}


def test_no_module_imports_up_a_layer() -> None:
    files = sorted((ROOT / "azr_env").rglob("*.py")) + sorted((ROOT / "agents").glob("*.py"))
    assert len(files) > 40
    upward = []
    for path in files:
        module = module_name(path)
        for imported in imports(path, module):
            if RANK[layer(imported)] > RANK[layer(module)] and (module, imported) not in ALLOWED_UP:
                upward.append(f"{module} imports {imported}")
    assert upward == []


def test_the_executor_knows_nothing_of_the_rest() -> None:
    for path in (ROOT / "azr_env" / "executor").rglob("*.py"):
        outside = {m for m in imports(path, module_name(path)) if not m.startswith("azr_env.executor")}
        assert outside == set(), path


def test_the_folder_list_shows_the_layers() -> None:
    packages = {p.name for p in (ROOT / "azr_env").iterdir() if (p / "__init__.py").exists()}
    assert packages == {"executor", "tasks", "scoring", "envs", "bench", "integrations"}
    for name in ("executor", "tasks", "scoring", "envs", "bench", "integrations"):
        assert f"azr_env/{name}/" in (ROOT / "docs" / "architecture.md").read_text()


@pytest.mark.parametrize(
    ("old", "name", "new"),
    [
        ("azr_env.tasksets", "load_cruxeval", "azr_env.tasks.cruxeval"),
        ("azr_env.tasksets", "TaskSet", "azr_env.tasks.taskset"),
        ("azr_env.benchmarks_data", "load_evalplus", "azr_env.tasks.evalplus"),
        ("azr_env.benchmarks_data", "load_humaneval", "azr_env.tasks.humaneval"),
        ("azr_env.buffers", "TaskBuffer", "azr_env.tasks.buffer"),
        ("azr_env.verify", "Verifier", "azr_env.scoring.verify"),
        ("azr_env.learnability", "learnability", "azr_env.scoring.learnability"),
        ("azr_env.parsing", "extract_answer", "azr_env.scoring.parsing"),
        ("azr_env.prompts", "solver_prompt", "azr_env.envs.prompts"),
        ("azr_env.solvers", "TransformersSolver", "azr_env.bench.solvers.hf"),
        ("azr_env.solvers", "make_solver", "azr_env.bench.solvers"),
    ],
)
def test_old_module_paths_still_import_with_a_warning(old: str, name: str, new: str) -> None:
    code = (
        "import warnings, importlib\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        f"    from {old} import {name} as got\n"
        f"assert got is getattr(importlib.import_module({new!r}), {name!r})\n"
        "assert any(issubclass(w.category, DeprecationWarning) and 'moved to' in str(w.message) "
        "for w in caught), [str(w.message) for w in caught]\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 0, run.stderr


def test_an_old_path_names_the_new_one_when_a_name_is_missing() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import azr_env.tasksets as old
    with pytest.raises(AttributeError, match="moved to azr_env.tasks.taskset"):
        old.no_such_name  # noqa: B018


def test_a_buffer_pickled_under_its_old_path_loads() -> None:
    from azr_env.tasks.buffer import TaskBuffer

    buffer = TaskBuffer("abduction")
    old = pickle.dumps(buffer, protocol=0).replace(b"azr_env.tasks.buffer", b"azr_env.buffers")
    assert b"azr_env.buffers" in old
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        loaded = pickle.loads(old)
    assert isinstance(loaded, TaskBuffer)
    assert [t.id for t in loaded] == [t.id for t in buffer]


def test_ray_is_imported_only_when_a_ray_executor_is_made() -> None:
    """ray is an optional extra: the package, its executor and envs import without it."""
    code = ("import sys, azr_env, azr_env.executor, azr_env.envs, azr_env.bench.harness\n"
            "assert 'ray' not in sys.modules, 'ray was imported'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-1000:]
