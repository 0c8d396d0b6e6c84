"""The import engine: read → check every row (pass 1) → write in batches in one transaction (pass 2).

- All-or-nothing by default: any rejected row and nothing is written. ``partial=True`` writes the
  accepted rows and reports the rejected ones (they come back in an error workbook).
- Dry run and commit are the same code: a dry run writes inside the transaction and rolls it back,
  so its counts of new / changed / unchanged rows are exactly what a commit would do.
- A crash or a killed process leaves the database as it was: the write pass is one transaction.
- The file is read and every cell parsed once. Pass 1 keeps each accepted row's parsed values (with
  what ``check`` derived, e.g. the ID number's keyed hash) packed — pickled and compressed in chunks of
  ``KEEP_CHUNK`` rows, in memory (never on disk: they hold clear ID numbers) — and frees the reader's
  copy of the sheet before pass 2, which unpacks a chunk at a time and writes ``sheet.batch_size`` rows
  at a time. So the peak is the reader's sheet (bounded by the upload limit) plus the keys cross-row
  checks need, and pass 2 adds a few dozen bytes a row.
- On large files a forked helper process does a sheet's pure per-row write work (``protect``: for
  households the encryption, keyed hashes and pinyin initials) on the other core while pass 1 goes on;
  it sees the rows through a pipe, never the database, and if it fails pass 2 does the work itself.
- A dry run keeps what pass 1 learnt, with the helper's results, as the job's plan (``exchange.plan``);
  its commit starts from the plan — ``finish`` and pass 2 only — when what the checks read is unchanged.
"""
import collections
import contextlib
import gc
import logging
import pickle
import time
import zlib
from dataclasses import dataclass, field

from django.db import transaction

from yiwang.core.bulk import index_scans_for_deferred_checks, pipelined

from .reader import FileRejected, open_rows
from .sheets import Context, Sheet

log = logging.getLogger("yiwang.exchange")


KEEP_CHUNK = 1000
# A sheet may declare ``protect(values)``: pure per-row work of its write (no database), run by a helper
# process during pass 1 on files of ``PROTECT_MIN_ROWS`` rows or more; its result reaches ``write`` as
# values["_protect"], and ``write`` must compute the same itself when it is absent. ``protect_warm()``,
# when declared, runs in the main process before the fork (imports, caches).
PROTECT_MIN_ROWS = 3000  # below this a helper process costs more than it saves


class _DryRunRollback(Exception):
    pass


class _Kept:
    """Accepted rows of pass 1, packed: a queue of zlib-compressed pickles of ``KEEP_CHUNK`` rows each
    (about 60 bytes a households row), unpacked once and dropped as pass 2 goes. With a ``_Protector``
    each packed chunk also goes to its helper process, and pass 2 gets each row back with what the
    helper derived from it in ``values["_protect"]``."""

    def __init__(self, protector=None, plan=None):
        self.chunks, self.pending, self.rows = collections.deque(), [], 0
        self.protector, self.helped, self.plan = protector, 0, plan

    def add(self, row_no, values):
        self.pending.append((row_no, values))
        self.rows += 1
        if len(self.pending) >= KEEP_CHUNK:
            self._pack()

    def _pack(self):
        if self.pending:
            chunk = zlib.compress(pickle.dumps(self.pending, protocol=pickle.HIGHEST_PROTOCOL), 1)
            self.chunks.append(chunk)
            self.pending = []
            if self.protector is not None:
                self.protector.submit(chunk)

    def nbytes(self):
        return sum(len(c) for c in self.chunks)

    def __iter__(self):
        self._pack()
        index = 0
        while self.chunks:
            chunk = self.chunks.popleft()
            protected = self.protector.result(index) if self.protector is not None else None
            if self.plan is not None:  # the preview hands its commit each chunk with the helper's result
                self.plan.chunk(chunk, protected)
            index += 1
            yield from self._rows(chunk, protected)

    def _rows(self, chunk, protected):
        rows = pickle.loads(zlib.decompress(chunk))
        if protected is not None:
            self.helped += 1
            for (_, values), extra in zip(rows, pickle.loads(protected)):
                values["_protect"] = extra
        return rows


class _Planned(_Kept):
    """The rows a preview accepted, read back from its plan (``exchange.plan``) by the commit."""

    def __init__(self, reader):
        super().__init__()
        self.reader = reader

    def __iter__(self):
        for chunk, protected in self.reader.chunks():
            yield from self._rows(chunk, protected)


