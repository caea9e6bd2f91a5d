"""Run a call in a forked child process under a wall-clock cap.

Two ways: :func:`run_capped` forks one child per call (any callable, closures
included); :class:`CappedWorker` keeps one forked worker process that runs
call after call (module-level functions and picklable arguments only) and is
replaced only when a call hangs or crashes. A fork of a process that holds
NumPy, SciPy, scikit-learn and Numba costs tens of milliseconds (page tables,
then copy-on-write faults), far more than the small fits the property tests
run, so the worker is what they use; the worker's state carries over from one
call to the next (compiled kernels included), as it would in a user's
session.

A hang inside Numba-compiled ``nogil`` code cannot be interrupted by a signal
handler or a watchdog thread: the Python interpreter never regains control.
The only reliable cap is a separate process that can be killed. On Linux
``os.fork`` is cheap (copy-on-write), and the child inherits every module and
every Numba function already compiled in the parent, so nothing is imported
or compiled again: warm the kernels in the parent before the first fork.

The child runs the call, records its warnings, and sends back by a pipe
either the (pickled) return value or the type, message and traceback of the
exception it raised; then it leaves with ``os._exit`` (no pytest teardown,
no flushing of buffers inherited from the parent). The parent reads the pipe
until the deadline. At the deadline it first asks the child, by SIGUSR1, for
the Python stacks of its threads (``faulthandler`` writes them from a C signal
handler, which runs even while the thread is stuck in compiled code), so the
failure says where the fit hung, and then kills it (SIGKILL).
"""

import faulthandler
import os
import pickle
import select
import signal
import tempfile
import time
import traceback
import warnings
from dataclasses import dataclass, field

DEFAULT_CAP = float(os.environ.get("MTL_TIME_CAP", "10"))


@dataclass
class Raised:
    """An exception raised in the child, described without pickling it."""

    type_name: str
    module: str
    message: str
    traceback: str
    # The exception's classes (names) from its MRO, e.g. to tell a ValueError
    # subclass from an unrelated error without importing its module.
    mro: tuple

    def is_a(self, *names):
        return any(name in self.mro for name in names)

    def __str__(self):
        return f"{self.module}.{self.type_name}: {self.message}"


@dataclass
class Outcome:
    """What a capped call did.

    ``status`` is "ok" (``value`` holds the return value), "raised"
    (``raised`` describes the exception), "timeout" (killed after ``cap``
    seconds) or "crashed" (the child died without answering, e.g. on a
    signal; ``detail`` says how).
    """

    status: str
    value: object = None
    raised: Raised = None
    warnings: list = field(default_factory=list)
    elapsed: float = 0.0
    detail: str = ""
    report: object = None  # what ``child_report`` returned in the child
    stacks: str = ""  # the child's Python stacks when it was killed

    @property
    def compiling(self):
        """Whether the child was killed while Numba compiled a kernel."""
        return "numba/core/compiler" in self.stacks or "numba/core/typed_passes" in self.stacks

    def warned(self, category_name):
        return any(name == category_name for name, _ in self.warnings)


def _describe_exception(exc):
    mro = tuple(cls.__name__ for cls in type(exc).__mro__)
    return Raised(
        type_name=type(exc).__name__,
        module=type(exc).__module__,
        message=str(exc),
        traceback="".join(traceback.format_exception(exc)),
        mro=mro,
    )


