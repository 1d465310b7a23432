"""The README and docs/*.md against the code and the packaging as they are: every API name in
backticks resolves, the signatures and defaults shown are the functions' own, every
script option a command shows exists, links and pictures resolve, CI runs the README's test
command verbatim, ``[dev]`` installs everything the code and tests import, and the package
imports with NumPy alone."""

from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.metadata
import inspect
import io
import pkgutil
import re
import shlex
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import functional_nn

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = [README, *sorted((ROOT / "docs").glob("*.md"))]
SCRIPTS = ROOT / "scripts"

# Written like calls in the prose but not ours: maths (max(z, 0), g(z), log(1 + e^z)), the
# Optimizer record's own fields, and other libraries' functions.
NOT_OURS = {"max", "min", "log", "exp", "ceil", "erf", "g", "g_l", "loss", "init", "update", "SeedSequence", "torch.__config__.show", "dZ.sum"}
MATHS = re.compile(r"[ΦσΣ⊙√−^²]")  # a span with these is an equation, not code


def _spans(path: Path) -> Iterator[tuple[int, str]]:
    """Each inline code span outside fenced blocks, with its line number."""
    in_block = False
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.startswith("```"):
            in_block = not in_block
            continue
        if not in_block:
            for match in re.finditer(r"`([^`]+)`", line):
                yield number, match.group(1)