class _Protector:
    """A helper process (fork) that runs ``sheet.protect`` on the kept rows while the main process goes
    on with pass 1: for the households sheet the pinyin initials, the two encryptions and the phone's
    keyed hash, ~20 % of an import's CPU, done on the second core. Chunks go to it through a pipe as
    pass 1 packs them (in memory: clear ID numbers never touch disk) and come back as lists aligned
    with the chunk's rows: ciphertexts, hashes, initials — nothing in clear. The helper reads no
    database (a query in it raises) and writes nothing; it only saves the main process work. If it
    fails, dies or stalls, pass 2 computes what is missing itself, so the outcome is the same either
    way. Two threads move the bytes so the main process never waits on the pipe."""

    TIMEOUT = 60.0  # seconds a result may be late before pass 2 stops waiting and does the work itself

    def __init__(self, sheet):
        import multiprocessing
        import queue
        import threading

        ctx = multiprocessing.get_context("fork")
        self._to_child_r, self._to_child_w = ctx.Pipe(duplex=False)
        self._from_child_r, self._from_child_w = ctx.Pipe(duplex=False)
        warm = getattr(sheet, "protect_warm", None)
        if warm is not None:
            warm()  # imports and caches made before the fork, not in the helper
        self.process = ctx.Process(target=_protect_loop, name="import-protect", daemon=True,
                                   args=(sheet, self._to_child_r, self._to_child_w,
                                         self._from_child_r, self._from_child_w))
        self.process.start()
        self._to_child_r.close()
        self._from_child_w.close()
        self._outbox, self._results, self._cond = queue.SimpleQueue(), {}, threading.Condition()
        self._done = False
        self._sent = 0
        self._sender = threading.Thread(target=self._send_loop, name="import-protect-send", daemon=True)
        self._receiver = threading.Thread(target=self._receive_loop, name="import-protect-recv", daemon=True)
        self._sender.start()
        self._receiver.start()

    def submit(self, chunk):
        self._outbox.put(chunk)
        self._sent += 1

    def _send_loop(self):
        try:
            while (chunk := self._outbox.get()) is not None:
                self._to_child_w.send_bytes(chunk)
        except (OSError, ValueError):
            pass
        finally:
            with contextlib.suppress(OSError):
                self._to_child_w.close()

    def _receive_loop(self):
        index = 0
        try:
            while True:
                data = self._from_child_r.recv_bytes()
                with self._cond:
                    self._results[index] = data
                    self._cond.notify_all()
                index += 1
        except (EOFError, OSError):
            pass
        finally:
            with self._cond:
                self._done = True
                self._cond.notify_all()

    def result(self, index):
        """The helper's list for chunk ``index``, pickled, or None (pass 2 then protects those rows itself)."""
        deadline = time.monotonic() + self.TIMEOUT
        with self._cond:
            while index not in self._results and not self._done:
                left = deadline - time.monotonic()
                if left <= 0:
                    self.close()
                    return None
                self._cond.wait(left)
            return self._results.pop(index, None)

    def close(self):
        self._outbox.put(None)
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        with contextlib.suppress(OSError):
            self._from_child_r.close()


def _protect_loop(sheet, to_child_r, to_child_w, from_child_r, from_child_w):
    from django.db import connections

    def no_database(*args, **kwargs):
        raise RuntimeError("the import's helper process must not use the database")

    for conn in connections.all(initialized_only=True):
        conn.execute_wrappers.append(no_database)
    to_child_w.close()  # so that the main process going away ends this loop (EOF)
    from_child_r.close()
    gc.disable()
    protect = sheet.protect
    try:
        while True:
            rows = pickle.loads(zlib.decompress(to_child_r.recv_bytes()))
            from_child_w.send_bytes(pickle.dumps([protect(values) for _, values in rows],
                                                 protocol=pickle.HIGHEST_PROTOCOL))
    except (EOFError, OSError):
        pass


@dataclass
class ImportResult:
    sheet: str
    committed: bool
    counts: dict
    issues: list
    total_rows: int
    file_error: str = ""
    seconds: float = 0.0
    unknown_headers: list = field(default_factory=list)
    helper_chunks: int = 0  # chunks of rows whose per-row protection the helper process did
    from_plan: bool = False  # a commit that wrote from its preview's plan instead of reading the file again
    plan_unused: str = ""  # why a commit given a plan read the file again

    @property
    def ok(self):
        return not self.file_error and not self.issues

    def as_dict(self):
        return {"sheet": self.sheet, "committed": self.committed, "counts": self.counts,
                "issues": [i.as_dict() for i in self.issues[:1000]], "issue_count": len(self.issues),
                "total_rows": self.total_rows, "file_error": self.file_error, "seconds": round(self.seconds, 3),
                "unknown_headers": self.unknown_headers}


