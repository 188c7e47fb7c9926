r"""Run a student's code in a sandbox and bring back, as plain data, what each call returned.

    result = run_submission(code_cells, calls, Limits(wall_seconds=30))
    result.calls[k]      # CallResult of calls[k]: its value, or its error, warnings, nnlib use
    result.status        # "ok", "timeout", "cpu_limit", "killed", "crashed", "exit" or "setup_error"

One fresh process per submission runs :mod:`autograder.harness` with the interpreter of this
virtualenv started as ``python -I -S -B`` (no environment, no ``site``, no script folder on
``sys.path``): only NumPy's folder is added, and ``nnlib``/``autograder`` are replaced by stubs
that refuse (and record) any use. The calls' inputs go in as ``args.npz`` + ``manifest.json``;
results come back as JSON lines on a pipe, arrays as ``.npy`` bytes, read with
``allow_pickle=False`` and validated: the grader never unpickles student data, and what the
student prints cannot forge a verdict (verdicts are computed by :mod:`autograder.verdict`).

Limits (:class:`Limits`) on every run: CPU seconds (``RLIMIT_CPU``), address space
(``RLIMIT_AS``, 1 GiB), processes (``RLIMIT_NPROC``), file size (``RLIMIT_FSIZE``), open files,
no core dumps, a wall-clock timeout that kills the whole process group, a per-cell and per-call
time limit inside the harness, and at most ``output_bytes`` kept of stdout and of stderr.

Isolation (``Limits.isolation``; ``"auto"`` picks the first that works here):

``"namespace"`` (the grader runs as root): the child gets new mount, network, IPC and UTS
    namespaces and is ``chroot``-ed into an empty read-only tmpfs holding bind mounts of just what
    Python needs (``/usr``, the interpreter's prefix, NumPy's folders, ``/dev/null``...). It runs
    under a fresh unprivileged uid (one per run, or ``Limits.uid``) with its working directory a
    private size-limited tmpfs owned by that uid. The course sources, solutions, gradebook and
    other students' folders do not exist in its file system; it cannot write anywhere else; it has
    no network; ``RLIMIT_NPROC`` holds for its uid (a fork bomb stops at ``nproc``), and every
    process of that uid is killed afterwards.
``"landlock"`` (the grader is not root, or namespaces are unavailable): the Linux Landlock LSM
    (kernel 5.13+, unprivileged) restricts the child to reading the same folders and writing its
    working directory; TCP and signals to outside processes are denied when the kernel supports it.
    It runs under the grader's own uid, so ``RLIMIT_NPROC`` counts the grader's processes too (the
    limit is set to their current number plus ``nproc``; root ignores it); the working directory
    is a plain folder, bounded per file by ``RLIMIT_FSIZE`` only; leftovers are killed by process group.
``"none"``: resource limits only. For debugging; never for grading untrusted code.
"""
import ctypes
import functools
import importlib.util
import json
import os
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from autograder import harness
from autograder.compare import CallResult

