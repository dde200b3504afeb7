"""Shared optimization memory: a SQLite store of past distillation runs, as JSON rows.

Every ``fit`` may record one row: the data's fingerprint and meta-features, the
configuration tried, its validation scores, timings and package versions. Later fits
look up the runs on the same data (:meth:`OptimizationMemory.runs`) or on the most
similar data (:meth:`OptimizationMemory.nearest`) to propose configurations. A seeded
fit also stores its trained student under a key of everything the fit depends on
(:meth:`OptimizationMemory.store_student`), so that repeating the same fit restores
it instead of training it again.

Values are JSON text, never pickles, so opening a memory file cannot run code: arrays
(a student's weights) are stored as base64 text of their raw bytes with their dtype
and shape (:func:`encode_arrays`), and only plain numeric dtypes are read back. The
file is in WAL mode with a busy timeout, and carries a schema version. Only the process
that called ``fit`` writes; parallel workers return their results to it.

The memory is a convenience, never a requirement: a corrupt, read-only, locked or
newer-versioned file makes it carry on without memory and emit a :class:`MemoryWarning`
naming the path and the problem. It never raises a storage error to the caller and
never deletes the user's file.
"""

import base64
import contextlib
import hashlib
import importlib.metadata
import json
import math
import os
import sqlite3
import sys
import time
import warnings
from pathlib import Path

import numpy as np

#: Version of the table layout, kept in ``PRAGMA user_version``.
SCHEMA_VERSION = 2

#: Runs kept (the most recently recorded, and those a stored student was trained in);
#: older ones are deleted when a new one is recorded. A run is about 5 KB of JSON.
MAX_STORED_RUNS = 10_000

#: Students kept (the most recently stored); older ones are deleted when a new one is
#: stored.
MAX_STORED_STUDENTS = 32

#: Largest stored student, in characters of JSON (a larger one is not stored).
MAX_STUDENT_CHARS = 32_000_000

#: Most characters of JSON all stored students hold together; the oldest beyond it are
#: deleted when a new one is stored (typical students are 0.1-0.5 million).
MAX_STORED_STUDENT_CHARS = 256_000_000

#: Seconds a write waits for another process's lock before giving up on that write.
DEFAULT_TIMEOUT = 10.0

#: Seconds between retries when SQLite reports a lock without waiting for it.
_LOCK_RETRY_PAUSE = 0.02

#: Environment variable that overrides :func:`default_memory_path`.
MEMORY_PATH_ENV = "SKHPMKD_MEMORY"

#: JSON columns of a run, in table order (after ``id``, ``created``, ``fingerprint``).
JSON_FIELDS = ("meta_features", "config", "scores", "timings", "versions")

_COLUMNS = ("id", "created", "fingerprint") + JSON_FIELDS

