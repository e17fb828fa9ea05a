"""The architecture, checked: no module takes part in an import cycle, and no service reaches
for the web request. The layer contracts themselves are import-linter's (`make lint`,
pyproject.toml); these are the two checks it has no contract type for."""

import re
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "marketplace"

def _cycles(graph) -> list[set[str]]:
    """The import graph's strongly connected components of more than one module (Tarjan's
    algorithm, iteratively: the graph is deep enough to exhaust recursion on a small stack)."""
    imports = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    index, low, on_stack, stack, found, counter = {}, {}, set(), [], [], 0
    for start in sorted(imports):
        if start in index:
            continue
        work = [(start, iter(imports[start]))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(imports.get(child, ()))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1 or node in imports.get(node, ()):
                    found.append(component)
    return found


def test_the_cycle_finder_finds_a_cycle():
    class Graph:
        modules = {"a", "b", "c", "d"}

        @staticmethod
        def find_modules_directly_imported_by(module):
            return {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}[module]

    assert _cycles(Graph) == [{"a", "b", "c"}]


def test_no_module_takes_part_in_an_import_cycle():
    sys.path.insert(0, str(ROOT))
    try:
        # Imports inside functions count too: a lazy import is still a dependency.
        graph = grimp.build_graph("marketplace", cache_dir=None)
    finally:
        sys.path.remove(str(ROOT))
    cycles = _cycles(graph)
    assert cycles == [], "import cycles: " + "; ".join(" <-> ".join(sorted(c)) for c in cycles)


SERVICE_MODULES = [
    *PACKAGE.glob("*/services.py"),
    *(PACKAGE / "users" / f"{name}.py" for name in ("accounts", "applications", "roles", "tokens", "login_limits", "recovery")),
    *(PACKAGE / "events" / f"{name}.py" for name in ("caps", "corrections", "door", "honour", "organising", "records", "signups", "staff_door", "timing")),
    PACKAGE / "partners" / "invitations.py",
    PACKAGE / "service_requests" / "jobs.py",
    *(PACKAGE / "service_requests" / f"{name}.py" for name in ("clocks", "promises")),
    PACKAGE / "service_requests" / "photos.py",
    PACKAGE / "service_requests" / "onsite.py",
    PACKAGE / "users" / "passwords.py",
    PACKAGE / "ledger" / "adjustments.py",
    PACKAGE / "ledger" / "policy.py",
    PACKAGE / "ledger" / "statements.py",
    *(PACKAGE / "ledger" / f"{name}.py" for name in ("verify", "sources", "checkpoints", "checkpoints_schema", "sealing", "hashing")),
    PACKAGE / "events" / "tokens.py",
    *(PACKAGE / "notifications" / f"{name}.py" for name in ("deliveries", "preferences", "fallback", "receipts", "figures")),
    *(PACKAGE / "notifications" / "channels").glob("*.py"),
    PACKAGE / "public" / "open_data.py",
    PACKAGE / "rights" / "retention.py",
    PACKAGE / "rights" / "closing.py",
    PACKAGE / "care" / "personal.py",
    *(PACKAGE / "proposals" / f"{name}.py" for name in ("votes", "thresholds", "action", "evaluation", "participation")),
]
REQUEST_STATE = re.compile(
    r"^\s*(from\s+flask\s+import\s+[^\n]*\b(request|session|g|current_app)\b"
    r"|from\s+flask_login\s+import|import\s+flask_login|from\s+flask\.globals\s+import)",
    re.MULTILINE,
)


def test_no_service_reaches_for_the_web_request():
    """Services take the acting user and plain values, and read marketplace.settings: so the
    scheduler and the commands call them with no request, and the API and the pages alike."""
    assert len(SERVICE_MODULES) > 10
    offenders = []
    for path in SERVICE_MODULES:
        for match in REQUEST_STATE.finditer(path.read_text(encoding="utf-8")):
            offenders.append(f"{path.relative_to(ROOT)}: {match.group(0).strip()}")
    assert offenders == []


def test_no_module_is_over_500_lines():
    """A module longer than this holds more than one thing: split it along its seams (issue 14)."""
    long = {str(path.relative_to(ROOT)): lines for path in PACKAGE.rglob("*.py")
            if (lines := len(path.read_text(encoding="utf-8").splitlines())) > 500}
    assert long == {}
