"""The preview's plan: what a dry run learnt from the file, handed to its commit.

Upload → preview → confirm: the preview (``check``) reads every row, parses every cell, runs every
per-row and cross-row check and computes the per-row protection (encryption, keyed hashes, pinyin
initials). Its commit used to do all of that again from the file, about half of its time on a town's
ledger. Now the preview keeps, for a sheet that declares ``plan_fingerprint``:

- the rows it accepted, as pass 1 packed them (``engine._Kept``'s chunks), with what the helper
  process derived from each chunk (ciphertexts, hashes, initials);
- the sheet's cross-row state as it stood before ``finish`` (the keys of the file: 户号 → rows and
  household columns, ID hash → row), with the row issues found so far and the rows seen;
- the fingerprint of everything the per-row checks read besides the file: the regions and grids the
  user may write to, the special-group tags, the user's scope, today's date, the code's plan format.

The commit uses the plan only if the fingerprint computed again at that moment is the same; it then
runs ``finish`` again — the cross-row checks against the database (a 户号 or an ID number registered
meanwhile, in scope or not) — and writes from the plan as pass 2 always did. Anything else (no plan,
another fingerprint, a plan that does not decrypt or unpickle, a killed preview) and the commit reads
the file again as before: the plan only saves time, it never decides an outcome.

The plan holds ID numbers and phones in clear inside, so it is sealed (``core.crypto.seal``: AES-256-GCM
under a key derived from the field key, bound to the job's id and file hash) record by record, written
to a temporary name and renamed when complete, and deleted by the commit, by a later preview of the
same job, and after ``PLAN_HOURS`` by the sweep (``tasks.sweep_stale_jobs``). It lives under
``MEDIA_ROOT/imports/plans/`` beside the kept upload (which holds the same data, unencrypted).
"""
import contextlib
import logging
import os
import pickle
import struct
import time
from pathlib import Path

from django.conf import settings

from yiwang.core import crypto

log = logging.getLogger("yiwang.exchange")
PLAN_FORMAT = 2  # bump when what a plan holds changes: plans of another format are not used
PLAN_HOURS = 24
_LEN = struct.Struct(">I")


def folder() -> Path:
    return Path(settings.MEDIA_ROOT) / "imports" / "plans"


def path_for(job) -> Path:
    return folder() / f"{job.pk}.plan"


def _context(job) -> bytes:
    return f"yiwang import plan {PLAN_FORMAT} job {job.pk} file {job.sha256}".encode()


def discard(job):
    try:
        path_for(job).unlink()
    except FileNotFoundError:
        pass
    except OSError as e:  # left behind, it can only be used for this job's file, and if still true
        log.warning("import %s: its plan could not be deleted (%s)", job.pk, e)


def sweep(hours=PLAN_HOURS) -> int:
    """Delete plans older than ``hours`` (previews never confirmed, or confirmed by a process that died)."""
    cutoff, gone = time.time() - hours * 3600, 0
    try:
        paths = list(folder().iterdir())
    except OSError:  # no folder yet (or none readable): nothing to sweep, and the job sweep goes on
        return 0
    for path in paths:
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                gone += 1
        except OSError as e:
            if not isinstance(e, FileNotFoundError):
                log.warning("plan %s could not be swept (%s)", path.name, e)
    return gone


class Writer:
    """Writes a plan during the preview: ``header`` once (before the chunks), then ``chunk`` per packed
    chunk with the helper's result for it (or None), then ``close`` renames it into place. ``abort``
    (or a preview that ends any other way) leaves no plan."""

    def __init__(self, job):
        self.job, self.context = job, _context(job)
        self.final = path_for(job)
        self.temp = self.final.with_name(f"{self.final.name}.{os.getpid()}.part")
        self.file = None
        discard(job)  # an earlier preview's plan of this job is no longer what the job says
        try:
            self.final.parent.mkdir(parents=True, exist_ok=True)
            self.file = open(self.temp, "wb")
        except OSError as e:
            self._give_up(e)

    def _give_up(self, error):
        # a plan only saves the commit time: a disk that is full or read-only must not fail the preview
        log.warning("import %s: no plan for its commit (%s)", self.job.pk, error)
        self.abort()

    def _record(self, data: bytes):
        if self.file is None:
            return
        sealed = crypto.seal(data, self.context)
        try:
            self.file.write(_LEN.pack(len(sealed)))
            self.file.write(sealed)
        except OSError as e:
            self._give_up(e)

    def header(self, header: dict):
        # not compressed: the commit waits for it before its first row (a town's 40 MB header, ~0.24 s
        # to inflate), and the disk it saves is a preview's, kept a day
        self._record(pickle.dumps({"format": PLAN_FORMAT, **header}, protocol=pickle.HIGHEST_PROTOCOL))

    def chunk(self, packed: bytes, protected):
        self._record(packed)
        self._record(protected or b"")

    def close(self):
        self._record(b"end")
        if self.file is None:
            return
        try:
            self.file.close()
            os.replace(self.temp, self.final)
        except OSError as e:
            self._give_up(e)
        self.file = None

    def abort(self):
        if self.file is not None:
            with contextlib.suppress(OSError):
                self.file.close()
            self.file = None
        with contextlib.suppress(OSError):
            self.temp.unlink()


class Unusable(Exception):
    """The plan cannot be used: missing, of another format or fingerprint, altered, cut short."""


class Reader:
    """Reads a plan at the commit: ``header()`` first (which also checks that every record decrypts and
    the plan is complete), then ``chunks()`` yields (packed chunk, the helper's pickled result or None)."""

    def __init__(self, job):
        self.context = _context(job)
        try:
            self.file = open(path_for(job), "rb")
        except FileNotFoundError:
            raise Unusable("no plan") from None
        except OSError as e:  # unreadable: the commit reads the file, as without a plan
            raise Unusable(f"the plan cannot be opened ({e})") from None

    def _record(self) -> bytes:
        size = self.file.read(_LEN.size)
        if len(size) != _LEN.size:
            raise Unusable("the plan ends early")
        blob = self.file.read(_LEN.unpack(size)[0])
        try:
            return crypto.unseal(blob, self.context)
        except Exception as e:
            raise Unusable(f"the plan does not decrypt ({type(e).__name__})") from None

    def header(self) -> dict:
        try:
            header = pickle.loads(self._record())
        except Unusable:
            raise
        except Exception as e:
            raise Unusable(f"the plan's header does not read ({type(e).__name__})") from None
        if header.get("format") != PLAN_FORMAT:
            raise Unusable("a plan of another format")
        # every record decrypts and the end is there, before the commit relies on any of it: a plan found
        # wanting half-way through the write could only fail the commit, not send it back to the file
        start = self.file.tell()
        while self._record() != b"end":
            pass
        self.file.seek(start)
        return header

    def chunks(self):
        while True:
            packed = self._record()
            if packed == b"end":
                return
            yield packed, (self._record() or None)

    def close(self):
        self.file.close()
