"""Optimization memory: JSON rows, fingerprints, look-ups, paths, faults, concurrency."""

import json
import multiprocessing
import os
import pickle
import sqlite3
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

from skhpmkd.memory import (
    SCHEMA_VERSION,
    _fault_kind,
    MemoryWarning,
    OptimizationMemory,
    data_fingerprint,
    default_memory_path,
    open_memory,
    package_versions,
)

RUN_KEYS = {"id", "created", "fingerprint", "meta_features", "config", "scores",
            "timings", "versions"}
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def record_run(memory, fingerprint="data", **values):
    """Record a small run; ``values`` override any of the dict fields."""
    fields = dict(meta_features={"n_samples": 100.0}, config={"alpha": 0.5},
                  scores={"val_log_loss": 0.3}, timings={"fit": 1.0}, versions={})
    fields.update(values)
    return memory.record(fingerprint=fingerprint, **fields)


@pytest.fixture
def memory_path(tmp_path):
    return tmp_path / "memory.sqlite"


@pytest.fixture
def no_memory_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error", MemoryWarning)
        yield


def corrupt_copies(path):
    return sorted(path.parent.glob(path.name + ".corrupt-*"))


# -- round trip ----------------------------------------------------------------------

def test_record_and_runs_round_trip_numpy_values(memory_path, no_memory_warnings):
    memory = OptimizationMemory(memory_path)
    assert not memory_path.exists()  # nothing touches the disk before the first use
    first = memory.record(
        fingerprint="a",
        meta_features={"n_samples": np.int64(120), "class_ratio": np.float32(0.5)},
        config={"hidden_units": (16, 8), "temperature": np.float64(4.0),
                "weights": np.array([[0.25, 0.75]], dtype=np.float32),
                "early_stopping": np.bool_(True), "nested": {"steps": (np.int32(2),)}},
        scores={"val_log_loss": np.float32(0.25)},
        timings={"fit": 1.5},
        versions={"numpy": np.__version__})
    second = record_run(memory, fingerprint="b")
    third = record_run(memory, fingerprint="a", versions=None)
    assert isinstance(first, int) and first < second < third

    runs = memory.runs()
    assert [run["id"] for run in runs] == [third, second, first]  # newest first
    assert all(set(run) == RUN_KEYS for run in runs)
    assert runs[0]["created"] >= runs[1]["created"] >= runs[2]["created"]
    oldest = runs[2]
    assert oldest["fingerprint"] == "a"
    assert oldest["meta_features"] == {"n_samples": 120, "class_ratio": 0.5}
    assert type(oldest["meta_features"]["n_samples"]) is int
    assert type(oldest["meta_features"]["class_ratio"]) is float
    assert oldest["config"] == {"hidden_units": [16, 8], "temperature": 4.0,
                                "weights": [[0.25, 0.75]], "early_stopping": True,
                                "nested": {"steps": [2]}}
    assert oldest["config"]["early_stopping"] is True
    assert type(oldest["scores"]["val_log_loss"]) is float
    assert oldest["timings"] == {"fit": 1.5}
    assert oldest["versions"] == {"numpy": np.__version__}
    assert runs[0]["versions"] == package_versions()  # versions=None records them

    assert [run["id"] for run in memory.runs(fingerprint="a")] == [third, first]
    assert [run["id"] for run in memory.runs(limit=1)] == [third]
    assert [run["id"] for run in memory.runs(fingerprint="a", limit=5)] == [third, first]
    assert memory.runs(fingerprint="unknown") == []
    assert memory.runs(limit=0) == []
    assert len(memory) == 3
    assert len(OptimizationMemory(memory_path)) == 3  # another instance sees the rows


def test_runs_rejects_bad_limit_and_nearest_bad_k(memory_path):
    memory = OptimizationMemory(memory_path)
    with pytest.raises(ValueError, match="limit"):
        memory.runs(limit=-1)
    with pytest.raises(ValueError, match="k must"):
        memory.nearest({"n": 1.0}, k=0)


