"""`check`: compile a function's source with the interpreter that will run it and find its
entry point, before anything is stored or run. The compile rules (one compatibility rule
for the 2016 format's module-level `global`) and the entry rules (the entry, its flavour and
whether its parameters fit: see flavors) live here because the runners apply the very same
ones to user code."""

import ast
import sys
import warnings

from .config import DEFAULT_ENTRY, UsageError
from .flavors import FLAVORS, arity_error, choose, entry_hint, params_of_ast
from .protocol import compact_json


def parse_check_args(argv):
    opts = {"file": None, "entry": None, "flavor": None, "filename": "function.py",
            "import-timeout-ms": None, "archive": None, "module": None}
    it = iter(argv)
    for arg in it:
        key = arg[2:] if arg.startswith("--") else None
        if key not in opts:
            raise UsageError("unknown argument for check: %s" % arg)
        value = next(it, None)
        if value is None:
            raise UsageError("%s needs a value" % arg)
        opts[key] = value
    if opts["flavor"] is not None and opts["flavor"] not in FLAVORS:
        raise UsageError("unknown flavor %s" % opts["flavor"])
    return opts


def read_check_source(path):
    # Bytes, not text: compile() then honours a PEP 263 coding cookie and a BOM exactly
    # like the interpreter will when it runs the function.
    if path is None:
        return sys.stdin.buffer.read()
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise UsageError("cannot read %s: %s" % (path, exc.strerror))


def source_line(source, lineno):
    lines = source.decode("utf-8", "replace").splitlines()
    if lineno and 1 <= lineno <= len(lines):
        return lines[lineno - 1]
    return None


def caret_for(text, col, end_col=None):
    """Caret line under `text` at 1-based `col`; tabs are copied so the caret lines up
    in a terminal whatever the tab width."""
    if text is None or not col:
        return None
    col = max(1, min(col, len(text) + 1))
    pad = "".join("\t" if ch == "\t" else " " for ch in text[: col - 1])
    width = 1
    if end_col and end_col > col:
        width = min(end_col, len(text) + 1) - col
    return pad + "^" * max(1, width)


def syntax_error_report(exc, source):
    lineno = getattr(exc, "lineno", None)
    text = getattr(exc, "text", None)
    if text is None:
        text = source_line(source, lineno)
    text = text.rstrip("\r\n") if text is not None else None
    col = getattr(exc, "offset", None)
    end_col = None
    if getattr(exc, "end_lineno", None) == lineno:  # 3.10+: a range on one line
        end_col = getattr(exc, "end_offset", None)
    return {
        "kind": "syntax",
        "type": type(exc).__name__,
        "message": getattr(exc, "msg", None) or str(exc),
        "line": lineno,
        "col": col,
        "text": text,
        "caret": caret_for(text, col, end_col),
    }


def compile_error_report(exc, source):
    """Errors compile() raises that are not SyntaxError (null bytes on 3.9-3.11,
    nesting too deep): still a syntax problem for the user, located when possible."""
    lineno = None
    if b"\0" in source:
        lineno = source[: source.index(b"\0")].count(b"\n") + 1
    return {
        "kind": "syntax",
        "type": type(exc).__name__,
        "message": str(exc) or type(exc).__name__,
        "line": lineno,
        "col": None,
        "text": source_line(source, lineno),
        "caret": None,
    }


def nested_bodies(node):
    # Definitions inside top-level if/try/with/for/while blocks still bind module
    # globals (e.g. `try: import x` / `except: def main...`); function and class bodies don't.
    for field in ("body", "orelse", "finalbody"):
        yield from getattr(node, field, None) or []
    for handler in getattr(node, "handlers", None) or []:
        yield from handler.body


def top_level_bindings(tree, params=None):
    """Names bound at module level: {name: kind} with kind 'function' or 'value'; a
    function's positional parameters go into `params` when given."""
    found = {}
    pending = list(tree.body)
    while pending:
        node = pending.pop(0)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if found.setdefault(node.name, "function") == "function" and params is not None:
                params[node.name] = params_of_ast(node)  # the last definition wins, as at run time
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found.setdefault(target.id, "value")
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            if isinstance(node.target, ast.Name):
                found.setdefault(node.target.id, "value")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                found.setdefault((alias.asname or alias.name).split(".")[0], "value")
        elif isinstance(node, (ast.If, ast.Try, ast.With, ast.For, ast.While)):
            pending.extend(nested_bodies(node))
    return found


def resolve_entry(names, entry, flavor=None, params=None):
    """(flavour, effective entry) or None. The 2016 format's madhat_func is found when the
    default entry `main` is asked for by name and absent (how older versions were stored).
    `params`: {name: Params}, or a function answering one name's (read only when needed)."""
    lookup = params if callable(params) else (params or {}).get
    if entry == DEFAULT_ENTRY and entry not in names and flavor is None:
        entry = None
    return choose(names, entry, flavor, lookup)