_CREATE_RUNS = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    created REAL,
    fingerprint TEXT,
    meta_features TEXT,
    config TEXT,
    scores TEXT,
    timings TEXT,
    versions TEXT
)"""

_CREATE_FINGERPRINT_INDEX = (
    "CREATE INDEX IF NOT EXISTS runs_fingerprint ON runs (fingerprint)")

_CREATE_STUDENTS = """
CREATE TABLE IF NOT EXISTS students (
    key TEXT PRIMARY KEY,
    created REAL,
    run_id INTEGER,
    payload TEXT
)"""

#: Tables and indexes of a skhpmkd memory (SQLite's own are not listed).
_OWN_NAMES = {"runs", "runs_fingerprint", "students"}

#: Dtypes :func:`decode_arrays` reads back (plain numbers: no objects, no pickles).
_ARRAY_KINDS = "biuf"

#: Distributions whose versions are recorded with each run (plus Python itself).
_VERSIONED_DISTRIBUTIONS = ("numpy", "scikit-learn", "torch", "skorch", "xgboost",
                            "skhpmkd")

# Primary SQLite result codes (https://sqlite.org/rescode.html).
_SQLITE_PERM, _SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY = 3, 5, 6, 8
_SQLITE_CORRUPT, _SQLITE_CANTOPEN, _SQLITE_NOTADB = 11, 14, 26


class MemoryWarning(UserWarning):
    """The optimization memory could not be used; ``fit`` carries on without it."""


class _Unusable(Exception):
    """The file is intact but is not one this version may use (newer or foreign)."""


class _Corrupt(Exception):
    """``PRAGMA quick_check`` found the file damaged."""


def default_memory_path():
    """Where the optimization memory lives unless the caller says otherwise.

    ``$SKHPMKD_MEMORY`` when set; otherwise ``skhpmkd/memory.sqlite`` in the user's
    cache directory: ``%LOCALAPPDATA%`` on Windows; ``$XDG_CACHE_HOME`` when set to
    an absolute path on other systems; else ``~/Library/Caches`` on macOS and
    ``~/.cache`` elsewhere.

    Returns
    -------
    pathlib.Path
    """
    override = os.environ.get(MEMORY_PATH_ENV)
    if override:
        return Path(override).expanduser()
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        cache = Path(local) if local else Path.home() / "AppData" / "Local"
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        if xdg and os.path.isabs(xdg):
            cache = Path(xdg)
        elif sys.platform == "darwin":
            cache = Path.home() / "Library" / "Caches"
        else:
            cache = Path.home() / ".cache"
    return cache / "skhpmkd" / "memory.sqlite"


def open_memory(memory):
    """Resolve the classifier's ``memory`` parameter to a store, or None.

    Parameters
    ----------
    memory : "auto", bool, None, str, os.PathLike or OptimizationMemory
        ``"auto"`` or True: the store at :func:`default_memory_path`. None or False:
        no memory. Any other str or path-like: the store at that path. An
        :class:`OptimizationMemory`: itself.

    Returns
    -------
    OptimizationMemory or None

    Raises
    ------
    TypeError
        For any other type.
    """
    if isinstance(memory, OptimizationMemory):
        return memory
    if memory is None or memory is False:
        return None
    if memory is True or (isinstance(memory, str) and memory == "auto"):
        return OptimizationMemory(default_memory_path())
    if isinstance(memory, (str, os.PathLike)) and isinstance(os.fspath(memory), str):
        return OptimizationMemory(memory)
    raise TypeError("memory must be 'auto', True, False, None, a path or an "
                    f"OptimizationMemory; got {type(memory).__name__} {memory!r}.")


def package_versions():
    """Versions of Python and of the packages a run's results depend on.

    Returns
    -------
    dict of str to str or None
        Keys ``"python"``, ``"numpy"``, ``"scikit-learn"``, ``"torch"``,
        ``"skorch"``, ``"xgboost"`` and ``"skhpmkd"``; None for a package that is not
        installed.
    """
    versions = {"python": ".".join(map(str, sys.version_info[:3]))}
    for name in _VERSIONED_DISTRIBUTIONS:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    if versions["skhpmkd"] is None:  # a source checkout that is not installed
        versions["skhpmkd"] = getattr(sys.modules.get("skhpmkd"), "__version__", None)
    return versions


def _hash_array(digest, array):
    array = np.asarray(array)
    digest.update(f"{array.shape}|{array.dtype.str}|".encode())
    if array.dtype.hasobject:  # the bytes are pointers; hash the values' text
        digest.update("\x1f".join(map(repr, array.ravel().tolist())).encode())
    else:
        digest.update(np.ascontiguousarray(array).data)


def data_fingerprint(X, y=None, sample_weight=None):
    """SHA-256 of the data's shape, dtype and bytes: equal data, equal fingerprint.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,), default=None
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights; None leaves the fingerprint of the unweighted data.

    Returns
    -------
    str
        64 hexadecimal digits. Any change to a value, a label, a weight, the shape or
        the dtype changes it.
    """
    digest = hashlib.sha256(b"skhpmkd-data-v1|")
    _hash_array(digest, X)
    digest.update(b"|y|")
    if y is not None:
        _hash_array(digest, y)
    if sample_weight is not None:
        digest.update(b"|sample_weight|")
        _hash_array(digest, sample_weight)
    return digest.hexdigest()


def _check_positive_int(value, name):
    """Raise ValueError unless ``value`` is an int (not a bool) of at least 1."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive int; got {value!r}.")


