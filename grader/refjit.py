"""The grader's references as ahead-of-time executables: a warm process neither traces nor lowers them.

`jit(fn, ...)` stands for `jax.jit(fn, ...)` in the records' private.reference. JAX's persistent cache
must trace and lower a call before it can even compute its key (about 85 % of a warm references run, one
computation per case: hidden cases have shapes of their own); here the key comes from what is known
without tracing, and a hit deserializes the compiled executable and calls it.

The key is a sha256 of: FORMAT; the versions of jax, jaxlib, flax, numpy and Python; x64 on or off; the
platform (backend, device kind, machine, the CPU's feature flags: XLA:CPU code is built for the host);
XLA_FLAGS and the JAX options that change a computation; a digest of the SOURCE files that can change
it (every .py file of the zoo package, grader/draw.py, grader/cases.py, this file, the folder of the
record that made the wrapper, and the file defining `fn`); fn's module and qualified name, its code and what
it captures, by value (_describe: closure cells, defaults, the data globals it names; a capture it cannot
key makes the wrapper plain jax.jit); the static arguments' repr; the dynamic arguments' tree structure,
shapes, dtypes and weak types. So `fn` must be a function of its arguments, of what it captures and of that
source only (a helper module outside those files is not digested: its edit would load stale executables).

Entries live in <the grader's cache folder>/jax-aot, one file per key (0600, written atomically) in a
folder of the grader's alone (0700, owner-checked by zoo.compile_cache, as the CLI's JAX cache is).
An entry is a pickle holding a native executable: loading one runs its code, so the folder must never
be writable by anyone else, the sandboxed submission included (the same trust JAX's own persistent
cache asks, which also loads executables). Nothing here is on at import: `enable(path)`, called by
grader.cases.use_compile_cache() (itself off with GRADER_COMPILE_CACHE=off), turns it on for the process;
until then a wrapper is plain `jax.jit`. Only a regular file of this user's that no one else may write is
unpickled (_open_own: the folder is checked once, when turned on). An unreadable, corrupt or mismatched
entry, one not the user's private file, or one that fails
when run, is a miss (compiled again and overwritten), never an error; an entry that cannot be written
or serialized is only lost (the call is answered all the same).
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import os
import pickle
import platform
import stat
import sys
import tempfile
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

FORMAT = 1
ROOT = Path(__file__).resolve().parent.parent
_state = {"folder": None}  # the entries' folder once enable() accepted it; None: plain jax.jit
stats = {"loaded": 0, "compiled": 0, "stored": 0, "uncached": 0}  # executables read back, compiled, written; calls
# answered by plain jax.jit because fn captured something _describe cannot key (this process)


def enable(path: str, hint: str = "") -> bool:
  """Keep the references' executables in `path` (made 0700; refused, with a note, if unsafe); True if on."""
  from zoo import compile_cache

  reason = compile_cache.prepare(path)
  if reason:
    print(f"note: reference executables not cached: {reason}{'; ' + hint if hint else ''}", file=sys.stderr)
    return False
  _state["folder"] = Path(path)
  return True


def disable() -> None:
  """Back to plain jax.jit for the rest of the process (tests)."""
  _state["folder"] = None


def folder() -> Path | None:
  """Where the entries are kept, or None when off."""
  return _state["folder"]


def forget() -> None:
  """Drop the executables this process holds, so that the next calls read the folder again (tests)."""
  for w in _wrappers.values():
    w.loaded.clear()


def jit(fn: Callable, *, static_argnums=(), static_argnames=(), asarray: bool = False) -> Callable:
  """`jax.jit(fn, static_argnums=..., static_argnames=...)` with its executables kept across processes.

  `asarray`: turn every positional argument into a numpy array first (zoo.article.jitted's rule: a list
  is one array argument, not one traced scalar per number).
  """
  caller = sys._getframe(1).f_globals.get("__file__")
  nums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
  names = (static_argnames,) if isinstance(static_argnames, str) else tuple(static_argnames)
  memo = (fn, nums, names, asarray, caller)  # one wrapper per function, however often a record asks
  if memo not in _wrappers:
    _wrappers[memo] = _Jitted(fn, nums, names, asarray, caller)
  return _wrappers[memo]


_wrappers: dict[tuple, _Jitted] = {}


