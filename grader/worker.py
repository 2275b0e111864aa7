"""The sandboxed side of the grader: imports a submission, then runs one call per request.

A standalone script (standard library and numpy only; never the grader package), copied with wire.py
into a read-only folder of its own and started as `python -I -B worker.py SUBMISSION_DIR`.

Protocol (frames of wire.py). Requests arrive on a private copy of stdin; replies leave on a private
copy of stdout; fds 0, 1 and 2 are pointed at /dev/null first, so whatever the student's code prints
or reads never touches the protocol.
  worker -> {"type": "hello"}
  grader -> {"op": "load", "names": [...], "skip": [relative paths]}
  worker -> {"type": "importing", "path": "q1.py"}   (before each module; tells the grader whom to blame)
  worker -> {"type": "loaded", "found": {...}, "errors": {...}, "clashes": {...}, "modules": {...}}
  grader -> {"op": "call", "id": n, "name": "dtw", "args": <encoded tuple>}
  worker -> {"type": "reply", "id": n, "status": "ok" | "exception" | "bad_output" | "missing", ...}
"""

import os
import sys

# Single-threaded numeric libraries (the sandbox also limits processes and threads).
for _k, _v in (
  ("OPENBLAS_NUM_THREADS", "1"),
  ("OMP_NUM_THREADS", "1"),
  ("MKL_NUM_THREADS", "1"),
  ("JAX_PLATFORMS", "cpu"),
  ("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"),
):
  os.environ.setdefault(_k, _v)

import ast
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import traceback
import types

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
# The project's own packages: a submission must not reach them even where the interpreter could.
BLOCKED = frozenset(["zoo", "grader", "solutions", "exercises", "tests", "mmzoo"])
MESSAGE_CHARS = 2000


def _load_wire():
  spec = importlib.util.spec_from_file_location("_mmz_wire", os.path.join(HERE, "wire.py"))
  mod = importlib.util.module_from_spec(spec)
  sys.modules["_mmz_wire"] = mod
  spec.loader.exec_module(mod)
  return mod


wire = _load_wire()


class Channel:
  """The private request and reply fds; fds 0, 1 and 2 now lead to /dev/null."""

  def __init__(self):
    self.rfd, self.wfd = os.dup(0), os.dup(1)  # dup'ed fds are not inherited by child processes
    null_r, null_w = os.open(os.devnull, os.O_RDONLY), os.open(os.devnull, os.O_WRONLY)
    os.dup2(null_r, 0)
    os.dup2(null_w, 1)
    os.dup2(null_w, 2)
    os.close(null_r)
    os.close(null_w)

  def send(self, message):
    data = wire.frame(message)
    view = memoryview(data)
    while view:
      n = os.write(self.wfd, view)
      view = view[n:]

  def _read_exact(self, n):
    buf = bytearray()
    while len(buf) < n:
      chunk = os.read(self.rfd, n - len(buf))
      if not chunk:
        raise EOFError
      buf += chunk
    return bytes(buf)

  def receive(self):
    length = wire.parse_header(self._read_exact(wire.HEADER.size), wire.TRUSTED)
    return wire.parse_payload(self._read_exact(length), wire.TRUSTED)


class _Blocker(importlib.abc.MetaPathFinder):
  """Refuses the project's packages unless the submission itself has a module of that name."""

  def __init__(self, roots):
    self.roots = roots

  def find_spec(self, fullname, path=None, target=None):
    top = fullname.partition(".")[0]
    if top not in BLOCKED or path is not None:
      return None
    spec = importlib.machinery.PathFinder.find_spec(fullname, self.roots)
    if spec is None:
      raise ImportError(f"the grader's sandbox does not let a submission import {fullname!r}")
    return spec


def _short(text, limit=MESSAGE_CHARS):
  text = str(text)
  return text if len(text) <= limit else text[:limit] + " [...]"


def _exc_message(e):
  try:
    return _short(e)
  except BaseException:  # a hostile __str__
    return "<the exception's message could not be printed>"


def _where(e, files):
  """(relative path, line, source text) of the deepest traceback frame inside the submission."""
  if isinstance(e, SyntaxError) and e.filename in files:
    return files[e.filename], e.lineno, (e.text or "").strip()
  found = None
  for frame, line in traceback.walk_tb(e.__traceback__):
    path = frame.f_code.co_filename
    if path in files:
      found = (files[path], line, _line_text(path, line))
  return found


def _line_text(path, line):
  try:
    with open(path, encoding="utf-8") as f:
      for i, text in enumerate(f, 1):
        if i == line:
          return _short(text.strip(), 200)
  except (OSError, UnicodeDecodeError):
    pass
  return ""


def _error_info(e, files):
  info = {"exc_type": type(e).__name__, "message": _exc_message(e)}
  where = _where(e, files)
  if where:
    info["path"], info["line"], info["text"] = where
  return info