def run(sheet: Sheet, data: bytes, ctx: Context, *, progress=None, plan_out=None, plan_in=None) -> ImportResult:
    """Import ``data`` (the .xlsx bytes) into ``sheet``: a dry run unless ``ctx.commit``.

    ``plan_out`` (a dry run's ``plan.Writer``) keeps what the dry run learnt for its commit; ``plan_in``
    (a commit's ``plan.Reader``) is used instead of reading ``data`` again when its fingerprint still
    holds (``exchange.plan``). Either is closed here whatever happens."""
    with _young_gc_only(), contextlib.ExitStack() as stack:
        if plan_out is not None:
            stack.callback(plan_out.abort)  # a no-op once closed: a dry run cut short leaves no plan
        if plan_in is not None:
            stack.callback(plan_in.close)
        return _run(sheet, data, ctx, progress=progress, stack=stack, plan_out=plan_out, plan_in=plan_in)


@contextlib.contextmanager
def _young_gc_only():
    """Python's cyclic collector off for the import, the young generations collected by hand every
    few thousand rows. An import holds hundreds of thousands of live objects (the keys of pass 1, the
    rows of a batch); with the automatic collector every full collection walks all of them again,
    ~20 % of the import's time at 9,000 rows and growing with the file. Cyclic garbage of a batch is
    young, so ``gc.collect(1)`` still frees it."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _fingerprint(sheet, ctx):
    """What the sheet's per-row checks read besides the file, as a digest (None: the sheet keeps no plan)."""
    import hashlib

    declared = getattr(sheet, "plan_fingerprint", None)
    value = declared(ctx) if declared is not None else None
    if value is None:
        return None
    return hashlib.sha256(repr((sheet.key, ctx.partial, value)).encode()).hexdigest()


def _from_plan(sheet, reader, ctx, result_note):
    """The plan's header if the plan may stand for reading the file again, else None (with the reason)."""
    from .plan import Unusable

    try:
        header = reader.header()
    except Unusable as e:
        result_note.append(str(e))
        return None
    if header.get("fingerprint") != _fingerprint(sheet, ctx):
        result_note.append("what the checks read has changed since the preview")
        return None
    return header


@dataclass
class _PassOne:
    kept: _Kept  # the accepted rows (from the file, or from the preview's plan)
    seen: int
    unknown_headers: list
    header: dict = None  # what a dry run's plan keeps of pass 1 (None: no plan to keep)


def _restore(header, reader, ctx, progress) -> _PassOne:
    """The preview's pass 1 from its plan, as it stood before ``finish``: the rows it accepted, the
    sheet's keys, the row issues found so far."""
    ctx.state.update(header["state"])
    ctx.issues[:] = header["issues"]
    ctx.rejected_rows.clear()
    ctx.rejected_rows.update(header["rejected"])
    progress("check", header["seen"], header["seen"])
    return _PassOne(_Planned(reader), header["seen"], header["unknown_headers"])


def _pass_one(sheet, data, ctx, *, progress, stack, keep_plan) -> "_PassOne | ImportResult":
    """Read the file, parse and check every row; an ``ImportResult`` when the file itself is refused."""
    try:
        layout, rows, total = open_rows(data, sheet.columns, preferred_title=sheet.title)
    except FileRejected as e:
        return ImportResult(sheet.key, False, ctx.counts, [], 0, file_error=e.reason)
    del data  # the reader has its own copy; the caller passed ours inline
    if layout.missing_required:
        return ImportResult(sheet.key, False, ctx.counts, [], total,
                            file_error=f"缺少必填列：{'、'.join(layout.missing_required)}（表头在第 {layout.header_row} 行）")
    # taken before pass 1 reads anything, so a change during pass 1 can only make the commit read again
    fingerprint = _fingerprint(sheet, ctx) if keep_plan else None
    seen = 0
    protector = None
    if getattr(sheet, "protect", None) is not None and total >= PROTECT_MIN_ROWS:
        try:
            protector = _Protector(sheet)
        except OSError:  # no fork here (resource limits): pass 2 does it all
            protector = None
        else:
            stack.callback(protector.close)
    kept = _Kept(protector)
    rejected = ctx.rejected_rows
    for row_no, cells in rows():
        seen += 1
        values = sheet.parse(row_no, cells, layout, ctx)
        if values is not None:
            sheet.check(row_no, values, ctx)
            if row_no not in rejected:
                kept.add(row_no, values)
        if seen % 5000 == 0:
            gc.collect(1)
            progress("check", seen, total)
    del rows  # the reader's copy of the sheet: pass 2 works from ``kept``
    if seen == 0:
        return ImportResult(sheet.key, False, ctx.counts, [], 0, file_error="表格中没有数据行（只有表头或全是空行）")
    header = None
    if fingerprint is not None:  # the row issues as they stand before ``finish``, which adds its own
        header = {"fingerprint": fingerprint, "issues": list(ctx.issues), "rejected": set(ctx.rejected_rows),
                  "seen": seen, "unknown_headers": layout.unknown_headers}
    return _PassOne(kept, seen, layout.unknown_headers, header)