class _Jitted:
  """One wrapped function: its plain jax.jit, the static arguments resolved as jax.jit resolves them."""

  def __init__(self, fn, nums: tuple, names: tuple, asarray: bool, caller: str | None):
    import jax

    self.fn, self.asarray = fn, asarray
    self.plain = jax.jit(fn, static_argnums=nums, static_argnames=names)
    # jax.jit makes a name static by position too and a position static by name too: so do we.
    try:
      params = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):  # no Python signature: only the positions and names given are static
      params = []
    self.static_nums = frozenset(nums) | {params.index(n) for n in names if n in params}
    self.static_names = frozenset(names) | {params[i] for i in nums if i < len(params)}
    try:
      where = inspect.getsourcefile(fn)
    except TypeError:  # not defined in a Python file (a builtin): no source of its own to digest
      where = None
    self.files = tuple(sorted({str(Path(p).resolve()) for p in (where, caller) if p}))
    self.name = f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', repr(fn))}"
    self.captured: tuple | None = None  # _describe(fn), once: its code and every value it captures
    self.loaded: dict[str, Any] = {}  # key -> executable, for repeated calls in one process

  def __call__(self, *args, **kwargs):
    import jax

    if self.asarray:
      import numpy as np

      args = tuple(np.asarray(a) for a in args)
    where = folder()
    if where is None or not _ffi_ready():
      return self.plain(*args, **kwargs)
    dyn_args = tuple(a for i, a in enumerate(args) if i not in self.static_nums)
    dyn_kwargs = {k: v for k, v in kwargs.items() if k not in self.static_names}
    static = (
      [(i, a) for i, a in enumerate(args) if i in self.static_nums],
      [(k, kwargs[k]) for k in sorted(set(kwargs) & self.static_names)],
    )
    try:
      if self.captured is None:
        self.captured = _describe(self.fn)
      key = self.key(static, dyn_args, dyn_kwargs)
    except _Uncacheable:  # fn captures something the key cannot hold by value: never stored, never loaded
      stats["uncached"] += 1
      return self.plain(*args, **kwargs)
    except TypeError:  # an argument JAX cannot describe without tracing: let jax.jit decide (and fail)
      return self.plain(*args, **kwargs)
    compiled = self.loaded.get(key)
    if compiled is None:
      compiled = self.load(where / key, key)
    if compiled is not None:
      try:
        # Waited for here: an executable that fails when run (errors surface when its results are read) is a miss.
        out = jax.block_until_ready(compiled(*dyn_args, **dyn_kwargs))
        self.loaded[key] = compiled
        return out
      except Exception:  # a stale or damaged executable: compile again below
        self.loaded.pop(key, None)
    return self.compile_and_store(where / key, key, args, kwargs, dyn_args, dyn_kwargs)

  def key(self, static, dyn_args, dyn_kwargs) -> str:
    """The entry's name: everything that decides the executable, nothing that needs a trace."""
    import jax

    leaves, tree = jax.tree.flatten((dyn_args, dyn_kwargs))
    avals = []
    for x in leaves:
      a = jax.typeof(x)  # raises TypeError for what jax.jit would refuse too
      avals.append((tuple(a.shape), str(a.dtype), bool(getattr(a, "weak_type", False))))
    parts = (
      FORMAT,
      _environment(),
      jax.config.jax_enable_x64,
      _sources_digest(self.files),
      self.name,
      self.captured,
      repr(static),
      str(tree),
      avals,
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()

  def load(self, path: Path, key: str):
    """The stored executable for `key`, or None (missing, unreadable, corrupt, another key or version)."""
    from jax.experimental import serialize_executable

    try:
      with _open_own(path) as f:
        fmt, stored_key, blob, in_tree, out_tree = pickle.load(f)
      if fmt != FORMAT or stored_key != key:
        return None
      compiled = serialize_executable.deserialize_and_load(blob, in_tree, out_tree)
    except Exception:
      return None
    stats["loaded"] += 1
    return compiled

  def compile_and_store(self, path: Path, key: str, args, kwargs, dyn_args, dyn_kwargs):
    """Lower and compile once, keep the executable (best effort), and call it."""
    from jax.experimental import serialize_executable

    hits = _jax_cache_hits()
    compiled = self.plain.lower(*args, **kwargs).compile()
    stats["compiled"] += 1
    if _jax_cache_hits() != hits:
      # JAX's persistent cache (on in this process by someone else) answered: an executable read back from
      # it serializes without some of its kernels ("Function ... not found" when called later), so only a
      # fresh compilation is kept. The grader itself leaves JAX's cache off (grader.cases.use_compile_cache).
      return compiled(*dyn_args, **dyn_kwargs)
    try:
      blob, in_tree, out_tree = serialize_executable.serialize(compiled)
    except (ValueError, NotImplementedError):  # e.g. captured constants: no serialized form, just call it
      return compiled(*dyn_args, **dyn_kwargs)
    if _write(path, pickle.dumps((FORMAT, key, blob, in_tree, out_tree), protocol=pickle.HIGHEST_PROTOCOL)):
      stats["stored"] += 1
    self.loaded[key] = compiled
    return compiled(*dyn_args, **dyn_kwargs)


class _Uncacheable(Exception):
  """fn captures a value that _describe cannot put in a key by value: plain jax.jit, never a shared entry."""


_DATA = (type(None), bool, int, float, complex, str, bytes)


def _describe(x, depth: int = 0, seen: frozenset = frozenset()):
  """What of `x` decides a computation that captures it, in a form whose repr is the same in every process.

  The key's file digests hold the source text, not what a function captured when it was made: two lambdas
  of one module share their qualified name ('<lambda>'), and a closure over an array computes with that
  array. So a function counts by its code (bytecode and constants, no file path or line) with its defaults,
  its closure cells and the data globals it names; data by value (arrays by dtype, shape and a sha256 of
  their bytes); modules and classes by name (their code is the source digest's and the versions'). Anything
  else raises _Uncacheable, which makes the wrapper plain jax.jit: a miss every time, never a wrong hit.
  """
  import numpy as np

  if depth > 8:
    raise _Uncacheable("captures nested too deep")
  d, seen_ = depth + 1, seen | {id(x)}
  if isinstance(x, _DATA):
    return (type(x).__name__, repr(x))
  if isinstance(x, (tuple, list)):
    return (type(x).__name__, [_describe(v, d, seen_) for v in x])
  if isinstance(x, dict):
    return ("dict", sorted((repr(_describe(k, d, seen_)), _describe(v, d, seen_)) for k, v in x.items()))
  if isinstance(x, (set, frozenset)):
    return (type(x).__name__, sorted(repr(_describe(v, d, seen_)) for v in x))
  if isinstance(x, types.ModuleType):
    return ("module", x.__name__)
  if isinstance(x, type):
    return ("class", x.__module__, x.__qualname__)
  if isinstance(x, (np.ndarray, np.generic)) or (
    hasattr(x, "__array__") and hasattr(x, "dtype") and hasattr(x, "shape")
  ):
    a = np.ascontiguousarray(np.asarray(x))
    return ("array", str(a.dtype), a.shape, hashlib.sha256(a.tobytes()).hexdigest())
  if isinstance(x, functools.partial):
    return ("partial", _describe(x.func, d, seen_), _describe(x.args, d, seen_), _describe(x.keywords, d, seen_))
  if isinstance(x, types.FunctionType):
    if id(x) in seen:  # a function that captures itself (recursion through a cell)
      return ("function", x.__module__, x.__qualname__)
    code = x.__code__
    named = {n: x.__globals__[n] for n in sorted(_names(code)) if n in x.__globals__ and not n.startswith("__")}
    data = {n: v for n, v in named.items() if not callable(v) and not isinstance(v, types.ModuleType)}
    return (
      "function",
      x.__module__,
      x.__qualname__,
      _code_digest(code),
      _describe(x.__defaults__, d, seen_),
      _describe(x.__kwdefaults__, d, seen_),
      [_describe(c.cell_contents, d, seen_) if _filled(c) else "<empty>" for c in x.__closure__ or ()],
      _describe(data, d, seen_),
    )
  if callable(x) and hasattr(x, "__wrapped__"):  # jax.jit, functools.wraps and the like: what they wrap
    return ("wrapped", type(x).__qualname__, _describe(x.__wrapped__, d, seen_))
  if isinstance(x, (types.BuiltinFunctionType, np.ufunc)):
    return ("builtin", getattr(x, "__module__", None), getattr(x, "__qualname__", x.__name__))
  raise _Uncacheable(f"captures a {type(x).__qualname__}")


def _filled(cell) -> bool:
  try:
    _ = cell.cell_contents
    return True
  except ValueError:
    return False


def _names(code) -> set:
  """The global names `code` and the code nested in it (lambdas, comprehensions) may read."""
  out = set(code.co_names)
  for k in code.co_consts:
    if isinstance(k, types.CodeType):
      out |= _names(k)
  return out


def _code_digest(code) -> str:
  """sha256 of a code object's bytecode, names and constants (nested code included), without file or line."""
  h = hashlib.sha256()

  def add(c) -> None:
    h.update(c.co_code + repr((c.co_names, c.co_varnames, c.co_freevars, c.co_cellvars)).encode())
    for k in c.co_consts:
      if isinstance(k, types.CodeType):
        add(k)
      else:  # a frozenset's repr follows string hashing (random per process): sorted, it does not
        h.update(repr(sorted(map(repr, k)) if isinstance(k, frozenset) else k).encode() + b"\0")

  add(code)
  return h.hexdigest()


def _open_own(path: Path):
  """`path` opened for reading if it is a regular file of this user's that no one else may write, else OSError.

  Unpickling runs code, so only what this user wrote is read: the folder's check (zoo.compile_cache) is made
  once, when the cache is turned on, and a folder swapped after it (by whoever owns a folder above it) must
  not hand its entries in. No link is followed, and a FIFO or device in the folder is neither waited on nor read.
  """
  fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
  try:
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o022:
      raise PermissionError(f"{path}: not a private file of this user's")
    return os.fdopen(fd, "rb")
  except BaseException:
    os.close(fd)
    raise


@functools.cache
def _ffi_ready() -> bool:
  """Make ready the native kernels an executable may call without its lowering having run (once).

  Lowering a linear-algebra op on the CPU initializes jaxlib's LAPACK bindings; a deserialized executable
  that calls them in a process that never lowered one crashes (SIGSEGV, seen with deep_cca_loss's
  Cholesky). jax.export does the same before calling a deserialized function
  (jax/_src/export/_export.py, _ensure_backends_initialized). Where that hook has moved, no executable
  is loaded (False: plain jax.jit) rather than risk the crash.
  """
  try:
    from jax._src.lax import linalg

    linalg.initialize_lapack()
    return True
  except Exception:
    return False


_hits = [0]


def _jax_cache_hits() -> int:
  """How many times JAX's own persistent cache answered a compilation in this process (0 when it is off)."""
  _listen()
  return _hits[0]


@functools.cache
def _listen() -> None:
  import jax.monitoring

  def count(event: str, **_) -> None:
    if event == "/jax/compilation_cache/cache_hits":
      _hits[0] += 1

  jax.monitoring.register_event_listener(count)


def _write(path: Path, data: bytes) -> bool:
  """Write `data` to `path` atomically, 0600; False when that failed (full disk, folder gone: only the entry is lost)."""
  tmp = None
  try:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")  # mkstemp creates it 0600
    with os.fdopen(fd, "wb") as f:
      f.write(data)
    os.replace(tmp, path)
    tmp = None
    return True
  except OSError:
    return False
  finally:
    if tmp is not None:
      try:
        os.unlink(tmp)
      except OSError:
        pass


@functools.cache
def _environment() -> tuple:
  """Versions, platform and options that change a compiled executable (once per process)."""
  import flax
  import jax
  import jaxlib
  import numpy as np

  dev = jax.devices()[0]
  cpu_flags = ""
  try:
    with open("/proc/cpuinfo") as f:
      cpu_flags = next((line for line in f if line.startswith(("flags", "Features"))), "")
  except OSError:
    pass
  options = {
    name: str(getattr(jax.config, name, None))
    for name in (
      "jax_default_matmul_precision",
      "jax_numpy_dtype_promotion",
      "jax_default_prng_impl",
      "jax_threefry_partitionable",
      "jax_numpy_rank_promotion",
    )
  }
  return (
    jax.__version__,
    jaxlib.__version__,
    flax.__version__,
    np.__version__,
    sys.version,
    dev.client.platform,
    dev.client.platform_version,
    dev.device_kind,
    len(jax.devices()),
    platform.machine(),
    hashlib.sha256(cpu_flags.encode()).hexdigest(),
    os.environ.get("XLA_FLAGS", ""),
    sorted(options.items()),
  )


@functools.cache
def _common_files() -> tuple[str, ...]:
  """The zoo package's .py files, grader/draw.py, grader/cases.py and this file."""
  zoo = sorted(str(p) for p in (ROOT / "zoo").rglob("*.py"))
  return tuple(zoo) + tuple(str(ROOT / "grader" / f) for f in ("draw.py", "cases.py", "refjit.py"))


@functools.cache
def _sources_digest(files: tuple[str, ...]) -> str:
  """sha256 over the common source files, the files given and every file of their folders (once per process)."""
  paths = set(_common_files())
  for f in files:
    paths.add(f)
    folder_ = Path(f).parent
    if not folder_.is_relative_to(ROOT / "zoo") and folder_ != ROOT / "grader":  # a record's folder: all of it
      paths.update(str(p) for p in folder_.iterdir() if p.is_file())
  h = hashlib.sha256()
  for p in sorted(paths):
    name = os.path.relpath(p, ROOT) if Path(p).is_relative_to(ROOT) else p  # a checkout moved keeps its keys
    h.update(name.encode() + b"\0")
    try:
      h.update(Path(p).read_bytes())
    except OSError:
      h.update(b"<unreadable>")
    h.update(b"\0")
  return h.hexdigest()
