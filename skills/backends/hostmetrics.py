"""Parse the text of Linux /proc files and fixed commands into numbers.

One parser per metric, shared by the local and SSH transports (skills/backends/ssh.py), so a
server reached over SSH is described exactly like this machine. Pure functions: text in,
plain dicts out; no I/O here.
"""

from __future__ import annotations

from skills.errors import UpstreamUnavailable

# Filesystems that hold no user data; df lists them but nobody asks if /dev/shm is full.
PSEUDO_FILESYSTEMS = {
    "tmpfs", "devtmpfs", "squashfs", "proc", "sysfs", "cgroup", "cgroup2", "devpts", "mqueue", "ramfs",
    "efivarfs", "autofs", "tracefs", "debugfs", "securityfs", "pstore", "bpf", "fusectl", "configfs",
    "hugetlbfs", "nsfs", "binfmt_misc", "rpc_pipefs", "nfsd", "fuse.lxcfs",
}  # fmt: skip
SYSTEMD_STATES = {"active", "inactive", "failed", "activating", "deactivating", "reloading", "maintenance"}


def _bad(what: str, text: str) -> UpstreamUnavailable:
    sample = " ".join(text.split())[:80]
    return UpstreamUnavailable(f"could not understand {what} from the server (got {sample!r})")


def parse_cpu_times(text: str) -> dict:
    """/proc/stat -> {"total": [jiffies...], "cores": [[...], ...], "boot_time": epoch seconds}."""
    total, cores, boot_time = None, [], None
    for line in text.splitlines():
        fields = line.split()
        if not fields:
            continue
        if fields[0] == "cpu":
            total = [int(v) for v in fields[1:]]
        elif fields[0].startswith("cpu") and fields[0][3:].isdigit():
            cores.append([int(v) for v in fields[1:]])
        elif fields[0] == "btime":
            boot_time = int(fields[1])
    if total is None or not cores:
        raise _bad("/proc/stat", text)
    return {"total": total, "cores": cores, "boot_time": boot_time}


def _busy_share(before: list[int], after: list[int]) -> dict:
    # user nice system idle iowait irq softirq steal; guest time is already inside user.
    delta = [b - a for a, b in zip(before[:8], after[:8])]
    delta += [0] * (8 - len(delta))
    elapsed = sum(delta)
    if elapsed <= 0:
        return {"busy_percent": 0.0, "iowait_percent": 0.0, "steal_percent": 0.0}
    idle = delta[3] + delta[4]
    return {
        "busy_percent": round(100.0 * (elapsed - idle) / elapsed, 1),
        "iowait_percent": round(100.0 * delta[4] / elapsed, 1),
        "steal_percent": round(100.0 * delta[7] / elapsed, 1),
    }


def cpu_usage(before: dict, after: dict, interval_s: float) -> dict:
    """Percentages from two /proc/stat samples taken `interval_s` apart."""
    share = _busy_share(before["total"], after["total"])
    per_core = [_busy_share(a, b)["busy_percent"] for a, b in zip(before["cores"], after["cores"])]
    return {**share, "interval_s": round(interval_s, 2), "cores": len(after["cores"]), "per_core_percent": per_core}


def parse_meminfo(text: str) -> dict:
    """/proc/meminfo (kB) -> bytes; `used` is what cannot be reclaimed (total - available)."""
    values = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            values[name.strip()] = int(parts[0]) * (1024 if parts[1:] == ["kB"] else 1)
    if "MemTotal" not in values:
        raise _bad("/proc/meminfo", text)
    total = values["MemTotal"]
    available = values.get("MemAvailable", values.get("MemFree", 0) + values.get("Cached", 0))
    swap_total, swap_free = values.get("SwapTotal", 0), values.get("SwapFree", 0)
    return {
        "total_bytes": total,
        "available_bytes": available,
        "used_bytes": total - available,
        "free_bytes": values.get("MemFree", 0),
        "buffers_bytes": values.get("Buffers", 0),
        "cached_bytes": values.get("Cached", 0),
        "used_percent": round(100.0 * (total - available) / total, 1) if total else 0.0,
        "swap_total_bytes": swap_total,
        "swap_used_bytes": swap_total - swap_free,
        "swap_used_percent": round(100.0 * (swap_total - swap_free) / swap_total, 1) if swap_total else 0.0,
    }


