"""What the container's cgroup says (v2 unified first, then v1): its memory limit and
use, CPU time, OOM-kill counter and pids limit. The verdicts need them to tell an OOM
kill from another SIGKILL and to say which limit refused a fork; `faasctl top` reads
CPU and memory through the warm server's /stats."""

import os


def read_small_file(path):
    try:
        with open(path) as handle:
            return handle.read().strip()
    except OSError:
        return None


def cgroup_dir(controller):
    """The directory of our cgroup for `controller` (v2 unified first, then v1)."""
    for line in (read_small_file("/proc/self/cgroup") or "").splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3 and parts[0] == "0" and os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
            path = "/sys/fs/cgroup" + parts[2]
            # With a private cgroup namespace our cgroup is the mount root.
            return path if os.path.exists(path + "/%s.max" % controller) else "/sys/fs/cgroup"
    # v1: inside a container each hierarchy is mounted at the container's cgroup.
    return "/sys/fs/cgroup/" + controller


def cgroup_memory_limit():
    base = cgroup_dir("memory")
    raw = read_small_file(base + "/memory.max") or read_small_file(base + "/memory.limit_in_bytes")
    if not raw or not raw.isdigit():
        return 0
    limit = int(raw)
    return limit if limit < (1 << 60) else 0  # v1 spells "no limit" as a huge number


def cgroup_cpu_usec():
    """CPU time of the whole container (server and workers), from its cgroup; None if unknown."""
    base = cgroup_dir("cpu")
    for line in (read_small_file(base + "/cpu.stat") or "").splitlines():
        key, _, value = line.partition(" ")
        if key == "usage_usec" and value.strip().isdigit():
            return int(value)
    raw = read_small_file(cgroup_dir("cpuacct") + "/cpuacct.usage")  # v1: nanoseconds
    return int(raw) // 1000 if raw and raw.isdigit() else None


def cgroup_memory_current():
    base = cgroup_dir("memory")
    raw = read_small_file(base + "/memory.current") or read_small_file(base + "/memory.usage_in_bytes")
    return int(raw) if raw and raw.isdigit() else None


def cgroup_oom_kills():
    """The cgroup's oom_kill counter, or None when unreadable: compared before/after the
    run it tells a real OOM kill from any other SIGKILL."""
    base = cgroup_dir("memory")
    text = read_small_file(base + "/memory.events") or read_small_file(base + "/memory.oom_control")
    for line in (text or "").splitlines():
        key, _, value = line.partition(" ")
        if key == "oom_kill" and value.strip().isdigit():
            return int(value)
    return None


def cgroup_pids_state():
    """(limit, times the limit refused a fork or thread) from the pids controller;
    None for what cannot be read (no cgroup, or not Linux)."""
    base = cgroup_dir("pids")
    raw = read_small_file(base + "/pids.max")
    limit = int(raw) if raw and raw.isdigit() else None
    refused = None
    for line in (read_small_file(base + "/pids.events") or "").splitlines():
        key, _, value = line.partition(" ")
        if key == "max" and value.strip().isdigit():
            refused = int(value)
    return limit, refused


def process_limit_note(before, after):
    """Why a fork failed with EAGAIN or the run timed out, when the pids cgroup counted
    refusals during the run: a BlockingIOError alone does not say which limit it was."""
    limit, refused_after = after
    refused_before = before[1]
    if refused_before is None or refused_after is None or refused_after <= refused_before:
        return None
    what = "limit of %d processes and threads" % limit if limit else "process and thread limit"
    return "the container's %s was reached: %d forks or thread starts refused" % (
        what, refused_after - refused_before)