def entry_error(names, entry, filename):
    functions = sorted(name for name, kind in names.items() if kind == "function")
    found = ", ".join(functions) if functions else "none"
    message = "entry function '%s' is not defined at the top level of %s (top-level functions: %s)" % (
        entry or DEFAULT_ENTRY, filename, found)
    if entry is None or entry == DEFAULT_ENTRY:
        message += "; " + entry_hint()
    return {"kind": "entry", "message": message, "line": None, "col": None,
            "text": None, "caret": None, "found": functions}


def signature_error(message):
    return {"kind": "signature", "message": message, "line": None, "col": None,
            "text": None, "caret": None}


class ModuleGlobalRemover(ast.NodeTransformer):
    """Drops `global` statements at module level (incl. inside top-level if/try
    blocks), where they mean nothing; function and class bodies are left alone."""

    def __init__(self):
        self.removed = []

    def visit_Global(self, node):
        self.removed.append(node)
        return ast.copy_location(ast.Pass(), node)  # a body may not become empty

    def skip(self, node):
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = visit_Lambda = skip


def compile_function(source, filename):
    """compile() the source; returns (code, compat notes).

    One compatibility rule for the 2016 format, whose documented example puts
    `global fib` at module level after `def fib`: Python 2 only warned about that,
    Python 3 rejects it. A module-level `global` is a no-op, so when compile() fails
    and dropping those statements makes it compile, we run that and say so."""
    try:
        return compile(source, filename, "exec", dont_inherit=True), []
    except SyntaxError:
        try:
            tree = ast.parse(source, filename)
            remover = ModuleGlobalRemover()
            tree = remover.visit(tree)
            code = compile(tree, filename, "exec", dont_inherit=True) if remover.removed else None
        except (SyntaxError, ValueError, RecursionError):
            code = None
        if code is None:
            raise  # the original error, which is what the user must fix
    notes = [{"message": "module-level 'global %s' ignored: it has no effect there, and Python 3 rejects "
              "it after the name is assigned (Python 2 only warned)" % ", ".join(node.names),
              "line": node.lineno, "category": "CompatWarning"} for node in remover.removed]
    return code, notes


def check_source(source, entry, filename, flavor=None):
    """The check verdict as a dict (what `check` prints)."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            _code, notes = compile_function(source, filename)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # already reported by compile()
            tree = ast.parse(source, filename)
    except SyntaxError as exc:
        return {"ok": False, "error": syntax_error_report(exc, source)}
    except (ValueError, RecursionError, MemoryError, OverflowError) as exc:
        return {"ok": False, "error": compile_error_report(exc, source)}
    params = {}
    names = top_level_bindings(tree, params)
    resolved = resolve_entry(names, entry, flavor, params)
    if resolved is None:
        return {"ok": False, "error": entry_error(names, entry, filename)}
    refusal = arity_error(resolved[0], resolved[1], params.get(resolved[1]))
    if refusal:
        return {"ok": False, "error": signature_error(refusal)}
    verdict = {"ok": True, "format": resolved[0], "entry": resolved[1]}
    notes += [{"message": str(w.message), "line": w.lineno, "category": w.category.__name__}
              for w in caught]
    if notes:
        verdict["warnings"] = notes
    return verdict


def import_verdict(verdict, opts):
    """The static verdict, or the import check's refusal. It resolves the flavour and entry
    the static check found. Code shipped as an archive is unpacked as a runner unpacks it
    and imported from there, under its real paths."""
    from .code_archive import ArchiveError, unpack
    from .import_check import run_import_check
    code, filename, code_dir = opts["file"], opts["filename"], None
    if opts["archive"]:
        try:
            code, code_dir = unpack(opts["archive"], opts["module"] or filename)
        except ArchiveError as exc:
            return {"ok": False, "error": {"kind": "import", "type": "ArchiveError", "message": str(exc)}}
        filename = code
    failure = run_import_check(code, filename, verdict["entry"], verdict["format"], int(opts["import-timeout-ms"]), code_dir)
    return {"ok": False, "error": failure} if failure else verdict


def check_mode(argv):
    opts = parse_check_args(argv)
    source = read_check_source(opts["file"])
    verdict = check_source(source, opts["entry"], opts["filename"], opts["flavor"])
    if verdict["ok"] and opts["import-timeout-ms"] and opts["file"]:
        verdict = import_verdict(verdict, opts)
    sys.stdout.write(compact_json(verdict) + "\n")
    sys.stdout.flush()
    return 0