def test_only_the_most_recent_runs_are_kept(memory_path, no_memory_warnings):
    memory = OptimizationMemory(memory_path, max_runs=4)
    ids = [record_run(memory, fingerprint=f"data{i}") for i in range(3)]
    assert memory.store_student("key", {"weights": [1.0]}, run_id=ids[0])
    ids += [record_run(memory, fingerprint=f"data{i}") for i in range(3, 9)]
    # the four newest, and the run that trained the stored student
    assert [run["id"] for run in memory.runs()] == ids[:-5:-1] + [ids[0]]
    assert memory.stored_student("key")["run_id"] == ids[0]
    assert len(OptimizationMemory(memory_path)) == 5  # the default keeps every row
    with pytest.raises(ValueError, match="max_runs"):
        OptimizationMemory(memory_path, max_runs=0)


def test_package_versions_lists_the_stack():
    versions = package_versions()
    assert set(versions) == {"python", "numpy", "scikit-learn", "torch", "skorch",
                             "xgboost", "skhpmkd"}
    assert versions["numpy"] == np.__version__
    assert versions["python"] == ".".join(map(str, sys.version_info[:3]))
    assert versions["skhpmkd"] is not None
    json.dumps(versions)


# -- JSON, never pickles -------------------------------------------------------------

def test_file_holds_json_text_not_pickles(memory_path, no_memory_warnings):
    memory = OptimizationMemory(memory_path)
    record_run(memory, config={"hidden_units": (32,), "lr": np.float32(0.01)})
    with sqlite3.connect(memory_path) as connection:
        columns = ("meta_features", "config", "scores", "timings", "versions")
        types = connection.execute(
            "SELECT " + ", ".join(f"typeof({name})" for name in columns)
            + " FROM runs").fetchall()
        values = connection.execute(
            "SELECT " + ", ".join(columns) + " FROM runs").fetchall()
        declared = {row[1]: row[2]
                    for row in connection.execute("PRAGMA table_info(runs)")}
    connection.close()
    assert types == [("text",) * len(columns)]  # a pickle would be stored as a blob
    assert all(declared[name] == "TEXT" for name in columns)
    for text in values[0]:
        assert isinstance(text, str) and not text.startswith("\x80")
        json.loads(text)
    assert json.loads(values[0][1]) == {"hidden_units": [32], "lr": pytest.approx(0.01)}


class _NotJSON:
    pass


@pytest.mark.parametrize("bad", [_NotJSON(), {1, 2}, b"bytes", np.complex128(1j),
                                 np.array([_NotJSON()], dtype=object), {1: "int key"}])
def test_values_that_are_not_json_raise_type_error(memory_path, bad):
    memory = OptimizationMemory(memory_path)
    with pytest.raises(TypeError, match="config"):
        record_run(memory, config={"value": bad} if not isinstance(bad, dict) else bad)
    with pytest.raises(TypeError, match="scores must be a dict"):
        record_run(memory, scores=[0.5])
    assert not memory_path.exists()  # refused before the disk was touched
    assert record_run(memory) is not None
    assert len(memory) == 1


