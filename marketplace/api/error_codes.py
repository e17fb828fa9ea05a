"""Which error codes each API operation may answer, read off the code itself.

An operation's handler calls services, which call helpers, which raise `DomainError(...,
code="...")`. Following those calls through the source (by name, the way a reader would: a
function of the same module, a name imported from a `marketplace` module, or `module.function`)
collects every code the handler can reach, with its HTTP status. The OpenAPI document lists them
per operation, so it cannot drift from the raise sites the way a hand-kept list would.

It errs on the side of listing: a code reachable by some branch is listed even if that branch
cannot be taken from this operation.
"""

import ast
import functools
import importlib.util
import inspect
from pathlib import Path

PACKAGE = "marketplace"
ERROR_TYPES = {"DomainError", "ApiError"}


def _api_status(status: int) -> int:
    # The API answers a service's 400 (well-formed input it refuses) with 422 (errors.status_of).
    return 422 if status == 400 else status


class _Module:
    def __init__(self, name: str, path: Path):
        self.name = name
        self.tree = ast.parse(path.read_text(encoding="utf-8"))
        self.functions: dict[str, ast.AST] = {}
        self.classes: dict[str, ast.ClassDef] = {}
        self.names: dict[str, tuple[str, str | None]] = {}  # local name -> (module, attribute or None)
        for node in self.tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self.functions[node.name] = node
            elif isinstance(node, ast.ClassDef):
                self.classes[node.name] = node
        for node in ast.walk(self.tree):  # imports inside functions count as well
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    local = alias.asname or alias.name
                    if _is_module(f"{node.module}.{alias.name}"):
                        self.names[local] = (f"{node.module}.{alias.name}", None)
                    else:
                        self.names[local] = (node.module, alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self.names[alias.asname] = (alias.name, None)


@functools.cache
def _is_module(name: str) -> bool:
    if not name.startswith(PACKAGE + ".") and name != PACKAGE:
        return False
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


@functools.cache
def _module(name: str) -> _Module | None:
    if not _is_module(name):
        return None
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return _Module(name, Path(spec.origin))


def _literal(node) -> object:
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


def _swallows_domain_errors(handler: ast.ExceptHandler) -> bool:
    """`except DomainError:` that answers the error itself: no `raise`, and the error is not
    handed on (`except DomainError as error: _refuse(error, ...)` raises it again)."""
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    if not any(getattr(name, "id", None) in ("DomainError", "Exception") for name in names):
        return False
    for node in ast.walk(handler):
        if isinstance(node, ast.Raise) or (handler.name and isinstance(node, ast.Name) and node.id == handler.name):
            return False
    return True


def _walk(node: ast.AST):
    """Every node of a body, like ast.walk, but without the decorators (`@operation(...)` is not
    something the handler calls) and without a `try` block whose domain errors are caught and
    answered there."""
    todo = [node]
    while todo:
        current = todo.pop()
        yield current
        if isinstance(current, ast.FunctionDef | ast.AsyncFunctionDef):
            todo.extend(current.body)
        elif isinstance(current, ast.Try) and any(_swallows_domain_errors(h) for h in current.handlers):
            todo.extend([*current.handlers, *current.orelse, *current.finalbody])
        else:
            todo.extend(ast.iter_child_nodes(current))


def _raised_here(node: ast.AST) -> set[tuple[int, str]]:
    """(status, code) of the errors constructed in this function or class body itself."""
    found = set()
    for call in _walk(node):
        if not isinstance(call, ast.Call):
            continue
        func = call.func
        is_error = isinstance(func, ast.Name) and func.id in ERROR_TYPES
        is_super = (isinstance(func, ast.Attribute) and func.attr == "__init__"
                    and isinstance(func.value, ast.Call) and getattr(func.value.func, "id", None) == "super")
        if not (is_error or is_super):
            continue
        keywords = {k.arg: k.value for k in call.keywords}
        code = _literal(keywords["code"]) if "code" in keywords else None
        if not isinstance(code, str):
            continue
        if getattr(func, "id", None) == "ApiError":
            status = _literal(call.args[0]) if call.args else None
            found.add((status if isinstance(status, int) else 400, code))
            continue
        status = keywords.get("status", call.args[2] if len(call.args) > 2 else None)
        status = _literal(status) if status is not None else 400
        found.add((_api_status(status if isinstance(status, int) else 400), code))
    return found


def _bound_names(node: ast.AST) -> set[str]:
    """Names a function binds itself (arguments, assignments, loop variables): a variable named
    `offer` is not the module's function `offer`."""
    bound = set()
    for child in ast.walk(node):
        if isinstance(child, ast.arg):
            bound.add(child.arg)
        elif isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
            bound.add(child.id)
    return bound


def _callees(module: _Module, node: ast.AST) -> set[tuple[str, str]]:
    """(module, name) of the marketplace functions and classes this body calls, or names
    without calling (`work = _check_in if ... else _check_out; work(...)`)."""
    found = set()
    local = _bound_names(node)
    for ref in _walk(node):
        if isinstance(ref, ast.Name) and isinstance(ref.ctx, ast.Load) and ref.id not in local:
            if ref.id in module.functions or ref.id in module.classes:
                found.add((module.name, ref.id))
            elif ref.id in module.names:
                target, attribute = module.names[ref.id]
                if attribute is not None and _is_module(target):
                    found.add((target, attribute))
        elif isinstance(ref, ast.Attribute) and isinstance(ref.value, ast.Name):
            target, attribute = module.names.get(ref.value.id, (None, None))
            if target is not None and attribute is None and _is_module(target):
                found.add((target, ref.attr))
            elif target is not None and attribute is not None and _is_module(f"{target}.{attribute}"):
                found.add((f"{target}.{attribute}", ref.attr))
    return found


def _definition(module_name: str, name: str) -> tuple[_Module, ast.AST] | None:
    module = _module(module_name)
    if module is None:
        return None
    if name in module.functions:
        return module, module.functions[name]
    if name in module.classes:
        return module, module.classes[name]
    if name in module.names:  # re-exported: follow it to where it is defined
        target, attribute = module.names[name]
        if attribute is not None and (target, attribute) != (module_name, name):
            return _definition(target, attribute)
    return None


def codes_reached(module_name: str, name: str) -> set[tuple[int, str]]:
    """(status, code) of every error the function `module_name.name` may raise, through the
    marketplace functions it calls."""
    seen: set[tuple[str, str]] = set()
    found: set[tuple[int, str]] = set()
    todo = [(module_name, name)]
    while todo:
        key = todo.pop()
        if key in seen:
            continue
        seen.add(key)
        raised, callees = _read(*key)
        found |= raised
        todo.extend(callees - seen)
    return found


@functools.cache
def _read(module_name: str, name: str) -> tuple[frozenset, frozenset]:
    """What one function raises itself and whom it calls: read once, though the 91 operations
    reach many of the same services (reading them again for each made the document 5 s of work)."""
    definition = _definition(module_name, name)
    if definition is None:
        return frozenset(), frozenset()
    module, node = definition
    return frozenset(_raised_here(node)), frozenset(_callees(module, node))


@functools.cache
def codes_of_handler(handler) -> tuple[tuple[int, str], ...]:
    """(status, code) pairs an API handler may answer with, sorted."""
    module = inspect.getmodule(handler)
    return tuple(sorted(codes_reached(module.__name__, handler.__name__)))
