"""What runs inside the component's interpreter at build time, before
componentize-py snapshots it: everything the environment will ever import
is imported now, because a component carries no files and cannot import
anything later (`ModuleNotFoundError` at run time otherwise).

- Every `import` statement in the project's own `.py` files, including the
  ones inside functions, and `importlib.import_module("literal")` calls.
- Every submodule of the packages named in `[tool.assay] preload`, for
  libraries that import lazily inside themselves (sympy does).
- A warm-up: the sample records run through configure, prepare, reference
  and grade, which loads what the standard library imports on first use
  (codecs, `_strptime`...). Its results are dropped; the instance is left
  unconfigured, as the host expects.
"""

import ast
import importlib
import linecache
import os
import pkgutil
import sys
from typing import Iterator, List, Set, Tuple

from . import adapter

# Folders of a project that never reach the component.
_SKIPPED_DIRS = {"tests", "build", "__pycache__", ".venv", "venv", ".git"}


def preload(project: str, packages: List[str]) -> None:
    """Import what the project's sources and `packages` need, and keep the
    sources' lines for tracebacks (the component has no files to read)."""
    for path in _sources(project):
        with open(path, encoding="utf-8") as source:
            lines = source.readlines()
        # An mtime of None tells `linecache.checkcache` not to look for the file.
        linecache.cache[path] = (sum(map(len, lines)), None, lines, path)
    for path, line, module, optional in _imports(project):
        parent = module.rpartition(".")[0]
        if optional and parent and not hasattr(sys.modules.get(parent), "__path__"):
            continue  # `from a import name` where `a` is a module: `name` is no submodule
        try:
            importlib.import_module(module)
        except ImportError as error:
            if not optional:
                raise ImportError(f"{path}:{line} imports `{module}`, which cannot be imported at build time: {error}") from error
    for package in packages:
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(getattr(root, "__path__", []), prefix=package + "."):
            try:
                importlib.import_module(info.name)
            except Exception:  # noqa: BLE001 - optional parts of a library (tests, plotting) may not import
                pass


def warm_up(records: List[str], args_json: str = "{}") -> None:
    """Run the sample records through the environment once, then forget it."""
    env_class = adapter.registered()
    try:
        env = adapter.configure_json(env_class, args_json)
    except Exception:  # noqa: BLE001 - arguments the sample cannot use: nothing to warm up
        return
    for seed, record in enumerate(records):
        try:
            step = adapter.prepare_json(env, record, seed, [], False)
            reference = adapter.reference_json(env, step.state) or ""
            for reply in (reference, "", "zzzz"):
                adapter.grade_json(env, step.state, reply)
        except Exception:  # noqa: BLE001 - bad records are for `plugin check` to report
            continue


def sample_records(path: str) -> List[str]:
    """The JSON lines of a sample file (none if it does not exist)."""
    if not os.path.isfile(path):
        return []
    with open(path, encoding="utf-8") as lines:
        return [line.strip() for line in lines if line.strip()]


def _sources(project: str) -> Iterator[str]:
    for root, dirs, files in os.walk(project):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS and not d.startswith("."))
        for name in sorted(files):
            if name.endswith(".py") and not name.startswith("test_") and name != "conftest.py":
                yield os.path.join(root, name)


def _imports(project: str) -> Iterator[Tuple[str, int, str, bool]]:
    """(file, line, module, optional) of every absolute import in the
    project's sources; `optional` when a `try` handles its failure."""
    seen: Set[str] = set()
    for path in _sources(project):
        with open(path, encoding="utf-8") as source:
            tree = ast.parse(source.read(), path)
        shown = os.path.relpath(path, project)
        for node, optional in _walk(tree, False):
            for module, maybe in _modules(node):
                if module not in seen:
                    seen.add(module)
                    yield shown, node.lineno, module, optional or maybe


def _walk(node: ast.AST, optional: bool) -> Iterator[Tuple[ast.AST, bool]]:
    guarded = optional or (isinstance(node, ast.Try) and any(_catches_import_error(h) for h in node.handlers))
    for child in ast.iter_child_nodes(node):
        inside = guarded if isinstance(node, ast.Try) and child in node.body else optional
        yield child, inside
        yield from _walk(child, inside)


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    names = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
    if handler.type is None:
        return True
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(t, ast.Name) and t.id in names for t in types)


def _modules(node: ast.AST) -> List[Tuple[str, bool]]:
    """The modules a node imports, each with whether it may not exist."""
    if isinstance(node, ast.Import):
        return [(alias.name, False) for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        # `from a import b` may name a submodule `a.b`, which importing `a`
        # does not load; or just an attribute of `a`.
        return [(node.module, False)] + [(f"{node.module}.{alias.name}", True) for alias in node.names]
    if isinstance(node, ast.Call) and _is_import_module(node.func) and node.args:
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return [(first.value, False)]
    return []


def _is_import_module(func: ast.AST) -> bool:
    if isinstance(func, ast.Attribute):
        return func.attr == "import_module" or func.attr == "__import__"
    return isinstance(func, ast.Name) and func.id in ("import_module", "__import__")