ISOLATIONS = ("auto", "namespace", "landlock", "none")
HARNESS = Path(harness.__file__).resolve()
UID_RANGE = (2_000_000, 3_000_000)  # fresh sandbox uids, no account has them
NOBODY = 65534


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandbox run (sizes in bytes, times in seconds)."""
    wall_seconds: float = 60.0
    cpu_seconds: int = 30
    cell_seconds: float = 10.0
    call_seconds: float = 10.0
    memory_bytes: int = 1 << 30
    nproc: int = 16
    fsize_bytes: int = 16 << 20
    disk_bytes: int = 32 << 20
    nofile: int = 64
    output_bytes: int = 64 << 10
    result_bytes: int = 64 << 20
    isolation: str = "auto"
    uid: int | None = None
    packages: tuple = ("numpy",)


class Call(NamedTuple):
    """One call to make: ``function(*args, **kwargs)`` for case ``index`` of ``exercise``.

    ``function`` is the name the student's code defines (the exercise's name when empty).
    """
    exercise: str
    index: int
    args: tuple
    kwargs: dict
    function: str = ""


class CellReport(NamedTuple):
    """What happened when one code cell ran: its exception (``""`` if none) and nnlib use."""
    index: int
    error_type: str = ""
    error_message: str = ""
    traceback: tuple = ()  # (cell, line, function, code) of the student's frames
    used_nnlib: bool = False


@dataclass
class SandboxResult:
    """Everything the grader learns from one run, all of it plain validated data."""
    status: str
    isolation: str
    returncode: int | None = None
    seconds: float = 0.0
    cells: list = field(default_factory=list)
    calls: list = field(default_factory=list)
    stdout: str = ""
    stderr: str = ""
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    results_truncated: bool = False
    protocol_errors: list = field(default_factory=list)
    uid: int | None = None

    @property
    def nnlib_used(self):
        return any(c.used_nnlib for c in self.cells if c) or any(c.used_nnlib for c in self.calls)


# --- the C library: namespaces, mounts, Landlock ----------------------------------------------------

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWNET = 0x00020000, 0x04000000, 0x08000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18
PR_SET_NO_NEW_PRIVS = 38
SYS_LANDLOCK_CREATE_RULESET, SYS_LANDLOCK_ADD_RULE, SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446
LL_EXECUTE, LL_WRITE_FILE, LL_READ_FILE, LL_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
LL_TRUNCATE, LL_IOCTL_DEV = 1 << 14, 1 << 15
LL_READ = LL_EXECUTE | LL_READ_FILE | LL_READ_DIR
LL_FILE_RIGHTS = LL_EXECUTE | LL_WRITE_FILE | LL_READ_FILE | LL_TRUNCATE | LL_IOCTL_DEV


@functools.lru_cache(maxsize=None)
def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    return libc


def _ok(result, what):
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return result


def _mount(source, target, fstype, flags, data=None):
    enc = (lambda s: None if s is None else str(s).encode())
    _ok(_libc().mount(enc(source), enc(target), enc(fstype), flags, enc(data)), f"mount {target}")


def landlock_abi():
    """The kernel's Landlock ABI version (0 when Landlock is unavailable)."""
    try:
        return max(0, _libc().syscall(SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1)))
    except (OSError, AttributeError):
        return 0


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _landlock(rules, abi):
    """Restrict this process to ``rules`` (path -> allowed access bits); irreversible."""
    libc = _libc()
    handled = (1 << 13) - 1                      # ABI 1: execute ... make_sym
    handled |= (1 << 13) if abi >= 2 else 0      # refer
    handled |= LL_TRUNCATE if abi >= 3 else 0
    handled |= LL_IOCTL_DEV if abi >= 5 else 0
    attr = _RulesetAttr(handled, 0b11 if abi >= 4 else 0, 0b11 if abi >= 6 else 0)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    ruleset = _ok(libc.syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size),
                               ctypes.c_uint32(0)), "landlock_create_ruleset")
    for path, access in rules:
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except FileNotFoundError:
            continue
        if not os.path.isdir(path):
            access &= LL_FILE_RIGHTS
        rule = _PathBeneath(access & handled, fd)
        _ok(libc.syscall(SYS_LANDLOCK_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(1), ctypes.byref(rule),
                         ctypes.c_uint32(0)), f"landlock_add_rule {path}")
        os.close(fd)
    _ok(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")
    _ok(libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)), "landlock_restrict_self")
    os.close(ruleset)


# --- what the child may see -------------------------------------------------------------------------

class _Plan(NamedTuple):
    """Paths of one run, computed in the parent (the child only acts on them)."""
    mode: str
    executable: str
    readonly: tuple      # folders (and files) to read: interpreter, libraries, NumPy, inputs
    symlinks: tuple      # (path, target) of top-level links such as /lib -> usr/lib
    listable: tuple      # folders that may only be listed (site-packages)
    devices: tuple
    site_dirs: tuple
    box: str
    inputs: str
    work: str
    root: str
    uid: int | None
    limits: Limits
    nproc: int