def parse_loadavg(text: str) -> dict:
    fields = text.split()
    try:
        running, _, total = fields[3].partition("/")
        return {
            "load_1m": float(fields[0]),
            "load_5m": float(fields[1]),
            "load_15m": float(fields[2]),
            "running_tasks": int(running),
            "total_tasks": int(total),
        }
    except (IndexError, ValueError):
        raise _bad("/proc/loadavg", text) from None


def parse_uptime(text: str) -> float:
    try:
        return float(text.split()[0])
    except (IndexError, ValueError):
        raise _bad("/proc/uptime", text) from None


def parse_filesystems(text: str) -> list[dict]:
    """`df -P -T -B1` -> real filesystems (pseudo ones dropped), one entry per mount point."""
    result, seen = [], set()
    for line in text.splitlines()[1:]:
        fields = line.split(None, 6)
        if len(fields) < 7 or not fields[2].isdigit() or fields[1] in PSEUDO_FILESYSTEMS:
            continue
        device, fstype, size, used, available, _, mount = fields
        if mount in seen:
            continue
        seen.add(mount)
        size, used, available = int(size), int(used), int(available)
        usable = used + available  # what df's Use% is based on: excludes root-reserved blocks
        result.append({
            "mount": mount, "device": device, "type": fstype, "size_bytes": size, "used_bytes": used,
            "available_bytes": available, "used_percent": round(100.0 * used / usable, 1) if usable else 0.0,
        })  # fmt: skip
    if not result:
        raise _bad("df output", text)
    return result


def parse_processes(text: str) -> list[dict]:
    """`ps -eo pid=,user=,pcpu=,pmem=,rss=,comm=` -> one dict per process (rss in bytes)."""
    processes = []
    for line in text.splitlines():
        fields = line.split(None, 5)
        if len(fields) < 6:
            continue
        try:
            processes.append({
                "pid": int(fields[0]), "user": fields[1], "cpu_percent_lifetime": float(fields[2]),
                "memory_percent": float(fields[3]), "rss_bytes": int(fields[4]) * 1024, "command": fields[5].strip(),
            })  # fmt: skip
        except ValueError:
            continue
    if not processes:
        raise _bad("ps output", text)
    return processes


def parse_process_ticks(text: str) -> dict[int, int]:
    """/proc/<pid>/stat lines -> {pid: user+system CPU ticks}. comm may hold spaces and ')'."""
    ticks = {}
    for line in text.splitlines():
        pid, _, rest = line.partition(" (")
        after_comm = rest.rpartition(") ")[2].split()
        if pid.isdigit() and len(after_comm) > 12:
            ticks[int(pid)] = int(after_comm[11]) + int(after_comm[12])  # fields 14 utime, 15 stime
    return ticks


def process_cpu_percent(ticks: tuple[dict, dict], cpu: tuple[dict, dict]) -> dict[int, float]:
    """Each process's share of ONE core between two samples (like top: 200% = two full cores).

    Measured against the kernel's own tick count from /proc/stat, so no clock-tick constant
    is needed from the server.
    """
    before, after = cpu
    elapsed_per_core = (sum(after["total"][:8]) - sum(before["total"][:8])) / max(1, len(after["cores"]))
    if elapsed_per_core <= 0:
        return {}
    return {
        pid: round(100.0 * max(0, now - ticks[0].get(pid, now)) / elapsed_per_core, 1) for pid, now in ticks[1].items()
    }