def _to_json(value, where="value"):
    """``value`` as plain JSON types: numpy scalars and arrays unwrapped, tuples as lists.

    Raises TypeError for anything else (it is never pickled); ``where`` names the
    offending item in the message.
    """
    if value is None:
        return None
    if isinstance(value, (np.bool_, np.integer, np.floating)):
        return value.item()
    for plain in (bool, int, float, str):  # also unwraps subclasses (np.float64, enums)
        if isinstance(value, plain):
            return plain(value)
    if isinstance(value, np.ndarray):
        return _to_json(value.tolist(), where)
    if isinstance(value, dict):
        converted = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where} has a key {key!r} of type "
                                f"{type(key).__name__}; JSON object keys must be str.")
            converted[str(key)] = _to_json(item, f"{where}[{key!r}]")
        return converted
    if isinstance(value, (list, tuple)):
        return [_to_json(item, f"{where}[{index}]") for index, item in enumerate(value)]
    raise TypeError(f"{where} is a {type(value).__name__}, which is not JSON "
                    "serialisable; the memory stores JSON only, never pickles.")


def encode_arrays(value):
    """``value`` with every ndarray replaced by JSON text of its bytes.

    An array becomes ``{"__ndarray__": <base64 of its bytes>, "dtype": ..., "shape":
    ...}``; dicts, lists and tuples are walked. The exact values come back through
    :func:`decode_arrays`. Arrays of objects are refused (TypeError).
    """
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in _ARRAY_KINDS:
            raise TypeError(f"cannot store an array of dtype {value.dtype}; only "
                            "numbers are stored.")
        return {"__ndarray__": base64.b64encode(np.ascontiguousarray(value).data)
                .decode("ascii"), "dtype": value.dtype.str, "shape": list(value.shape)}
    if isinstance(value, dict):
        return {key: encode_arrays(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode_arrays(item) for item in value]
    return value


def decode_arrays(value):
    """Inverse of :func:`encode_arrays` (tuples come back as lists).

    Raises ValueError for an encoded array whose dtype is not a plain number or whose
    bytes do not fit its shape.
    """
    if isinstance(value, dict) and "__ndarray__" in value:
        dtype = np.dtype(value["dtype"])
        if dtype.kind not in _ARRAY_KINDS:
            raise ValueError(f"stored array has dtype {dtype}; only numbers are read.")
        data = base64.b64decode(value["__ndarray__"].encode("ascii"), validate=True)
        return np.frombuffer(data, dtype=dtype).reshape(value["shape"]).copy()
    if isinstance(value, dict):
        return {key: decode_arrays(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode_arrays(item) for item in value]
    return value


def _dumps(value, name):
    if not isinstance(value, dict):
        raise TypeError(f"{name} must be a dict; got {type(value).__name__}.")
    return json.dumps(_to_json(value, name), sort_keys=True)


@contextlib.contextmanager
def _write_transaction(connection):
    """An immediate (write-locking) transaction: committed at the end of the block,
    rolled back if the block raises."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise


def _file_identity(path):
    """(device, inode) of the file at ``path``, or None where there is none."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_dev, status.st_ino


def _fault_kind(exc):
    """``"corrupt"``, ``"locked"``, ``"read-only"`` or ``"other"`` for a sqlite3 error."""
    code = getattr(exc, "sqlite_errorcode", None)  # Python 3.11+
    if code is not None:
        primary = code & 0xFF
        if primary in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
            return "corrupt"
        if primary in (_SQLITE_BUSY, _SQLITE_LOCKED):
            return "locked"
        if primary in (_SQLITE_READONLY, _SQLITE_CANTOPEN, _SQLITE_PERM):
            return "read-only"
        return "other"
    message = str(exc).lower()
    if "malformed" in message or "not a database" in message:
        return "corrupt"
    if "locked" in message or "busy" in message:
        return "locked"
    if "readonly" in message or "unable to open" in message:
        return "read-only"
    return "other"


def _distance_scales(rows, keys):
    """Standard deviation of each key over ``rows``; 1 where it is zero or undefined."""
    scales = {}
    for key in keys:
        values = [row[key] for row in rows if key in row]
        spread = float(np.std(values)) if len(values) > 1 else 0.0
        scales[key] = spread if spread > 0 and math.isfinite(spread) else 1.0
    return scales


def _numeric_items(features):
    """The finite numeric (non-bool) entries of a meta-feature dict."""
    if not isinstance(features, dict):
        return {}
    return {key: float(value) for key, value in features.items()
            if isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value)}


class OptimizationMemory:
    """A disk-backed store of past distillation runs (SQLite, JSON values).

    Nothing touches the disk until the first method call. That call creates the
    directory and the file if needed, checks the file (``PRAGMA quick_check``) and its
    schema version, and switches it to WAL mode. Each operation then opens its own
    short-lived connection, so an instance can be shared with forked processes.

    Faults never raise; each emits a :class:`MemoryWarning` naming the path:

    - corrupt or truncated file: it is moved aside to ``<name>.corrupt-<timestamp>``
      (with its ``-wal``/``-shm``/``-journal`` files) and a fresh, empty store is
      started at the original path. If it cannot be moved, the memory is off.
    - read-only location: ``available`` becomes False and :meth:`record` returns
      None; reads still work where SQLite can open the file read-only, also in a
      directory that cannot be written (the file as it is on disk).
    - locked file (another writer holds the lock longer than ``timeout``): that
      operation is skipped (:meth:`record` returns None, reads return nothing); the
      next one tries again.
    - file written by a newer schema version, or a SQLite file that is not a skhpmkd
      memory: left untouched; the memory is off (no reads, no writes).

    Parameters
    ----------
    path : str or os.PathLike
        The SQLite file.
    timeout : float, default=10.0
        Seconds to wait for another process's lock before skipping an operation.
    max_runs : int, default=10_000
        Runs kept: recording a run deletes those older than the ``max_runs`` most
        recent ones (except the runs of stored students), so the file stops growing
        (SQLite reuses the freed pages).

    Attributes
    ----------
    path : pathlib.Path
        The SQLite file.
    available : bool
        Whether runs can be recorded; False once the memory degraded.
    """

    def __init__(self, path, timeout=DEFAULT_TIMEOUT, max_runs=MAX_STORED_RUNS):
        _check_positive_int(max_runs, "max_runs")
        self.path = Path(os.fspath(path)).expanduser()
        self.timeout = float(timeout)
        self.max_runs = int(max_runs)
        self.available = True
        self._readable = True
        self._opened = False
        self._immutable = False  # read the file as it is on disk (see _attempt)
        self._checked_file = None  # identity of the file _open last checked

    def __repr__(self):
        return f"{type(self).__name__}({str(self.path)!r})"

    # -- public API -----------------------------------------------------------------

    def record(self, *, fingerprint, meta_features, config, scores, timings,
               versions=None):
        """Store one run (and forget the runs beyond ``max_runs``).

        Parameters
        ----------
        fingerprint : str
            The data's :func:`data_fingerprint`.
        meta_features : dict
            Dataset meta-features (name to float).
        config : dict
            The configuration tried.
        scores : dict
            Its validation scores.
        timings : dict
            Seconds spent per stage.
        versions : dict, default=None
            Package versions; None records :func:`package_versions`.

        Returns
        -------
        int or None
            The new row's id; None when the memory is unavailable or locked.

        Raises
        ------
        TypeError
            If a value is not JSON serialisable (numpy scalars and arrays and tuples
            are converted; nothing is ever pickled). Checked before the disk is used.
        """
        if not isinstance(fingerprint, str):
            raise TypeError("fingerprint must be a str; got "
                            f"{type(fingerprint).__name__}.")
        if versions is None:
            versions = package_versions()
        row = (time.time(), fingerprint, _dumps(meta_features, "meta_features"),
               _dumps(config, "config"), _dumps(scores, "scores"),
               _dumps(timings, "timings"), _dumps(versions, "versions"))

        def insert(connection):
            with _write_transaction(connection):
                run_id = connection.execute(
                    f"INSERT INTO runs ({', '.join(_COLUMNS[1:])}) VALUES "
                    f"({', '.join('?' * len(row))})", row).lastrowid
                # ids grow by one a run: those up to run_id - max_runs are older
                connection.execute(
                    "DELETE FROM runs WHERE id <= ? AND id NOT IN (SELECT run_id "
                    "FROM students WHERE run_id IS NOT NULL)",
                    (run_id - self.max_runs,))
            return run_id

        return self._attempt(insert, None, write=True, action="the run is not recorded")

    def runs(self, fingerprint=None, limit=None):
        """Stored runs, newest first.

        Parameters
        ----------
        fingerprint : str, default=None
            Only runs on data with this fingerprint; None: all runs.
        limit : int, default=None
            At most this many runs; None: no limit.

        Returns
        -------
        list of dict
            Keys ``id``, ``created`` (Unix time), ``fingerprint``, ``meta_features``,
            ``config``, ``scores``, ``timings`` and ``versions`` (parsed JSON).
        """
        if limit is not None and (not isinstance(limit, (int, np.integer)) or limit < 0):
            raise ValueError(f"limit must be a non-negative int or None; got {limit!r}.")
        query, parameters = f"SELECT {', '.join(_COLUMNS)} FROM runs", []
        if fingerprint is not None:
            query += " WHERE fingerprint = ?"
            parameters.append(fingerprint)
        query += " ORDER BY id DESC"
        if limit is not None:
            query += " LIMIT ?"
            parameters.append(int(limit))

        def select(connection):
            return self._parse_rows(connection.execute(query, parameters).fetchall())

        return self._attempt(select, [], write=False, action="no past runs are read")

    def nearest(self, meta_features, k=5):
        """The ``k`` runs whose meta-features are closest to ``meta_features``.

        The distance is Euclidean over the standardised differences of the keys that
        both have (each key divided by its standard deviation over the stored runs
        and the query), divided by the square root of their number, so runs that
        share fewer keys are not favoured. Runs with no numeric key in common are
        skipped; ties keep the newer run first.

        Parameters
        ----------
        meta_features : dict
            Meta-features of the data at hand (name to float).
        k : int, default=5
            Most runs to return.

        Returns
        -------
        list of dict
            As :meth:`runs`, nearest first, each with an added ``distance``.
        """
        _check_positive_int(k, "k")
        query = _numeric_items(_to_json(dict(meta_features), "meta_features"))

        def closest(connection):
            candidates = []
            for run_id, text in connection.execute(
                    "SELECT id, meta_features FROM runs ORDER BY id DESC"):
                try:
                    features = _numeric_items(json.loads(text))
                except (TypeError, ValueError):
                    continue
                if features.keys() & query.keys():
                    candidates.append((run_id, features))
            scales = _distance_scales([features for _, features in candidates]
                                      + [query], query.keys())
            scored = []
            for run_id, features in candidates:
                common = features.keys() & query.keys()
                squares = sum(((features[key] - query[key]) / scales[key]) ** 2
                              for key in common)
                scored.append((math.sqrt(squares / len(common)), run_id))
            scored.sort(key=lambda item: item[0])  # stable: newer first among ties
            chosen = scored[:int(k)]
            if not chosen:
                return []
            rows = connection.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM runs WHERE id IN "
                f"({', '.join('?' * len(chosen))})", [run_id for _, run_id in chosen])
            by_id = {run["id"]: run for run in self._parse_rows(rows.fetchall())}
            return [dict(by_id[run_id], distance=distance)
                    for distance, run_id in chosen if run_id in by_id]

        return self._attempt(closest, [], write=False, action="no past runs are read")

    def store_student(self, key, payload, run_id=None):
        """Store a trained student under ``key`` (replacing one stored there).

        Only the :data:`MAX_STORED_STUDENTS` most recent students are kept, and of
        those only the most recent that hold :data:`MAX_STORED_STUDENT_CHARS`
        together; a payload larger than :data:`MAX_STUDENT_CHARS` is not stored.

        Parameters
        ----------
        key : str
            What the student depends on, hashed (see ``HPMKDClassifier``).
        payload : dict
            JSON values; arrays go through :func:`encode_arrays` first.
        run_id : int or None, default=None
            The run of :meth:`record` that trained it.

        Returns
        -------
        bool
            Whether it was stored.
        """
        text = _dumps(payload, "payload")
        if len(text) > MAX_STUDENT_CHARS:
            return False

        def insert(connection):
            with _write_transaction(connection):
                connection.execute(
                    "INSERT OR REPLACE INTO students (key, created, run_id, payload) "
                    "VALUES (?, ?, ?, ?)", (str(key), time.time(), run_id, text))
                connection.execute(  # the newest first, up to either cap
                    "DELETE FROM students WHERE key IN (SELECT key FROM (SELECT key, "
                    "ROW_NUMBER() OVER newest AS rank, "
                    "SUM(length(payload)) OVER newest AS held FROM students "
                    "WINDOW newest AS (ORDER BY created DESC, key)) "
                    "WHERE rank > ? OR held > ?)",
                    (MAX_STORED_STUDENTS, max(MAX_STORED_STUDENT_CHARS, len(text))))
            return True

        return self._attempt(insert, False, write=True,
                             action="the student is not stored")

    def stored_student(self, key):
        """The payload stored under ``key`` with its ``run_id``, or None."""
        def select(connection):
            if connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                                  "name = 'students'").fetchone() is None:
                return None  # a version 1 file this process may not upgrade
            return connection.execute(
                "SELECT run_id, payload FROM students WHERE key = ?",
                (str(key),)).fetchone()

        found = self._attempt(select, None, write=False,
                              action="no stored student is read")
        if found is None:
            return None
        try:
            payload = json.loads(found[1])
        except (TypeError, ValueError):
            self._warn("skipped a stored student whose value is not valid JSON")
            return None
        return {"run_id": found[0], "payload": payload}

    def __len__(self):
        def count(connection):
            return connection.execute("SELECT count(*) FROM runs").fetchone()[0]

        return self._attempt(count, 0, write=False, action="no past runs are read")

    # -- internals ----------------------------------------------------------------

    def _warn(self, problem):
        level, frame = 1, sys._getframe(0)
        while frame is not None and frame.f_globals.get("__name__") == __name__:
            level, frame = level + 1, frame.f_back  # point at the caller's line
        warnings.warn(f"optimization memory {str(self.path)!r}: {problem}.",
                      MemoryWarning, stacklevel=level)

    def _turn_off(self, problem):
        self.available = self._readable = False
        self._opened = True
        self._warn(f"{problem}; carrying on without memory")

    @contextlib.contextmanager
    def _connect(self, read_only=False):
        if read_only:
            query = "?immutable=1" if self._immutable else "?mode=ro"
            target, uri = self.path.absolute().as_uri() + query, True
        else:
            target, uri = str(self.path), False
        connection = sqlite3.connect(target, timeout=self.timeout, uri=uri,
                                     isolation_level=None)
        try:
            connection.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            yield connection
        finally:
            connection.close()

    def _attempt(self, operation, fallback, *, write, action):
        """Run ``operation(connection)``, turning every storage fault into a warning.

        SQLite's busy handler does not cover every lock conflict (switching a new file
        to WAL mode, for one, fails at once while another process reads it), so a
        "locked" error is retried here until ``timeout`` has passed.
        """
        deadline = time.monotonic() + self.timeout
        started_fresh = False
        while self.available if write else self._readable:
            try:
                if not self._opened:
                    self._open()
                with self._connect(read_only=not self.available) as connection:
                    return operation(connection)
            except _Unusable as exc:
                self._turn_off(str(exc))
            except OSError as exc:  # the directory could not be created
                self._turn_off(f"cannot be created ({exc})")
            except (_Corrupt, sqlite3.Error) as exc:
                kind = "corrupt" if isinstance(exc, _Corrupt) else _fault_kind(exc)
                if kind == "corrupt":
                    if started_fresh:
                        self._turn_off(f"is corrupt again after starting fresh ({exc})")
                    elif self._move_aside(exc):
                        started_fresh = True
                        continue  # a fresh store now sits at the path
                elif kind == "locked":
                    if time.monotonic() < deadline:
                        time.sleep(_LOCK_RETRY_PAUSE)
                        continue
                    self._warn(f"is locked by another process after waiting "
                               f"{self.timeout:g} s ({exc}); {action}")
                elif kind == "read-only" and self.available and self.path.is_file():
                    self.available, self._opened = False, True
                    self._warn(f"cannot be written ({exc}); runs are not recorded, "
                               "past runs are still read")
                    continue  # a read goes on through a read-only connection
                elif (kind == "read-only" and not self.available
                      and not self._immutable and self.path.is_file()):
                    # a WAL-mode file whose directory cannot be written: SQLite
                    # cannot create its shared-memory file, even to read, so the
                    # file is read as it is on disk (no writer can run there)
                    self._immutable = True
                    continue
                elif kind == "read-only":
                    self._turn_off(f"cannot be opened or written ({exc})")
                else:
                    self._turn_off(f"cannot be used ({type(exc).__name__}: {exc})")
            return fallback
        return fallback

    def _open(self):
        """First use: create, check and (if needed) set up the file."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as connection:
            self._checked_file = _file_identity(self.path)
            problems = [row[0] for row in connection.execute("PRAGMA quick_check")]
            if problems != ["ok"]:
                raise _Corrupt("; ".join(problems[:3]))
            needs_setup = self._schema_needs_setup(connection)
            if connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                connection.execute("PRAGMA journal_mode = WAL")
            if needs_setup:
                with _write_transaction(connection):
                    if self._schema_needs_setup(connection):  # another process may
                        connection.execute(_CREATE_RUNS)       # have done it meanwhile
                        connection.execute(_CREATE_FINGERPRINT_INDEX)
                        connection.execute(_CREATE_STUDENTS)
                        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        self._opened = True

    def _schema_needs_setup(self, connection):
        """Whether tables must be created; raises _Unusable for files not ours to use."""
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION or version < 0:
            raise _Unusable(f"it has schema version {version}, which this skhpmkd does "
                            f"not know (newest: {SCHEMA_VERSION}); upgrade skhpmkd or "
                            "choose another memory path")
        names = {row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'index') "
            "AND name NOT LIKE 'sqlite_%'")}
        foreign = names - _OWN_NAMES
        columns = {row[1] for row in connection.execute("PRAGMA table_info(runs)")}
        if foreign or (columns and not set(_COLUMNS) <= columns):
            raise _Unusable("it is a SQLite file but not a skhpmkd memory; it is left "
                            "untouched")
        return version < SCHEMA_VERSION or names != _OWN_NAMES

    def _move_aside(self, exc):
        """Move a corrupt file (and its side files) aside; True if the path is free.
        A file other than the one found corrupt (another process moved that aside and
        started a fresh store meanwhile) stays where it is."""
        if _file_identity(self.path) != self._checked_file:
            self._opened = False
            return True
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        serial = 1
        while target.exists():
            target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{serial}")
            serial += 1
        try:
            os.replace(self.path, target)
            for suffix in ("-wal", "-shm", "-journal"):
                side = self.path.with_name(self.path.name + suffix)
                if side.exists():
                    os.replace(side, target.with_name(target.name + suffix))
        except OSError as move_error:
            self._turn_off(f"is corrupt ({exc}) and could not be moved aside "
                           f"({move_error})")
            return False
        self._opened = False
        self._warn(f"is corrupt ({exc}); moved it to {target.name!r} and started a "
                   "fresh memory")
        return True

    def _parse_rows(self, rows):
        parsed, skipped = [], 0
        for row in rows:
            run = dict(zip(_COLUMNS, row))
            try:
                for name in JSON_FIELDS:
                    run[name] = json.loads(run[name]) if run[name] is not None else None
            except (TypeError, ValueError):
                skipped += 1
                continue
            parsed.append(run)
        if skipped:
            self._warn(f"skipped {skipped} run(s) whose values are not valid JSON")
        return parsed