def _package_dirs(packages):
    dirs, sites = [], []
    for name in packages:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            raise ValueError(f"package {name!r} for the sandbox is not installed")
        folder = os.path.realpath(list(spec.submodule_search_locations)[0])
        site = os.path.dirname(folder)
        dirs.append(folder)
        if os.path.isdir(folder + ".libs"):
            dirs.append(folder + ".libs")
        if site not in sites:
            sites.append(site)
    return tuple(dirs), tuple(sites)


def _system_paths():
    readonly, links = ["/usr"], []
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            links.append((top, os.readlink(top)))
        elif os.path.isdir(top):
            readonly.append(top)
    if os.path.isfile("/etc/ld.so.cache"):
        readonly.append("/etc/ld.so.cache")
    return readonly, links


def _covered(path, roots):
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def _make_plan(mode, limits, box, uid):
    executable = os.path.realpath(sys.executable)
    readonly, links = _system_paths()
    for path in (os.path.realpath(sys.base_prefix), os.path.dirname(executable)):
        if not _covered(path, readonly):
            readonly.append(path)
    packages, sites = _package_dirs(limits.packages)
    readonly += [p for p in packages if not _covered(p, readonly)]
    inputs, work = os.path.join(box, "in"), os.path.join(box, "work")
    readonly.append(inputs)
    nproc = limits.nproc
    if mode != "namespace" and os.geteuid() != 0:
        nproc += _count_tasks(os.geteuid())
    return _Plan(mode, executable, tuple(readonly), tuple(links), sites,
                 ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random"), sites, box, inputs, work,
                 os.path.join(box, "root"), uid, limits, nproc)


def _pids_of(uid):
    """Live (not zombie) pids whose real uid is ``uid`` (read from /proc/PID/status: a process that changed its uid is
    not dumpable, and its /proc folder then belongs to root)."""
    pids = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/status") as f:
                    fields = dict(line.split(":", 1) for line in f if ":" in line)
                if int(fields["Uid"].split()[0]) == uid and not fields["State"].strip().startswith(("Z", "X")):
                    pids.append(int(pid))
            except (OSError, ValueError, IndexError, KeyError):
                pass
    return pids


def _count_tasks(uid):
    """Processes and threads of ``uid`` (what RLIMIT_NPROC counts)."""
    count = 0
    for pid in _pids_of(uid):
        try:
            count += len(os.listdir(f"/proc/{pid}/task"))
        except OSError:
            pass
    return count


def _set_limits(limits, nproc):
    cpu = int(limits.cpu_seconds)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.fsize_bytes, limits.fsize_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits.nofile, limits.nofile))
    resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))