def _run(sheet: Sheet, data: bytes, ctx: Context, *, progress=None, stack, plan_out=None, plan_in=None) -> ImportResult:
    started = time.perf_counter()
    progress = progress or (lambda phase, done, total: None)
    header, not_used = None, []
    if plan_in is not None:
        header = _from_plan(sheet, plan_in, ctx, not_used)
    if header is not None:
        del data
        checked = _restore(header, plan_in, ctx, progress)
    else:
        checked = _pass_one(sheet, data, ctx, progress=progress, stack=stack,
                            keep_plan=plan_out is not None and not ctx.commit)
        del data
        if isinstance(checked, ImportResult):
            return checked
    kept, seen = checked.kept, checked.seen
    sheet.finish(ctx)
    ctx.counts["rejected"] = len(ctx.rejected_rows)
    result = ImportResult(sheet.key, False, ctx.counts, sorted(ctx.issues, key=lambda i: i.row), seen,
                          unknown_headers=checked.unknown_headers, from_plan=isinstance(kept, _Planned),
                          plan_unused="; ".join(not_used))
    if ctx.issues and not ctx.partial:
        result.seconds = time.perf_counter() - started
        return result
    if checked.header is not None:
        # the sheet's keys of pass 1 (``finish`` only adds what it learnt from the database, not kept)
        plan_out.header({**checked.header, "state": {k: ctx.state[k] for k in sheet.plan_state if k in ctx.state}})
        kept.plan = plan_out

    # pass 2: the rows kept by pass 1, less those ``finish`` rejected (cross-row checks)
    rejected = ctx.rejected_rows
    done = 0
    progress("write", 0, seen)
    try:
        with _large_page_cache(), transaction.atomic(), pipelined():
            batch = []
            for row_no, values in kept:
                if row_no in rejected:
                    continue
                batch.append((row_no, values))
                if len(batch) >= sheet.batch_size:
                    _write(sheet, batch, ctx)
                    done += len(batch)
                    batch = []
                    gc.collect(1)
                    progress("write", done, seen)
            if batch:
                _write(sheet, batch, ctx)
                done += len(batch)
                progress("write", done, seen)
            if ctx.commit:
                sheet.after_commit(ctx) if hasattr(sheet, "after_commit") else None
                index_scans_for_deferred_checks()
            else:
                raise _DryRunRollback
    except _DryRunRollback:
        if kept.plan is not None:
            kept.plan.close()
        if done >= VACUUM_AFTER_ROWS:
            _vacuum(sheet)
    result.committed = ctx.commit
    result.counts = ctx.counts
    result.helper_chunks = kept.helped
    result.seconds = time.perf_counter() - started
    return result


VACUUM_AFTER_ROWS = 5000


def _vacuum(sheet):
    """PostgreSQL, after a preview that wrote many rows and rolled them back: ``VACUUM`` the tables it
    wrote. Autovacuum would come within a minute or so; until then the commit meets the preview's dead
    rows in the indexes it writes and looks up (the town's commit right after its preview: ~2 s slower,
    decision 0012). Not inside an outer transaction (VACUUM cannot run there), and never an error: a
    user who may not vacuum (not the tables' owner) gets PostgreSQL's warning and the preview stands."""
    from django.apps import apps
    from django.db import DatabaseError, connection

    models = [apps.get_model(m) if isinstance(m, str) else m for m in getattr(sheet, "preview_vacuums", ())]
    if not models or connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    qn = connection.ops.quote_name
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM {', '.join(qn(m._meta.db_table) for m in models)}")
    except DatabaseError:
        log.warning("VACUUM after the preview of %s failed", sheet.key, exc_info=True)


SQLITE_CACHE_KIB = 64 * 1024


@contextlib.contextmanager
def _large_page_cache():
    """On SQLite, a 64 MiB page cache for the write pass instead of the default 2 MiB: a town's
    persons put a few dozen MiB of random keys (ID and phone hashes) into indexes, and with the default
    the inserts keep reading index pages back (300,335 rows: the write pass took 34.5 CPU-seconds with
    the default cache, 27.9 with this one; 256 MiB bought nothing more). The pages are allocated only
    as used, and the connection's own setting is restored afterwards."""
    from django.db import connection

    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


def _write(sheet, batch, ctx):
    for outcome in sheet.write(batch, ctx):
        ctx.counts[outcome] += 1