class _Booby:
    """Unpickling this creates a marker file: proof that a pickle was loaded."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_planted_pickle_is_never_loaded(memory_path, tmp_path):
    memory = OptimizationMemory(memory_path)
    record_run(memory)
    marker = tmp_path / "pickle-was-loaded"
    payload = pickle.dumps(_Booby(marker), protocol=4)
    with sqlite3.connect(memory_path) as connection:
        connection.execute(
            "INSERT INTO runs (created, fingerprint, meta_features, config, scores, "
            "timings, versions) VALUES (0, 'data', ?, ?, ?, ?, ?)", (payload,) * 5)
    connection.close()
    with pytest.warns(MemoryWarning, match="not valid JSON"):
        runs = memory.runs()
    assert len(runs) == 1 and not marker.exists()


# -- fingerprints --------------------------------------------------------------------

def test_data_fingerprint_is_stable_and_sensitive():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50_000, 100)).astype(np.float32)
    y = rng.integers(0, 3, size=50_000)
    reference = data_fingerprint(X, y)
    assert len(reference) == 64 and int(reference, 16) >= 0
    assert data_fingerprint(X.copy(), y.copy()) == reference
    assert data_fingerprint(np.asfortranarray(X), y) == reference  # same values

    changed_value = X.copy()
    changed_value[123, 45] += 1.0
    changed_label = y.copy()
    changed_label[7] = (changed_label[7] + 1) % 3
    variants = [
        data_fingerprint(changed_value, y),
        data_fingerprint(X, changed_label),
        data_fingerprint(X.reshape(100_000, 50), y),
        data_fingerprint(X[:-1], y[:-1]),
        data_fingerprint(X.astype(np.float64), y),
        data_fingerprint(X, y.astype(np.int32)),
        data_fingerprint(X),
    ]
    assert len(set(variants + [reference])) == len(variants) + 1


def test_data_fingerprint_of_string_labels():
    X = np.arange(12.0).reshape(4, 3)
    labels = np.array(["cat", "dog", "cat", "eel"], dtype=object)
    assert data_fingerprint(X, labels) == data_fingerprint(X, labels.copy())
    assert data_fingerprint(X, labels) != data_fingerprint(
        X, np.array(["cat", "dog", "cat", "emu"], dtype=object))


# -- nearest -------------------------------------------------------------------------

def test_nearest_orders_by_distance(memory_path, no_memory_warnings):
    memory = OptimizationMemory(memory_path)
    assert memory.nearest({"n": 1.0}) == []
    ids = {n: record_run(memory, meta_features={"n": n, "d": 10.0})
           for n in (100.0, 400.0, 200.0, 1000.0)}
    record_run(memory, meta_features={"other": 150.0})  # no key in common: skipped
    record_run(memory, meta_features={})
    partial = record_run(memory, meta_features={"n": 150.0})  # shares "n" only

    found = memory.nearest({"n": 150.0, "d": 10.0}, k=10)
    # 100 and 200 are equally far: the newer (200) comes first.
    assert [run["id"] for run in found] == [partial, ids[200.0], ids[100.0],
                                           ids[400.0], ids[1000.0]]
    distances = [run["distance"] for run in found]
    assert distances == sorted(distances) and distances[0] == 0.0
    assert set(found[1]) == RUN_KEYS | {"distance"}
    assert [run["id"] for run in memory.nearest({"n": 150.0, "d": 10.0}, k=2)] == \
        [partial, ids[200.0]]
    assert memory.nearest({"unknown": 1.0}) == []


def test_nearest_standardises_each_meta_feature(memory_path):
    memory = OptimizationMemory(memory_path)
    far_in_ratio = record_run(memory, meta_features={"n_samples": 1000.0, "ratio": 0.5})
    close = record_run(memory, meta_features={"n_samples": 1010.0, "ratio": 0.9})
    far = record_run(memory, meta_features={"n_samples": 2000.0, "ratio": 0.5})
    found = memory.nearest({"n_samples": 1000.0, "ratio": 0.9})
    # Raw Euclidean would put far_in_ratio first (0.4 < 10 samples).
    assert [run["id"] for run in found] == [close, far_in_ratio, far]


# -- paths and the memory parameter --------------------------------------------------

def test_default_memory_path_honours_override_and_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("SKHPMKD_MEMORY", str(tmp_path / "custom.sqlite"))
    assert default_memory_path() == tmp_path / "custom.sqlite"

    monkeypatch.delenv("SKHPMKD_MEMORY")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_memory_path() == tmp_path / "xdg" / "skhpmkd" / "memory.sqlite"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")  # the XDG spec says so
    assert default_memory_path() == (tmp_path / "home" / ".cache" / "skhpmkd"
                                     / "memory.sqlite")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_memory_path() == (tmp_path / "home" / ".cache" / "skhpmkd"
                                     / "memory.sqlite")

    monkeypatch.setattr(sys, "platform", "darwin")
    assert default_memory_path() == (tmp_path / "home" / "Library" / "Caches"
                                     / "skhpmkd" / "memory.sqlite")
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    assert default_memory_path() == tmp_path / "local" / "skhpmkd" / "memory.sqlite"


def test_open_memory_accepts_each_form(monkeypatch, tmp_path):
    monkeypatch.setenv("SKHPMKD_MEMORY", str(tmp_path / "default.sqlite"))
    for automatic in ("auto", True):
        memory = open_memory(automatic)
        assert isinstance(memory, OptimizationMemory)
        assert memory.path == tmp_path / "default.sqlite"
    assert not (tmp_path / "default.sqlite").exists()  # opened lazily
    assert open_memory(None) is None
    assert open_memory(False) is None
    assert open_memory(str(tmp_path / "a.sqlite")).path == tmp_path / "a.sqlite"
    assert open_memory(tmp_path / "b.sqlite").path == tmp_path / "b.sqlite"
    existing = OptimizationMemory(tmp_path / "c.sqlite")
    assert open_memory(existing) is existing


@pytest.mark.parametrize("bad", [1, 0, 2.5, b"memory.sqlite", ["auto"], object()])
def test_open_memory_rejects_other_types(bad):
    with pytest.raises(TypeError, match="memory must be"):
        open_memory(bad)


# -- faults --------------------------------------------------------------------------

def test_corrupt_file_is_moved_aside_and_a_fresh_store_started(memory_path):
    garbage = np.random.default_rng(0).bytes(5000)
    memory_path.write_bytes(garbage)
    memory = OptimizationMemory(memory_path)
    with pytest.warns(MemoryWarning, match="corrupt") as caught:
        run_id = record_run(memory)
    assert str(memory_path) in str(caught[0].message)
    assert caught[0].filename == __file__  # points at the caller, not the library
    (moved,) = corrupt_copies(memory_path)
    assert moved.read_bytes() == garbage
    assert run_id is not None and memory.available
    assert len(memory) == 1 and len(OptimizationMemory(memory_path)) == 1


def test_store_another_process_started_fresh_is_not_moved_aside(memory_path,
                                                                monkeypatch):
    # two processes find the same corrupt file; the other moves it aside and writes
    # to a fresh store first: this one must use that store, not move it aside too
    garbage = np.random.default_rng(0).bytes(5000)
    memory_path.write_bytes(garbage)
    move_aside = OptimizationMemory._move_aside

    def other_process_first(self, exc):
        monkeypatch.setattr(OptimizationMemory, "_move_aside", move_aside)
        with pytest.warns(MemoryWarning, match="corrupt"):
            record_run(OptimizationMemory(memory_path), config={"by": "other"})
        return move_aside(self, exc)

    monkeypatch.setattr(OptimizationMemory, "_move_aside", other_process_first)
    memory = OptimizationMemory(memory_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", MemoryWarning)
        assert record_run(memory, config={"by": "this"}) is not None
    (moved,) = corrupt_copies(memory_path)
    assert moved.read_bytes() == garbage
    assert sorted(run["config"]["by"] for run in memory.runs()) == ["other", "this"]


def test_truncated_file_is_moved_aside_and_a_fresh_store_started(memory_path):
    writer = OptimizationMemory(memory_path)
    for index in range(30):
        record_run(writer, config={"index": index, "padding": "x" * 2000})
    size = memory_path.stat().st_size
    assert size > 10 * 4096 and not Path(f"{memory_path}-wal").exists()
    with open(memory_path, "r+b") as handle:
        handle.truncate(size // 2 + 100)  # mid-page
    truncated = memory_path.read_bytes()

    memory = OptimizationMemory(memory_path)
    with pytest.warns(MemoryWarning, match="corrupt"):
        assert memory.runs() == []
    (moved,) = corrupt_copies(memory_path)
    assert moved.read_bytes() == truncated
    assert record_run(memory) is not None
    assert [run["config"] for run in memory.runs()] == [{"alpha": 0.5}]


def test_location_that_cannot_be_created(tmp_path):
    not_a_directory = tmp_path / "afile"
    not_a_directory.write_text("user data")
    memory = OptimizationMemory(not_a_directory / "memory.sqlite")
    with pytest.warns(MemoryWarning, match="afile") as caught:
        assert record_run(memory) is None
    assert len(caught) == 1
    assert not memory.available
    with warnings.catch_warnings():
        warnings.simplefilter("error", MemoryWarning)  # warned once, not again
        assert record_run(memory) is None
        assert memory.runs() == [] and memory.nearest({"n_samples": 1.0}) == []
        assert len(memory) == 0
    assert not_a_directory.read_text() == "user data"


def assert_read_but_not_written(memory):
    """A store holding one run that cannot be written: the write warns and is
    skipped, the run is still read."""
    with pytest.warns(MemoryWarning, match="cannot be written"):
        assert record_run(memory) is None
    assert not memory.available
    assert len(memory.runs()) == 1 and len(memory) == 1
    assert memory.nearest({"n_samples": 100.0})[0]["distance"] == 0.0


@pytest.mark.skipif(IS_ROOT or os.name == "nt",
                    reason="root ignores permissions; POSIX modes only")
def test_read_only_directory(tmp_path):
    directory = tmp_path / "locked-down"
    directory.mkdir()
    directory.chmod(0o500)
    try:
        memory = OptimizationMemory(directory / "memory.sqlite")
        with pytest.warns(MemoryWarning, match="locked-down"):
            assert record_run(memory) is None
        assert not memory.available
        assert memory.runs() == []
    finally:
        directory.chmod(0o700)


@pytest.mark.skipif(IS_ROOT or os.name == "nt",
                    reason="root ignores permissions; POSIX modes only")
def test_read_only_file_is_still_read(memory_path):
    record_run(OptimizationMemory(memory_path))
    memory_path.chmod(0o400)
    try:
        assert_read_but_not_written(OptimizationMemory(memory_path))
    finally:
        memory_path.chmod(0o600)


def _without_root_privileges():
    """A command prefix that runs a process without root's power to ignore file
    permissions (none needed for another user), or None where it is not available."""
    if not IS_ROOT:
        return []
    command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
    try:
        subprocess.run(command + ["true"], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return command


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes only")
def test_a_store_in_a_read_only_directory_is_still_read(tmp_path):
    # the file is in WAL mode, whose shared-memory file cannot be created there:
    # SQLite's plain read-only open fails, the file is read as it is on disk
    prefix = _without_root_privileges()
    if prefix is None:
        pytest.skip("cannot drop root's file permissions here")
    path = tmp_path / "locked-down" / "memory.sqlite"
    path.parent.mkdir()
    record_run(OptimizationMemory(path))
    before = path.read_bytes()
    script = textwrap.dedent(f"""
        import warnings
        from skhpmkd.memory import OptimizationMemory
        memory = OptimizationMemory({str(path)!r})
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            runs = memory.runs()
            recorded = memory.record(fingerprint="more", meta_features={{}}, config={{}},
                                     scores={{}}, timings={{}})
        print(len(runs), recorded, len(caught), str(caught[0].message))
    """)
    path.parent.chmod(0o555)
    try:
        result = subprocess.run(prefix + [sys.executable, "-c", script], check=True,
                                capture_output=True, text=True,
                                env=dict(os.environ, PYTHONPATH=os.pathsep.join(
                                    sys.path)))
    finally:
        path.parent.chmod(0o755)
    runs, recorded, n_warnings, message = result.stdout.split(" ", 3)
    assert (runs, recorded, n_warnings) == ("1", "None", "1")
    assert "cannot be written" in message and "past runs are still read" in message
    assert path.read_bytes() == before


@pytest.fixture
def open_read_only(monkeypatch):
    """Call it to make every later connection of the memory open with SQLite's
    ``mode=ro``: SQLite itself then refuses writes (SQLITE_READONLY) and the creation
    of a missing file (SQLITE_CANTOPEN), as it does for a file or directory without
    write permission. Unlike ``chmod`` this also holds for root, so CI (which runs as
    root) tests the read-only handling too."""
    connect = OptimizationMemory._connect

    def apply():
        monkeypatch.setattr(OptimizationMemory, "_connect",
                            lambda self, read_only=False: connect(self, read_only=True))
    return apply


def test_store_sqlite_cannot_create_turns_memory_off(tmp_path, open_read_only):
    open_read_only()
    memory = OptimizationMemory(tmp_path / "locked-down" / "memory.sqlite")
    with pytest.warns(MemoryWarning, match="locked-down.*cannot be opened or written"):
        assert record_run(memory) is None
    assert not memory.available
    assert memory.runs() == [] and len(memory) == 0
    assert not (tmp_path / "locked-down" / "memory.sqlite").exists()


def test_store_sqlite_refuses_to_write_is_still_read(memory_path, open_read_only):
    record_run(OptimizationMemory(memory_path))
    before = memory_path.read_bytes()
    open_read_only()
    assert_read_but_not_written(OptimizationMemory(memory_path))
    assert memory_path.read_bytes() == before


def test_locked_database_skips_the_write_then_recovers(memory_path):
    memory = OptimizationMemory(memory_path, timeout=0.2)
    assert record_run(memory) is not None
    holder = sqlite3.connect(memory_path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        for store in (memory, OptimizationMemory(memory_path, timeout=0.2)):
            with pytest.warns(MemoryWarning, match="locked") as caught:
                assert record_run(store) is None
            assert str(memory_path) in str(caught[0].message)
            assert store.available  # not off for good
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with warnings.catch_warnings():
        warnings.simplefilter("error", MemoryWarning)
        assert record_run(memory) is not None
    assert len(memory) == 2


def test_newer_schema_version_is_left_alone(memory_path):
    record_run(OptimizationMemory(memory_path))
    with sqlite3.connect(memory_path) as connection:
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.close()
    before = memory_path.read_bytes()

    memory = OptimizationMemory(memory_path)
    with pytest.warns(MemoryWarning, match=f"schema version {SCHEMA_VERSION + 1}"):
        assert record_run(memory) is None
    assert not memory.available
    assert memory.runs() == [] and len(memory) == 0
    assert memory_path.read_bytes() == before
    assert corrupt_copies(memory_path) == []


def test_unversioned_runs_table_is_upgraded_keeping_its_rows(memory_path):
    with sqlite3.connect(memory_path) as connection:
        connection.execute(
            "CREATE TABLE runs (id INTEGER PRIMARY KEY, created REAL, fingerprint TEXT, "
            "meta_features TEXT, config TEXT, scores TEXT, timings TEXT, versions TEXT)")
        connection.execute(
            "INSERT INTO runs VALUES (7, 0, 'old', '{}', '{\"alpha\": 0.1}', '{}', "
            "'{}', '{}')")
    connection.close()
    memory = OptimizationMemory(memory_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", MemoryWarning)
        assert [run["config"] for run in memory.runs()] == [{"alpha": 0.1}]
        assert record_run(memory) == 8
    with sqlite3.connect(memory_path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    connection.close()


def test_other_sqlite_file_is_left_alone(memory_path):
    with sqlite3.connect(memory_path) as connection:
        connection.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)")
        connection.execute("INSERT INTO photos (name) VALUES ('holiday')")
    connection.close()
    before = memory_path.read_bytes()
    memory = OptimizationMemory(memory_path)
    with pytest.warns(MemoryWarning, match="not a skhpmkd memory"):
        assert memory.runs() == []
    assert record_run(memory) is None
    assert memory_path.read_bytes() == before


@pytest.mark.parametrize("message, kind", [
    ("file is not a database", "corrupt"),
    ("database disk image is malformed", "corrupt"),
    ("database is locked", "locked"),
    ("attempt to write a readonly database", "read-only"),
    ("unable to open database file", "read-only"),
    ("disk I/O error", "other"),
])
def test_fault_kind_from_the_message_when_there_is_no_error_code(message, kind):
    # Python 3.10 has no sqlite_errorcode; a hand-made exception has none either.
    assert _fault_kind(sqlite3.OperationalError(message)) == kind


def test_schema_is_versioned_and_in_wal_mode(memory_path):
    record_run(OptimizationMemory(memory_path))
    with sqlite3.connect(memory_path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        indexes = connection.execute("PRAGMA index_list(runs)").fetchall()
    connection.close()
    assert any(row[1] == "runs_fingerprint" for row in indexes)


# -- concurrency and crashes ---------------------------------------------------------

ROWS_PER_WRITER = 200


def _write_rows(path, worker, start, problems):
    """Child process: record ROWS_PER_WRITER tiny runs; report any that were skipped."""
    start.wait(30)
    memory = OptimizationMemory(path, timeout=30)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        skipped = [i for i in range(ROWS_PER_WRITER)
                   if memory.record(fingerprint=f"worker-{worker}",
                                    meta_features={"i": i}, config={}, scores={},
                                    timings={}, versions={}) is None]
    problems.put((worker, skipped, [str(warning.message) for warning in caught]))


def test_concurrent_writers_lose_no_row(memory_path):
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    start, problems = context.Event(), context.Queue()
    workers = [context.Process(target=_write_rows,
                               args=(str(memory_path), worker, start, problems))
               for worker in range(4)]
    for process in workers:
        process.start()
    start.set()
    reports = sorted(problems.get(timeout=120) for _ in workers)
    for process in workers:
        process.join(30)
    assert reports == [(worker, [], []) for worker in range(4)]
    assert [process.exitcode for process in workers] == [0, 0, 0, 0]

    runs = OptimizationMemory(memory_path).runs()
    assert len(runs) == 4 * ROWS_PER_WRITER
    assert len({run["id"] for run in runs}) == len(runs)
    for worker in range(4):
        indices = sorted(run["meta_features"]["i"] for run in runs
                         if run["fingerprint"] == f"worker-{worker}")
        assert indices == list(range(ROWS_PER_WRITER))


_KILLED_WRITER = textwrap.dedent("""
    import sqlite3, sys, time
    connection = sqlite3.connect(sys.argv[1], isolation_level=None)
    connection.execute("PRAGMA cache_size = 5")  # spill uncommitted pages to disk
    connection.execute("BEGIN IMMEDIATE")
    for index in range(2000):
        connection.execute(
            "INSERT INTO runs (created, fingerprint, meta_features, config, scores, "
            "timings, versions) VALUES (0, 'uncommitted', '{}', ?, '{}', '{}', '{}')",
            ('{"padding": "%s"}' % ("x" * 500),))
    print("inserted", flush=True)
    time.sleep(60)