# ---------------------------------------------------------------------------------------------
# Loading the submission.


def _top_level_names(tree):
  """Names a module binds at top level (defs, classes, assignments, imports), through if/try/with blocks."""
  names, stack = set(), list(tree.body)
  while stack:
    node = stack.pop()
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
      names.add(node.name)
    elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
      targets = node.targets if isinstance(node, ast.Assign) else [node.target]
      for t in targets:
        names.update(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
    elif isinstance(node, (ast.Import, ast.ImportFrom)):
      names.update((a.asname or a.name).partition(".")[0] for a in node.names)
    elif isinstance(node, (ast.If, ast.Try, ast.With, ast.For, ast.While)):
      for field in ("body", "orelse", "finalbody", "handlers"):
        stack.extend(getattr(node, field, []) or [])
    elif isinstance(node, ast.ExceptHandler):
      stack.extend(node.body)
  return names


def _module_name(root, rel):
  """(sys.path entry, dotted name): a file in a package folder (with __init__.py) is imported as part of it."""
  parts = rel[:-3].split("/")
  dirs = parts[:-1]
  # Climb while the folder is a package, but never above the submission's root.
  k = len(dirs)
  while k > 0 and os.path.isfile(os.path.join(root, *dirs[:k], "__init__.py")):
    k -= 1
  base = os.path.join(root, *dirs[:k])
  name_parts = parts[k:]
  if name_parts[-1] == "__init__":
    name_parts = name_parts[:-1]
  return base, ".".join(name_parts)


def _discover(root, skip):
  """Every .py file under root, by sorted relative path (the grader side wrote only .py files there)."""
  rels = []
  for dirpath, dirnames, filenames in os.walk(root):
    dirnames.sort()
    for f in filenames:
      if f.endswith(".py"):
        rel = os.path.relpath(os.path.join(dirpath, f), root).replace(os.sep, "/")
        if rel not in skip:
          rels.append(rel)
  # The root's own __init__.py counts too (a package submitted as a folder): _import_one loads it as a
  # package under a private name, so its relative imports work.
  return sorted(rels)


def _import_one(name, path):
  """Imports a file under its module name; a name taken by another module gets a private one."""
  if name and all(p.isidentifier() for p in name.split(".")):
    try:
      mod = importlib.import_module(name)
      if os.path.realpath(getattr(mod, "__file__", "") or "") == os.path.realpath(path):
        return mod
    except ModuleNotFoundError as e:
      # Its own name not found, or the "package" of a file named with dots (hw.v2.py): load it by path.
      if e.name != name and not name.startswith(f"{e.name}."):
        raise
  # Shadowed (say a student file named json.py) or not a valid name: load it by path.
  private = "_mmz_sub_" + "".join(c if c.isalnum() else "_" for c in name or "init") + f"_{abs(hash(path))}"
  package = [os.path.dirname(path)] if os.path.basename(path) == "__init__.py" else None
  spec = importlib.util.spec_from_file_location(private, path, submodule_search_locations=package)
  mod = importlib.util.module_from_spec(spec)
  sys.modules[private] = mod
  try:
    spec.loader.exec_module(mod)
  except BaseException:
    sys.modules.pop(private, None)
    raise
  return mod


def load(channel, root, names, skip):
  """Imports every module (sorted by path) and finds the graded functions at module top level."""
  rels = _discover(root, set())
  skip = set(skip)
  files = {os.path.join(root, r): r for r in rels}
  plans = [(r,) + _module_name(root, r) for r in rels]
  roots = list(dict.fromkeys(base for _, base, _ in plans))
  sys.path[:0] = roots
  sys.meta_path.insert(0, _Blocker(roots))
  modules, defined, module_errors = [], {}, {}
  for rel, _base, name in plans:
    path = os.path.join(root, rel)
    try:
      with open(path, encoding="utf-8") as f:
        defined[rel] = _top_level_names(ast.parse(f.read(), filename=path))
    except (SyntaxError, ValueError, OSError, RecursionError, MemoryError):
      defined[rel] = set()
    if rel in skip:
      # It stopped an earlier worker while importing: not imported again; the grader knows why.
      module_errors[rel] = {"skipped": True}
      modules.append((rel, None))
      continue
    channel.send({"type": "importing", "path": rel})
    try:
      modules.append((rel, _import_one(name, path)))
    except BaseException as e:  # SystemExit, KeyboardInterrupt too: an import must not end the worker
      module_errors[rel] = _error_info(e, files)
      modules.append((rel, None))
  return _resolve(names, modules, defined, module_errors)


def _same(a, b) -> bool:
  """One definition: the same object, or the same source imported twice (a package's __init__.py that
  re-exports a function of its own module, loaded once as part of it and once on its own)."""
  if a is b:
    return True
  if not (isinstance(a, types.FunctionType) and isinstance(b, types.FunctionType)):
    return False  # only plain functions are compared (no attribute of a student's object is read)
  ca, cb = a.__code__, b.__code__
  return ca.co_filename == cb.co_filename and ca.co_firstlineno == cb.co_firstlineno and ca.co_code == cb.co_code


def _resolve(names, modules, defined, module_errors):
  """The first module by sorted path that defines a name wins; every other definer is a clash."""
  table, found, errors, clashes = {}, {}, {}, {}
  for name in names:
    owners = []
    for rel, mod in modules:
      if mod is not None and name in vars(mod):
        owners.append((rel, vars(mod)[name]))
      elif mod is None and name in defined.get(rel, ()):
        owners.append((rel, None))
    if not owners:
      found[name] = "missing"
      continue
    rel, obj = owners[0]
    distinct = [r for r, o in owners[1:] if o is None or obj is None or not _same(o, obj)]
    if distinct:
      clashes[name] = [rel] + distinct
    if obj is None and rel in module_errors:
      found[name] = "import_error"
      errors[name] = dict(module_errors[rel], module=rel)
    else:
      found[name] = "ok"
      table[name] = obj
  report = {
    "type": "loaded",
    "found": found,
    "errors": errors,
    "clashes": clashes,
    "modules": {r: e for r, e in module_errors.items()},
  }
  return table, report


# ---------------------------------------------------------------------------------------------
# Calls.


def plain(x, depth=0):
  """A result as plain data: array-likes (jax arrays among them) through np.asarray, here in the sandbox."""
  if depth > 32:
    raise wire.WireError("the result is nested more than 32 levels deep")
  if x is None or type(x) in (bool, int, float, str, np.ndarray):
    return x
  if isinstance(x, np.generic):
    return x
  if isinstance(x, bool):
    return bool(x)
  if isinstance(x, int):
    return int(x)
  if isinstance(x, float):
    return float(x)
  if isinstance(x, str):
    return str(x)
  if isinstance(x, (list, tuple)):
    items = [plain(v, depth + 1) for v in x]
    return items if isinstance(x, list) else tuple(items)
  if isinstance(x, dict):
    return {k: plain(v, depth + 1) for k, v in x.items()}
  if isinstance(x, np.ndarray) or hasattr(x, "__array__") or hasattr(x, "__jax_array__"):
    arr = np.asarray(x)
    if arr.dtype.kind not in "biufc":
      raise wire.WireError(f"the result holds an array of dtype {arr.dtype}, not numbers")
    return arr
  raise wire.WireError(f"the result contains a {type(x).__name__}, which is not plain data")


def call(channel, table, files, request):
  """Runs one call on a fresh copy of its inputs and sends the reply."""
  rid, name = request.get("id"), request.get("name")
  if name not in table:
    channel.send({"type": "reply", "id": rid, "status": "missing"})
    return
  args = wire.decode(request["args"], wire.TRUSTED)  # decoding makes the fresh copy
  try:
    result = table[name](*args)
  except BaseException as e:  # SystemExit and KeyboardInterrupt are the student's too
    reply = {"type": "reply", "id": rid, "status": "exception", **_error_info(e, files)}
    reply["not_implemented"] = isinstance(e, NotImplementedError)
    channel.send(reply)
    return
  channel.send(_result_reply(rid, result))


def _result_reply(rid, result):
  limits = wire.WireLimits()
  try:
    value = wire.encode(plain(result))
    reply = {"type": "reply", "id": rid, "status": "ok", "value": value}
    if len(wire.frame(reply)) > limits.frame_bytes:
      return {
        "type": "reply",
        "id": rid,
        "status": "bad_output",
        "message": f"the result is larger than {limits.frame_bytes} bytes",
      }
    return reply
  except wire.WireError as e:
    return {"type": "reply", "id": rid, "status": "bad_output", "message": _short(e)}
  except BaseException as e:  # converting a hostile object ran its code; that is the student's failure
    return {
      "type": "reply",
      "id": rid,
      "status": "bad_output",
      "message": f"the result could not be converted: {type(e).__name__}: {_exc_message(e)}",
    }


def main():
  channel = Channel()
  root = os.path.abspath(sys.argv[1])
  os.chdir(root)
  channel.send({"type": "hello"})
  table, files = {}, {}
  while True:
    try:
      request = channel.receive()
    except EOFError:
      return
    op = request.get("op")
    if op == "load":
      table, report = load(channel, root, request.get("names", []), request.get("skip", []))
      files = {os.path.join(root, r): r for r in _discover(root, set())}
      channel.send(report)
    elif op == "call":
      call(channel, table, files, request)
    elif op == "exit":
      return


if __name__ == "__main__":
  main()