def _execute(func, args, kwargs, child_report):
    """Run the call (in a child or the worker); the pickled answer."""
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        try:
            payload = ("ok", func(*args, **kwargs), None)
        except BaseException as exc:  # noqa: BLE001 - everything goes back
            payload = ("raised", None, _describe_exception(exc))
    caught = [(w.category.__name__, str(w.message)) for w in records]
    report = None
    if child_report is not None:
        try:
            report = child_report()
        except BaseException:  # noqa: BLE001 - a report is optional
            report = None
    try:
        return pickle.dumps((*payload, caught, report), protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException as exc:  # noqa: BLE001 - unpicklable return value
        return pickle.dumps(("raised", None, _describe_exception(exc), caught, report))


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _child(func, args, kwargs, write_fd, stack_file, child_report):
    try:
        _close_parent_fds()
        faulthandler.register(signal.SIGUSR1, file=stack_file, all_threads=True)
        _write_all(write_fd, _execute(func, args, kwargs, child_report))
    finally:
        os._exit(0)


def run_capped(func, *args, cap=None, child_report=None, **kwargs):
    """Call ``func(*args, **kwargs)`` in a forked child; return an :class:`Outcome`.

    The call is killed after ``cap`` seconds (default ``MTL_TIME_CAP`` from
    the environment, else 10). ``child_report``, if given, is called in the
    child after ``func`` (whatever its outcome); its picklable return value
    comes back as ``Outcome.report``.
    """
    cap = DEFAULT_CAP if cap is None else float(cap)
    with tempfile.TemporaryFile() as stack_file:
        return _run(func, args, kwargs, cap, child_report, stack_file)


def _run(func, args, kwargs, cap, child_report, stack_file):
    read_fd, write_fd = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.close(read_fd)
        _child(func, args, kwargs, write_fd, stack_file, child_report)
    os.close(write_fd)
    chunks = []
    deadline = start + cap
    timed_out = False
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([read_fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(read_fd, 1 << 20)
            if not chunk:
                break  # EOF: the child wrote everything (or died)
            chunks.append(chunk)
    finally:
        os.close(read_fd)
        stacks = ""
        if timed_out:
            stacks = _dump_stacks(pid, stack_file)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:  # pragma: no cover - raced to the end
                pass
        _, status = os.waitpid(pid, 0)
    elapsed = time.monotonic() - start
    if timed_out:
        return Outcome("timeout", elapsed=elapsed, detail=f"killed after {cap:g} s", stacks=stacks)
    data = b"".join(chunks)
    if not data:
        return Outcome("crashed", elapsed=elapsed, detail=_death(status))
    return _outcome(data, elapsed)


def _death(status):
    how = (
        f"signal {os.WTERMSIG(status)}"
        if os.WIFSIGNALED(status)
        else f"exit status {os.WEXITSTATUS(status)}"
    )
    return f"child died ({how})"


def _outcome(data, elapsed):
    kind, value, raised, caught, report = pickle.loads(data)
    return Outcome(
        kind,
        value=value,
        raised=raised,
        warnings=caught,
        elapsed=elapsed,
        report=report,
    )


_HEADER = 8  # bytes of a message's length, before the message
# This process's ends of the workers' pipes: a forked child closes them, so
# that a worker sees EOF (and leaves) as soon as this process is gone.
_PARENT_FDS = set()


def _close_parent_fds():  # pragma: no cover - runs in a child
    for fd in list(_PARENT_FDS):
        try:
            os.close(fd)
        except OSError:
            pass
    _PARENT_FDS.clear()


def _read_exactly(fd, size, deadline=None):
    """``size`` bytes from ``fd``; None at EOF, "timeout" past ``deadline``."""
    chunks = []
    while size:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "timeout"
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _serve(request_fd, answer_fd):  # pragma: no cover - runs in the worker
    """The worker's loop: read a call, run it, write the answer; until EOF."""
    while True:
        header = _read_exactly(request_fd, _HEADER)
        if header is None:
            return
        data = _read_exactly(request_fd, int.from_bytes(header, "little"))
        if data is None:
            return
        func, args, kwargs, child_report = pickle.loads(data)
        answer = _execute(func, args, kwargs, child_report)
        _write_all(answer_fd, len(answer).to_bytes(_HEADER, "little") + answer)


class CappedWorker:
    """A forked worker process that runs capped calls one after the other.

    ``call`` sends ``(func, args, kwargs)`` pickled (``func`` must be
    importable by name: a module-level function) and returns an
    :class:`Outcome` as :func:`run_capped` does. At the cap the worker's
    stacks are taken (SIGUSR1) and the worker is killed; a crash (or a kill)
    ends it too; the next call forks a new one from the current process, so
    that it inherits whatever was compiled meanwhile. ``on_start``, if given,
    runs in each new worker before its first call. Call :meth:`stop` when
    done (the worker also leaves when this process closes its pipe).
    """

    def __init__(self, on_start=None):
        self.on_start = on_start
        self.pid = None

    def _start(self):
        request_r, request_w = os.pipe()
        answer_r, answer_w = os.pipe()
        stack_file = tempfile.TemporaryFile()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the worker
            try:
                os.close(request_w)
                os.close(answer_r)
                _close_parent_fds()
                faulthandler.register(signal.SIGUSR1, file=stack_file, all_threads=True)
                if self.on_start is not None:
                    self.on_start()
                _serve(request_r, answer_w)
            finally:
                os._exit(0)
        os.close(request_r)
        os.close(answer_w)
        _PARENT_FDS.update((request_w, answer_r))
        self.pid, self.request_w, self.answer_r = pid, request_w, answer_r
        self.stack_file = stack_file

    def _end(self, kill):
        """Close the pipes, kill the worker if asked, reap it; its status."""
        pid, self.pid = self.pid, None
        for fd in (self.request_w, self.answer_r):
            _PARENT_FDS.discard(fd)
            try:
                os.close(fd)
            except OSError:  # pragma: no cover
                pass
        self.stack_file.close()
        if kill:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:  # pragma: no cover - already gone
                pass
        else:
            # Without its pipe the worker leaves at once; kill it if not.
            deadline = time.monotonic() + 5.0
            while time.monotonic() < deadline:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    return status
                time.sleep(0.01)
            os.kill(pid, signal.SIGKILL)  # pragma: no cover
        return os.waitpid(pid, 0)[1]

    def stop(self):
        """End the worker (if any)."""
        if self.pid is not None:
            self._end(kill=False)

    def call(self, func, *args, cap=None, child_report=None, **kwargs):
        """Run ``func(*args, **kwargs)`` in the worker under ``cap`` seconds."""
        cap = DEFAULT_CAP if cap is None else float(cap)
        request = pickle.dumps((func, args, kwargs, child_report), protocol=pickle.HIGHEST_PROTOCOL)
        if self.pid is None:
            self._start()
        start = time.monotonic()
        deadline = start + cap
        try:
            _write_all(self.request_w, len(request).to_bytes(_HEADER, "little") + request)
            header = _read_exactly(self.answer_r, _HEADER, deadline)
            answer = header
            if header not in (None, "timeout"):
                answer = _read_exactly(self.answer_r, int.from_bytes(header, "little"), deadline)
        except BrokenPipeError:  # pragma: no cover - the worker had died
            answer = None
        if answer == "timeout":
            stacks = _dump_stacks(self.pid, self.stack_file)
            self._end(kill=True)
            return Outcome(
                "timeout",
                elapsed=time.monotonic() - start,
                detail=f"killed after {cap:g} s",
                stacks=stacks,
            )
        if answer is None:
            status = self._end(kill=False)
            return Outcome("crashed", elapsed=time.monotonic() - start, detail=_death(status))
        return _outcome(answer, time.monotonic() - start)


def _dump_stacks(pid, stack_file, wait=1.0):
    """The child's Python stacks, written by faulthandler on SIGUSR1."""
    try:
        os.kill(pid, signal.SIGUSR1)
    except ProcessLookupError:  # pragma: no cover
        return ""
    deadline = time.monotonic() + wait
    size = -1
    while time.monotonic() < deadline:
        time.sleep(0.05)
        new_size = os.fstat(stack_file.fileno()).st_size
        if new_size > 0 and new_size == size:
            break
        size = new_size
    stack_file.seek(0)
    return stack_file.read().decode(errors="replace")