def _block_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Each line inside a fenced block, with its line number."""
    in_block = False
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.startswith("```"):
            in_block = not in_block
        elif in_block:
            yield number, line


def _calls(span: str) -> Iterator[tuple[str, str]]:
    """``name(arguments)`` in a span, the parentheses balanced."""
    for match in re.finditer(r"(?<![\w.])([A-Za-z_][\w.]*)\(", span):
        depth, end = 1, match.end()
        while end < len(span) and depth:
            depth += {"(": 1, ")": -1}.get(span[end], 0)
            end += 1
        if depth == 0:
            yield match.group(1), span[match.end() : end - 1]


def _arguments(text: str) -> list[str]:
    """Split at the commas outside brackets."""
    items, depth, current = [], 0, ""
    for character in text:
        depth += {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}.get(character, 0)
        if character == "," and depth == 0:
            items.append(current.strip())
            current = ""
        else:
            current += character
    return [*items, current.strip()] if current.strip() else items


def _public_modules() -> list[ModuleType]:
    names = [info.name for info in pkgutil.walk_packages(functional_nn.__path__, "functional_nn.")]
    return [functional_nn, *(importlib.import_module(name) for name in names if not name.startswith("functional_nn._"))]


def _attribute(start: object, path: list[str]) -> object | None:
    found: object | None = start
    for part in path:
        found = getattr(found, part, None)
    return found


def _resolve(name: str, modules: list[ModuleType]) -> object | None:
    """``name`` (``train``, ``functional_nn.sklearn.MLPClassifier``, ``ACTIVATIONS``) in the package."""
    parts = name.split(".")
    if parts[0] == "functional_nn":
        for cut in range(len(parts), 0, -1):
            with contextlib.suppress(ImportError):
                return _attribute(importlib.import_module(".".join(parts[:cut])), parts[cut:])
        return None
    for module in modules:
        found = _attribute(module, parts)
        if found is not None:
            return found
    return None


def test_every_api_call_in_backticks_resolves() -> None:
    modules = _public_modules()
    unknown = [
        f"{path.name}:{number}: {name}( in `{span}`"
        for path in DOCS
        for number, span in _spans(path)
        if not MATHS.search(span)
        for name, _ in _calls(span)
        if name not in NOT_OURS and _resolve(name, modules) is None
    ]
    # names the docs call that the package does not have (add maths or another library's to NOT_OURS)
    assert not unknown, "\n".join(unknown)


def test_keyword_arguments_in_backticks_are_the_functions_own() -> None:
    modules = _public_modules()
    wrong = []
    for path in DOCS:
        for number, span in _spans(path):
            for name, arguments in _calls(span):
                target = _resolve(name, modules)
                if target is None or not callable(target):
                    continue
                parameters = inspect.signature(target).parameters
                if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
                    continue
                for item in _arguments(arguments):
                    keyword = re.match(r"([A-Za-z_]\w*)\s*=(?!=)", item)
                    if keyword and keyword.group(1) not in parameters:
                        wrong.append(f"{path.name}:{number}: {name} has no argument {keyword.group(1)!r} (`{span}`)")
    assert not wrong, "\n".join(wrong)


def _is_value(text: str) -> bool:
    try:
        eval(text, {"np": np})  # noqa: S307  (our own docs)
    except Exception:
        return False
    return True


def _signatures() -> list[tuple[str, int, str, str]]:
    """``(file, line, name, arguments)`` of each signature the docs show: every one in the
    README's API table, and in the prose each call that names arguments and gives defaults
    (``momentum(learning_rate, beta=0.9, *, nesterov=False)``) or marks keyword-only ones."""
    modules = _public_modules()
    found = []
    for path in DOCS:
        lines = path.read_text().splitlines()
        table_start = lines.index("## API") + 1 if "## API" in lines else len(lines) + 1
        for number, span in _spans(path):
            in_table = number > table_start and lines[number - 1].startswith("| `") and span in lines[number - 1].split(" | ")[0]
            for name, arguments in _calls(span):
                items = _arguments(arguments)
                named = any(re.fullmatch(r"[A-Za-z_]\w*", item) for item in items)
                defaults = [item.partition("=")[2].strip() for item in items if re.match(r"[A-Za-z_]\w*\s*=(?!=)", item)]
                shown = named and defaults and all(d == "..." or _is_value(d) for d in defaults)  # not a call like f(X, k=acts)
                if (in_table or shown or "*" in items) and callable(_resolve(name, modules)):
                    found.append((path.name, number, name, arguments))
    return found


def test_the_signatures_the_docs_show_are_the_code() -> None:
    """Names in order, ``*`` where keyword-only arguments start, and each default shown."""
    rows = _signatures()
    assert len(rows) >= 20
    modules = _public_modules()
    wrong = []
    for file, number, name, arguments in rows:
        target = _resolve(name, modules)
        assert callable(target)
        parameters = inspect.signature(target).parameters
        positional = [p.name for p in parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        keyword_only, elided, index = False, False, 0
        for item in _arguments(arguments):
            if item == "...":
                elided = True
                continue
            if item == "*":
                keyword_only = True
                continue
            shown, _, default = (part.strip() for part in item.partition("="))
            where = f"{file}:{number}: {name}({arguments})"
            if shown not in parameters:
                wrong.append(f"{where}: no argument {shown!r}")
                index += 1
                continue
            parameter = parameters[shown]
            if not elided and (parameter.kind is parameter.KEYWORD_ONLY) != keyword_only:
                wrong.append(f"{where}: {shown!r} is {parameter.kind.description}")
            elif not keyword_only and not elided:
                if index >= len(positional) or positional[index] != shown:
                    wrong.append(f"{where}: {shown!r} in place of {positional[index:index + 1]}")
                index += 1
            if default and default != "...":
                try:
                    value = eval(default, {"np": np})  # noqa: S307  (our own docs)
                except Exception:  # a description such as "grayscale" | "rgb", not a value
                    continue
                if not (value is parameter.default or value == parameter.default):
                    wrong.append(f"{where}: {shown}={default}, but the code's default is {parameter.default!r}")
    assert not wrong, "\n".join(wrong)


def _script_options() -> dict[str, set[str]]:
    """Every program in scripts/ and the options its --help lists."""
    sys.path.insert(0, str(SCRIPTS))
    options: dict[str, set[str]] = {}
    try:
        for path in sorted(SCRIPTS.glob("[!_]*.py")):
            module = importlib.import_module(path.stem)
            out = io.StringIO()
            with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
                module.main(["--help"])
            options[path.stem] = set(re.findall(r"(?<![\w-])(--[A-Za-z][\w-]*)", out.getvalue()))
    finally:
        sys.path.remove(str(SCRIPTS))
    return options


def _words(command: str) -> list[str]:
    try:
        words = shlex.split(command)
    except ValueError:  # a quote the span's end cut off: drop the quoted part
        words = re.sub(r"[\"'].*", "", command).split()
    return [word.strip("[]") for word in words]


def test_every_public_function_and_class_has_a_docstring() -> None:
    # what help() shows a user: the equation, the shapes, or at least what the thing is for
    undocumented = sorted(
        f"{module.__name__}.{name}"
        for module in _public_modules()
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (inspect.isfunction(value) or inspect.isclass(value))
        and value.__module__ == module.__name__
        and not (inspect.getdoc(value) or "").strip()
    )
    assert undocumented == []


def test_every_script_option_the_docs_show_exists() -> None:
    options = _script_options()
    every = set().union(*options.values())
    wrong = []
    for path in DOCS:
        places = [*_spans(path), *((n, re.split(r"\s#", line)[0]) for n, line in _block_lines(path))]
        for number, text in places:
            if text.startswith("--") and not re.search(r"\.py\b", text):
                option = _words(text)[0].split("=")[0]
                if option not in every:
                    wrong.append(f"{path.name}:{number}: no script takes {option}")
            for match in re.finditer(r"(?:scripts/)?(\w+)\.py\b", text):
                if match.group(1) not in options:
                    continue
                command = re.split(r"&&|;|\|", text[match.end() :])[0]
                for word in _words(command):  # a quoted "--epochs 3" is another program's arguments
                    if re.fullmatch(r"--[A-Za-z][\w-]*(=\S*)?", word) and word.split("=")[0] not in options[match.group(1)]:
                        wrong.append(f"{path.name}:{number}: {match.group(1)}.py has no option {word}")
    assert not wrong, "\n".join(wrong)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_links_and_pictures_resolve() -> None:
    wrong = []
    for path in DOCS:
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            for target in re.findall(r"\]\(([^)\s]+)\)", line):
                if re.match(r"[a-z]+:", target):
                    continue
                file, _, anchor = target.partition("#")
                linked = (path.parent / file).resolve() if file else path
                if not linked.exists():
                    wrong.append(f"{path.name}:{number}: {target} does not exist")
                elif anchor:
                    headings = re.findall(r"^#+ (.+)$", linked.read_text(), re.M)
                    if anchor not in {_slug(h) for h in headings}:
                        wrong.append(f"{path.name}:{number}: no heading for #{anchor} in {linked.name}")
    assert not wrong, "\n".join(wrong)


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    setup = README.read_text().split("## Set-up", 1)[1].split("\n## ", 1)[0]
    commands = [block.strip() for block in re.findall(r"```bash\n(.*?)```", setup, re.S)]
    assert len(commands) == 2, "the set-up is two commands: the main job, then the tests"
    (test_command,) = [command for command in commands if "pytest" in command]
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert test_command in ci, ".ci/run must run the README's test command verbatim"
    assert ci[-1] == test_command  # and last, so that its status is the run's


def _dev_closure() -> set[str]:
    """The distributions ``pip install -e ".[dev]"`` brings: [dev], the extras it names, and
    what each of those requires in turn, as installed here."""
    if sys.version_info < (3, 11):
        pytest.skip("tomllib is Python 3.11's")
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    ours = canonicalize_name(project["name"])
    extras: dict[str, list[str]] = project["optional-dependencies"]
    todo = [Requirement(r) for r in [*project["dependencies"], *extras["dev"]]]
    seen_extras: set[str] = {"dev"}
    found: set[str] = set()
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name == ours:
            for extra in requirement.extras - seen_extras:
                seen_extras.add(extra)
                todo += [Requirement(r) for r in extras[extra]]
            continue
        if name in found:
            continue
        found.add(name)
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            for line in importlib.metadata.requires(name) or []:
                needed = Requirement(line)
                if needed.marker is None or any(needed.marker.evaluate({"extra": e}) for e in ["", *requirement.extras]):
                    todo.append(needed)
    return found


def _third_party_imports() -> dict[str, set[str]]:
    """Top-level modules that functional_nn/, scripts/ and tests/ import, and where."""
    local = {"functional_nn", *(p.stem for p in SCRIPTS.glob("*.py")), *(p.stem for p in (ROOT / "tests").glob("*.py"))}
    imports: dict[str, set[str]] = {}
    for folder in ("functional_nn", "scripts", "tests"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                for top in {name.split(".")[0] for name in names} - local - set(sys.stdlib_module_names):
                    imports.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return imports


def test_dev_installs_everything_the_code_and_tests_import() -> None:
    closure = _dev_closure()
    providers = importlib.metadata.packages_distributions()
    missing = {
        module: sorted(where)[:3]
        for module, where in _third_party_imports().items()
        if not {canonicalize_name(d) for d in providers.get(module, [])} & closure
    }
    assert missing == {}, "imported, but no distribution that [dev] installs provides them"


def test_the_package_imports_with_numpy_alone_and_each_extra_is_named_when_missing() -> None:
    """Every extra's packages made unimportable: ``import functional_nn`` and every public
    module still work, nothing optional is loaded, and each entry point that needs an extra
    says which one."""
    code = textwrap.dedent(
        """
        import importlib, pkgutil, sys
        OPTIONAL = ["numba", "llvmlite", "matplotlib", "PIL", "tqdm", "sklearn", "onnx", "onnxruntime",
                    "distributed", "dask", "pandas", "scipy", "threadpoolctl", "torch"]
        for name in OPTIONAL:
            sys.modules[name] = None  # `import name` now raises ImportError, as when it is not installed
        import numpy as np
        import functional_nn
        from functional_nn import distributed, fused, plots
        for info in pkgutil.walk_packages(functional_nn.__path__, "functional_nn."):
            if not info.name.startswith("functional_nn._") and info.name != "functional_nn.sklearn":
                importlib.import_module(info.name)
        def extra_named(call, extra):
            try:
                call()
            except ImportError as error:
                assert f"[{extra}]" in str(error), str(error)
            else:
                raise AssertionError(f"{call} ran without the {extra} extra")
        params = functional_nn.initialize_parameters([2, 2], np.random.default_rng(0))
        extra_named(lambda: importlib.import_module("functional_nn.sklearn"), "sklearn")
        from functional_nn.lbfgs import train_lbfgs
        extra_named(lambda: train_lbfgs(np.zeros((2, 1)), np.array([[1.0], [0.0]]), params, activations=("softmax",),
                                        loss="categorical_cross_entropy"), "sklearn")
        extra_named(lambda: functional_nn.export_onnx(params, ("softmax",), "unwritten.onnx"), "onnx")
        extra_named(fused.warm_up, "fast")
        extra_named(lambda: distributed.cluster_client(n_workers=1).__enter__(), "dask")
        extra_named(lambda: plots.new_figure(1, 1), "scripts")
        extra_named(lambda: functional_nn.load_image_folder("."), "scripts")
        print(sorted(name for name in OPTIONAL if sys.modules.get(name) is not None))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