""")


def test_writer_killed_mid_transaction_leaves_a_readable_store(memory_path):
    memory = OptimizationMemory(memory_path)
    committed = [record_run(memory, fingerprint="committed") for _ in range(3)]
    writer = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(memory_path)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = writer.stdout.readline()
        assert line.strip() == "inserted", writer.stderr.read()
        assert Path(f"{memory_path}-wal").stat().st_size > 0  # uncommitted frames
    finally:
        writer.kill()  # SIGKILL on POSIX: no commit, no rollback, no cleanup
        writer.communicate()

    with warnings.catch_warnings():
        warnings.simplefilter("error", MemoryWarning)
        reopened = OptimizationMemory(memory_path)
        runs = reopened.runs()
        assert [run["id"] for run in runs] == committed[::-1]
        assert {run["fingerprint"] for run in runs} == {"committed"}
        assert record_run(reopened) is not None
        assert len(reopened) == 4
    assert corrupt_copies(memory_path) == []


# -- stored students -----------------------------------------------------------------

def test_arrays_round_trip_exactly_as_json_text():
    from skhpmkd.memory import decode_arrays, encode_arrays

    value = {"w": np.arange(6, dtype=np.float32).reshape(2, 3) / 7,
             "edges": [np.array([0.1, 0.2]), None], "n": (3, 4), "name": "ple",
             "flag": np.array([True, False]), "empty": np.zeros((0, 2), np.int64)}
    text = json.dumps(encode_arrays(value))
    back = decode_arrays(json.loads(text))
    for name in ("w", "flag", "empty"):
        assert back[name].dtype == value[name].dtype
        assert np.array_equal(back[name], value[name])
    assert np.array_equal(back["edges"][0], value["edges"][0])
    assert back["edges"][1] is None
    assert back["n"] == [3, 4] and back["name"] == "ple"
    with pytest.raises(TypeError, match="dtype object"):
        encode_arrays(np.array([object()]))
    with pytest.raises(ValueError, match="only numbers"):
        decode_arrays({"__ndarray__": "", "dtype": "|O", "shape": [0]})


def test_students_are_stored_replaced_and_pruned(memory_path, no_memory_warnings,
                                                 monkeypatch):
    import skhpmkd.memory

    memory = OptimizationMemory(memory_path)
    assert memory.stored_student("a") is None
    assert memory.store_student("a", {"v": 1}, run_id=3)
    assert memory.stored_student("a") == {"run_id": 3, "payload": {"v": 1}}
    assert memory.store_student("a", {"v": 2})
    assert memory.stored_student("a")["payload"] == {"v": 2}
    monkeypatch.setattr(skhpmkd.memory, "MAX_STORED_STUDENTS", 2)
    for key in "bcd":
        assert memory.store_student(key, {"v": key})
    assert [memory.stored_student(key) is not None for key in "abcd"] == [
        False, False, True, True]
    monkeypatch.setattr(skhpmkd.memory, "MAX_STUDENT_CHARS", 20)
    assert not memory.store_student("e", {"v": "x" * 30})
    assert memory.stored_student("e") is None
    # the newest students that hold at most MAX_STORED_STUDENT_CHARS together
    monkeypatch.setattr(skhpmkd.memory, "MAX_STORED_STUDENTS", 10)
    monkeypatch.setattr(skhpmkd.memory, "MAX_STORED_STUDENT_CHARS", 40)
    sizes = {key: len(json.dumps({"v": key * 5})) for key in "fgh"}  # 15 each
    for key in "fgh":
        assert memory.store_student(key, {"v": key * 5})
    assert sum(sizes.values()) > 40 >= sizes["g"] + sizes["h"]
    assert [memory.stored_student(key) is not None for key in "cdfgh"] == [
        False, False, False, True, True]
    with sqlite3.connect(memory_path) as connection:  # JSON text, not pickles
        (payload,) = connection.execute(
            "SELECT payload FROM students WHERE key = 'h'").fetchone()
    connection.close()
    assert json.loads(payload) == {"v": "hhhhh"}


def test_a_version_1_file_gains_the_students_table(memory_path, no_memory_warnings):
    with sqlite3.connect(memory_path) as connection:
        connection.execute(
            "CREATE TABLE runs (id INTEGER PRIMARY KEY, created REAL, fingerprint TEXT, "
            "meta_features TEXT, config TEXT, scores TEXT, timings TEXT, versions TEXT)")
        connection.execute("PRAGMA user_version = 1")
    connection.close()
    memory = OptimizationMemory(memory_path)
    assert memory.stored_student("a") is None
    assert memory.store_student("a", {"v": 1})
    assert memory.stored_student("a")["payload"] == {"v": 1}