def _enter_namespace(plan):
    """Child side of ``"namespace"``: private mounts, chroot into a minimal tree, drop to ``plan.uid``."""
    os.umask(0o022)
    _ok(_libc().unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS), "unshare")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    root = plan.root
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m,nr_inodes=4096")

    def bind(source, writable=False):
        target = root + source
        if os.path.isdir(source):
            os.makedirs(target, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            open(target, "a").close()
        _mount(source, target, None, MS_BIND | MS_REC)
        flags = MS_BIND | MS_REMOUNT | MS_NOSUID | (0 if writable else MS_RDONLY)
        _mount(None, target, None, flags | (MS_NODEV if not source.startswith("/dev/") else 0))

    for path in plan.readonly:
        bind(path)
    for path in plan.devices:
        bind(path, writable=True)
    for path, target in plan.symlinks:
        os.symlink(target, root + path)
    os.makedirs(root + plan.work, exist_ok=True)
    size = plan.limits.disk_bytes
    _mount("tmpfs", root + plan.work, "tmpfs", MS_NOSUID | MS_NODEV,
           f"mode=0700,uid={plan.uid},gid={plan.uid},size={size},nr_inodes=1000")
    _mount(None, root, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    os.chroot(root)
    os.chdir(plan.work)
    _set_limits(plan.limits, plan.nproc)
    os.setgroups([])
    os.setresgid(plan.uid, plan.uid, plan.uid)
    os.setresuid(plan.uid, plan.uid, plan.uid)
    _ok(_libc().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")


def _enter_landlock(plan):
    """Child side of ``"landlock"``: rlimits, then Landlock rules (read the plan, write the workdir)."""
    os.chdir(plan.work)
    _set_limits(plan.limits, plan.nproc)
    rw = (1 << 16) - 1
    rules = [(p, LL_READ) for p in plan.readonly] + [(p, LL_READ_DIR) for p in plan.listable]
    rules += [("/dev/null", LL_READ_FILE | LL_WRITE_FILE), ("/dev/zero", LL_READ_FILE),
              ("/dev/urandom", LL_READ_FILE), ("/dev/random", LL_READ_FILE), (plan.work, rw)]
    _landlock(rules, landlock_abi())


def _child_setup(plan):
    os.setsid()
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    if plan.mode == "namespace":
        _enter_namespace(plan)
    elif plan.mode == "landlock":
        _enter_landlock(plan)
    else:
        os.chdir(plan.work)
        _set_limits(plan.limits, plan.nproc)


def _fresh_uid():
    """A uid no account uses, inside this user namespace's uid map (else ``nobody``)."""
    import pwd
    import secrets

    try:
        with open("/proc/self/uid_map") as f:
            ranges = [tuple(map(int, line.split())) for line in f]
    except OSError:
        ranges = []
    inside = any(start <= UID_RANGE[0] and UID_RANGE[1] <= start + count for start, _, count in ranges)
    if not inside:
        return NOBODY
    for _ in range(20):
        uid = UID_RANGE[0] + secrets.randbelow(UID_RANGE[1] - UID_RANGE[0])
        try:
            pwd.getpwuid(uid)
        except KeyError:
            return uid
    return NOBODY


@functools.lru_cache(maxsize=None)
def isolation_works(mode):
    """Whether ``mode`` can start a Python here (tried once per process, ~0.05 s)."""
    if mode == "none":
        return True
    if mode == "namespace" and os.geteuid() != 0:
        return False
    if mode == "landlock" and landlock_abi() < 1:
        return False
    box = tempfile.mkdtemp(prefix="autograder-probe-")
    try:
        uid = _fresh_uid() if mode == "namespace" else None
        plan = _make_plan(mode, Limits(packages=()), box, uid)
        for folder in (plan.inputs, plan.work, plan.root):
            os.makedirs(folder)
        os.chmod(box, 0o755)
        proc = subprocess.run([plan.executable, "-I", "-S", "-B", "-c", "import os; os.listdir('.')"],
                              preexec_fn=functools.partial(_child_setup, plan), env=_environment(plan),
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
        return proc.returncode == 0
    except (OSError, subprocess.SubprocessError, ValueError):
        return False
    finally:
        shutil.rmtree(box, ignore_errors=True)


def resolve_isolation(requested="auto"):
    """The isolation to use: ``requested`` if it works here; for "auto" the strongest that works."""
    if requested not in ISOLATIONS:
        raise ValueError(f"isolation must be one of {ISOLATIONS}, got {requested!r}")
    if requested != "auto":
        if not isolation_works(requested):
            raise RuntimeError(f"sandbox isolation {requested!r} is not available on this machine "
                               "(namespace needs root; landlock needs Linux 5.13+ with Landlock enabled)")
        return requested
    for mode in ("namespace", "landlock"):
        if isolation_works(mode):
            return mode
    return "none"


def _environment(plan):
    return {"PATH": "/usr/bin:/bin", "HOME": plan.work, "TMPDIR": plan.work, "LANG": "C.UTF-8",
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


# --- running ----------------------------------------------------------------------------------------

def _write_inputs(inputs, code_cells, calls, limits):
    arrays, manifest_calls = {}, []
    for number, call in enumerate(calls):
        manifest_calls.append({
            "id": number, "function": call.function or call.exercise,
            "args": harness.encode(tuple(call.args), arrays, 1 << 62),
            "kwargs": harness.encode(dict(call.kwargs), arrays, 1 << 62),
        })
    manifest = {"cells": [str(c) for c in code_cells], "calls": manifest_calls,
                "cell_seconds": limits.cell_seconds, "call_seconds": limits.call_seconds,
                "result_bytes": limits.result_bytes}
    with open(os.path.join(inputs, harness.MANIFEST), "w", encoding="utf-8") as f:
        json.dump(manifest, f)
    np.savez(os.path.join(inputs, harness.ARGS), **arrays)
    shutil.copyfile(HARNESS, os.path.join(inputs, "harness.py"))
    for name in os.listdir(inputs):
        os.chmod(os.path.join(inputs, name), 0o644)
    os.chmod(inputs, 0o755)


class _Capped:
    """Keep the first ``limit`` bytes of a stream, count the rest."""

    def __init__(self, limit):
        self.limit, self.parts, self.size, self.total = limit, [], 0, 0

    def feed(self, chunk):
        self.total += len(chunk)
        room = self.limit - self.size
        if room > 0:
            self.parts.append(chunk[:room])
            self.size += min(room, len(chunk))

    @property
    def data(self):
        return b"".join(self.parts)

    @property
    def truncated(self):
        return self.total > self.size


def _kill_uid(uid):
    """SIGKILL every process of ``uid`` (a fresh sandbox uid) until none is left."""
    for _ in range(100):
        pids = _pids_of(uid)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.01)


def _kill_all(pid, plan):
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if plan.mode == "namespace" and plan.uid not in (None, NOBODY):
        _kill_uid(plan.uid)


def _run(plan, result_read, result_write):
    cmd = [plan.executable, "-I", "-S", "-B", os.path.join(plan.inputs, "harness.py"), plan.inputs,
           str(result_write), *plan.site_dirs]
    limits = plan.limits
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=_environment(plan), cwd="/", pass_fds=(result_write,),
                            preexec_fn=functools.partial(_child_setup, plan))
    os.close(result_write)
    out, err, results = _Capped(limits.output_bytes), _Capped(limits.output_bytes), _Capped(limits.result_bytes)
    streams = {proc.stdout.fileno(): out, proc.stderr.fileno(): err, result_read: results}
    selector = selectors.DefaultSelector()
    for fd in streams:
        os.set_blocking(fd, False)
        selector.register(fd, selectors.EVENT_READ)
    deadline, timed_out, status, rusage, exited_at = start + limits.wall_seconds, False, None, None, None
    while selector.get_map():
        now = time.monotonic()
        if now >= deadline:
            timed_out = status is None
            break
        if exited_at is not None and now - exited_at > 1.0:
            break  # the harness is gone; a leftover child keeps the pipes open
        for key, _ in selector.select(min(0.1, deadline - now)):
            try:
                chunk = os.read(key.fd, 1 << 16)
            except BlockingIOError:
                continue
            if chunk:
                streams[key.fd].feed(chunk)
            else:
                selector.unregister(key.fd)
        if status is None:
            pid, wstatus, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                status, rusage, exited_at = wstatus, usage, time.monotonic()
                _kill_all(proc.pid, plan)
    selector.close()
    _kill_all(proc.pid, plan)
    if status is None:
        _, status, rusage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    for fd in list(streams):
        try:
            while chunk := os.read(fd, 1 << 16):
                streams[fd].feed(chunk)
        except (BlockingIOError, OSError):
            pass
    proc.stdout.close()
    proc.stderr.close()
    os.close(result_read)
    cpu = rusage.ru_utime + rusage.ru_stime if rusage else 0.0
    return proc.returncode, timed_out, cpu, time.monotonic() - start, out, err, results


_ERROR_STATUS = {"__timeout__": "timeout", "__undefined__": "undefined", "__not_callable__": "not_callable",
                 "__unsupported__": "unsupported"}


def _short(value, limit=300):
    return value[:limit] if isinstance(value, str) else ""


def _parse_results(data, n_cells, n_calls, limits):
    """Validate the harness's JSON lines: (cells, calls, done, protocol errors). Never trusts them."""
    cells, calls, problems, done = [None] * n_cells, [None] * n_calls, [], False
    for line in data.split(b"\n"):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
            kind = event["event"]
            if kind == "done":
                done = True
            elif kind == "cell":
                index = event["index"]
                if type(index) is not int or not 0 <= index < n_cells:
                    raise ValueError("cell index out of range")
                error = event.get("error") or {}
                frames = tuple(tuple(f)[:4] for f in (error.get("traceback") or [])[:5] if isinstance(f, list))
                cells[index] = CellReport(index, _short(error.get("type")), _short(error.get("message")),
                                          frames, event.get("nnlib") is True)
            elif kind == "call":
                number = event["id"]
                if type(number) is not int or not 0 <= number < n_calls:
                    raise ValueError("call id out of range")
                calls[number] = _call_result(event, limits)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            problems.append(f"unreadable result line: {type(exc).__name__}: {str(exc)[:100]}")
    return cells, calls, done, problems[:10]


def _call_result(event, limits):
    nnlib = event.get("nnlib") is True
    warnings_ = tuple(w[:200] for w in (event.get("warnings") or [])[:5] if isinstance(w, str))
    error = event.get("error")
    if error:
        kind = _short(error.get("type"), 100)
        if kind in _ERROR_STATUS:
            return CallResult(_ERROR_STATUS[kind], None, "", _short(error.get("message")), warnings_, nnlib)
        return CallResult("error", None, kind, _short(error.get("message")), warnings_, nnlib)
    raw = event.get("arrays") or {}
    if not isinstance(raw, dict) or len(raw) > harness.MAX_ITEMS:
        raise ValueError("malformed arrays")
    arrays = {str(k): harness.array_from_text(v, limits.result_bytes) for k, v in raw.items()}
    return CallResult("ok", harness.decode(event.get("value"), arrays), warnings=warnings_, used_nnlib=nnlib)


def _classify(returncode, timed_out, cpu, done, limits):
    if timed_out:
        return "timeout"
    if returncode is not None and returncode < 0:
        sig = -returncode
        if sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu >= limits.cpu_seconds - 0.5):
            return "cpu_limit"
        if sig in (signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT, signal.SIGILL, signal.SIGFPE):
            return "crashed"
        return "killed"
    if not done:
        return "exit"
    return "ok"


def run_submission(code_cells, calls, limits=None, workdir=None):
    """Run ``code_cells`` then every :class:`Call` in one sandboxed process; return a :class:`SandboxResult`.

    ``workdir``: an existing folder to hold this run's scratch directory (default: the system's
    temporary folder); the scratch directory is removed afterwards. ``result.calls[k]`` answers
    ``calls[k]``; a call that never ran has status ``"missing"``.
    """
    limits = limits or Limits()
    calls = list(calls)
    code_cells = list(code_cells)
    mode = resolve_isolation(limits.isolation)
    uid = (limits.uid or _fresh_uid()) if mode == "namespace" else None
    box = tempfile.mkdtemp(prefix="autograder-", dir=workdir)
    try:
        os.chmod(box, 0o755)
        plan = _make_plan(mode, limits, box, uid)
        for folder in (plan.inputs, plan.work, plan.root):
            os.makedirs(folder)
        os.chmod(plan.work, 0o700)
        _write_inputs(plan.inputs, code_cells, calls, limits)
        result_read, result_write = os.pipe()
        try:
            returncode, timed_out, cpu, seconds, out, err, results = _run(plan, result_read, result_write)
        except subprocess.SubprocessError as exc:
            return SandboxResult("setup_error", mode, protocol_errors=[f"sandbox setup failed: {exc}"],
                                 calls=[CallResult("missing")] * len(calls), cells=[None] * len(code_cells), uid=uid)
        cells, call_results, done, problems = _parse_results(results.data, len(code_cells), len(calls), limits)
        if results.truncated:
            problems.append("results truncated")
        return SandboxResult(
            status=_classify(returncode, timed_out, cpu, done, limits), isolation=mode, returncode=returncode,
            seconds=round(seconds, 3), cells=cells,
            calls=[c if c is not None else CallResult("missing") for c in call_results],
            stdout=out.data.decode("utf-8", "replace"), stderr=err.data.decode("utf-8", "replace"),
            stdout_truncated=out.truncated, stderr_truncated=err.truncated, results_truncated=results.truncated,
            protocol_errors=problems, uid=uid)
    finally:
        shutil.rmtree(box, ignore_errors=True)