def top_processes(processes: list[dict], limit: int, sort_by: str) -> list[dict]:
    """Needs `cpu_percent` (a measured share, see process_cpu_percent) on each process."""
    key = "rss_bytes" if sort_by == "memory" else "cpu_percent"
    return sorted(processes, key=lambda p: (p[key], p["rss_bytes"]), reverse=True)[:limit]


def parse_net_dev(text: str) -> dict[str, dict]:
    """/proc/net/dev -> {interface: {rx_bytes, rx_packets, rx_errors, rx_dropped, tx_...}}."""
    interfaces = {}
    for line in text.splitlines()[2:]:
        name, sep, rest = line.partition(":")
        values = rest.split()
        if not sep or len(values) < 12:
            continue
        v = [int(x) for x in values]
        interfaces[name.strip()] = {
            "rx_bytes": v[0], "rx_packets": v[1], "rx_errors": v[2], "rx_dropped": v[3],
            "tx_bytes": v[8], "tx_packets": v[9], "tx_errors": v[10], "tx_dropped": v[11],
        }  # fmt: skip
    if not interfaces:
        raise _bad("/proc/net/dev", text)
    return interfaces


def network_rates(before: dict, after: dict, interval_s: float) -> dict[str, dict]:
    """Counters from the second sample plus bytes/s over the interval (0 if a counter wrapped)."""
    result = {}
    for name, now in after.items():
        then = before.get(name, now)
        rates = {
            f"{d}_bytes_per_s": round(max(0, now[f"{d}_bytes"] - then[f"{d}_bytes"]) / interval_s, 1)
            for d in ("rx", "tx")
        }
        result[name] = {**now, **rates}
    return result


def parse_os_release(text: str) -> str:
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            fields[key.strip()] = value.strip().strip('"')
    return fields.get("PRETTY_NAME") or fields.get("NAME") or "unknown"


def parse_cpu_model(text: str) -> str:
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("model name", "Model", "cpu model", "Hardware") and value.strip():
            return value.strip()
    return "unknown"


def parse_uname(text: str) -> dict:
    """`uname -snrm` -> kernel name, node name, release, machine (architecture)."""
    fields = text.split()
    if len(fields) < 4:
        raise _bad("uname output", text)
    return {"kernel": fields[0], "node": fields[1], "release": fields[2], "architecture": fields[-1]}


def service_state(systemctl_text: str, processes: list[dict], service: str) -> dict:
    """systemd's answer when there is one; otherwise whether a matching process is running."""
    base = service.removesuffix(".service")
    names = {base, base + "d", *SERVICE_PROCESS_NAMES.get(base, ())}
    pids = sorted(p["pid"] for p in processes if p["command"] in names or p["command"][:15] in names)
    state = systemctl_text.strip().splitlines()[0] if systemctl_text.strip() else ""
    if state in SYSTEMD_STATES:
        running = state in ("active", "reloading")
        return {"service": service, "running": running, "state": state, "source": "systemd", "pids": pids}
    return {"service": service, "running": bool(pids), "state": "running" if pids else "not running",
            "source": "process list", "pids": pids}  # fmt: skip


# A service's usual process names when they differ from "<name>" and "<name>d".
SERVICE_PROCESS_NAMES = {
    "postgresql": ("postgres",),
    "docker": ("dockerd",),
    "apache": ("apache2", "httpd"),
    "apache2": ("apache2",),
    "httpd": ("httpd", "apache2"),
    "ssh": ("sshd",),
    "mysql": ("mysqld", "mariadbd"),
    "mariadb": ("mariadbd", "mysqld"),
    "redis": ("redis-server",),
    "redis-server": ("redis-server",),
    "cron": ("cron", "crond"),
    "containerd": ("containerd",),
}


def human_bytes(value: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def human_duration(seconds: float) -> str:
    minutes, _ = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [(days, "day"), (hours, "hour"), (minutes, "minute")]
    words = [f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n]
    return ", ".join(words[:2]) if words else f"{int(seconds)} seconds"
