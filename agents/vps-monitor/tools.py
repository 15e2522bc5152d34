"""vps-monitor's tools: read-only health metrics of a configured server, local or over SSH.

`server` is always the NAME of an entry in the servers file (settings.servers_file), never
a free host. Each tool collects allow-listed command output through skills/backends/ssh.py and
parses it with skills/backends/hostmetrics.py; the summary is one or two sentences with units, the
data the parsed numbers.
"""

from __future__ import annotations

import datetime
import re
import time
from typing import Literal

from skills.answers.server_names import INTERFACE, KNOWN_SERVICES, named_server
from skills.answers.server_names import check_question as _check_server_named
from skills.backends import hostmetrics as hm
from skills.backends.hosts import get_server
from skills.backends.ssh import open_transport, validate_service
from skills.errors import BadInput, OrchestratorError
from skills.execution.tools import ToolContext, ToolResult, tool

SAMPLE_INTERVAL_S = 0.5  # long enough for a stable percentage, short enough to feel instant
MAX_PROCESSES = 50
WARN_PERCENT = 90.0


def _transport(ctx: ToolContext, server: str):
    if not isinstance(server, str) or not server:
        raise BadInput("server must be the name of a configured server, e.g. localhost", field="server")
    return open_transport(ctx.settings, get_server(ctx.settings, server), ctx.deadline)


def _sample(run, command: str, parser):
    """Two readings of a counter file SAMPLE_INTERVAL_S apart, and the real time between them."""
    first, started = parser(run(command)), time.monotonic()
    time.sleep(SAMPLE_INTERVAL_S)
    second = parser(run(command))
    return first, second, time.monotonic() - started


def _sample_processes(run) -> tuple[tuple[dict, dict], tuple[dict, dict]]:
    """(/proc/stat, per-process ticks) read together, twice, SAMPLE_INTERVAL_S apart."""
    first = (hm.parse_cpu_times(run("cpu_times")), hm.parse_process_ticks(run("process_ticks")))
    time.sleep(SAMPLE_INTERVAL_S)
    second = (hm.parse_cpu_times(run("cpu_times")), hm.parse_process_ticks(run("process_ticks")))
    return (first[0], second[0]), (first[1], second[1])


def _cpu(run) -> dict:
    before, after, elapsed = _sample(run, "cpu_times", hm.parse_cpu_times)
    return hm.cpu_usage(before, after, elapsed)


def _cores_text(cpu: dict) -> str:
    per_core = cpu["per_core_percent"]
    if len(per_core) <= 8:
        return ", ".join(f"{p:.1f}%" for p in per_core)
    return f"busiest {max(per_core):.1f}%, idlest {min(per_core):.1f}%"


def _load_text(load: dict) -> str:
    return f"{load['load_1m']:.2f} {load['load_5m']:.2f} {load['load_15m']:.2f}"


def _memory_text(mem: dict) -> str:
    swap = (
        f"swap {hm.human_bytes(mem['swap_used_bytes'])} used of {hm.human_bytes(mem['swap_total_bytes'])}"
        if mem["swap_total_bytes"]
        else "no swap"
    )
    return (
        f"memory {hm.human_bytes(mem['used_bytes'])} used of {hm.human_bytes(mem['total_bytes'])} "
        f"({mem['used_percent']:.1f}%), {hm.human_bytes(mem['available_bytes'])} available; {swap}"
    )


def _disk_text(fs: dict) -> str:
    return (
        f"{fs['mount']} {fs['used_percent']:.1f}% used ({hm.human_bytes(fs['used_bytes'])} of "
        f"{hm.human_bytes(fs['size_bytes'])}, {hm.human_bytes(fs['available_bytes'])} free)"
    )


def _boot_text(boot_time: int | None) -> str:
    if not boot_time:
        return ""
    when = datetime.datetime.fromtimestamp(boot_time, tz=datetime.UTC)
    return f" (booted {when:%Y-%m-%d %H:%M} UTC)"


# ---- parse functions for the offline fast path: arguments from the user's own words ----

_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                 "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20}  # fmt: skip
# Words that sit where a service name would ("the service", "is it running") but are not one.
_NOT_A_SERVICE = {
    "a", "an", "the", "my", "our", "your", "this", "that", "it", "its", "is", "are", "if", "whether", "check",
    "service", "services", "daemon", "daemons", "unit", "units", "server", "servers", "box", "host", "machine",
    "vps", "status", "of", "on", "up", "down", "running", "active", "what", "which", "how", "show", "me", "please",
    "and", "or", "to", "for", "in", "systemd", "process", "processes", "still", "currently", "all", "any", "see",
    "whats", "tell",
}  # fmt: skip
_SERVICE_PATTERNS = [
    re.compile(r"([A-Za-z0-9@._:-]+)\.service\b", re.IGNORECASE),
    re.compile(r"([A-Za-z0-9@._:-]+)\s+(?:service|daemon|unit)\b", re.IGNORECASE),
    re.compile(r"\b(?:service|daemon|unit)\s+([A-Za-z0-9@._:-]+)", re.IGNORECASE),
    re.compile(
        r"\bis\s+(?:the\s+)?([A-Za-z0-9@._:-]+)\s+(?:up|down|running|active|alive|online|started|stopped|dead|working|ok)\b",
        re.IGNORECASE,
    ),
    re.compile(r"\b(?:status\s+of|check\s+on|check)\s+(?:the\s+)?([A-Za-z0-9@._:-]+)", re.IGNORECASE),
]


def _configured_servers() -> list[str]:
    """Names from the servers file the environment points at (parse gets no ToolContext)."""
    from skills.backends.hosts import load_servers
    from skills.config import load_settings

    try:
        return list(load_servers(load_settings()))
    except OrchestratorError:
        return []  # a broken servers file is reported by the tool itself, clearly


def parse_server(query: str, servers: list[str] | None = None) -> dict:
    """{"server": name} when the sentence names a server ("on production"), configured or not.

    An unknown name is passed on so the tool refuses it (NotFound): answering with this
    machine's figures would be another machine's numbers.
    """
    name = named_server(query, _configured_servers() if servers is None else servers)
    return {"server": name} if name else {}


def check_question(ctx: ToolContext, query: str) -> None:
    """Before any tool or model runs: a question about a server that is not configured is NotFound."""
    _check_server_named(ctx.settings, query)


def parse_service(query: str, servers: list[str] | None = None) -> dict:
    args = parse_server(query, servers)
    server = args.get("server", "").lower()
    for pattern in _SERVICE_PATTERNS:
        for match in pattern.finditer(query):
            word = match.group(1).strip(".-:")
            if word.lower() not in _NOT_A_SERVICE and word.lower() != server and word:
                return {**args, "service": word}
    words = re.findall(r"[A-Za-z0-9_-]+", query.lower())
    for word in words:
        if word in KNOWN_SERVICES:
            return {**args, "service": word}
    return args


def parse_top(query: str, servers: list[str] | None = None) -> dict:
    args = parse_server(query, servers)
    text = query.lower()
    for word, number in _NUMBER_WORDS.items():
        text = re.sub(rf"\b{word}\b", str(number), text)
    match = re.search(r"\btop\s+(\d+)\b", text) or re.search(
        r"\b(\d+)\s+(?:\w+\s+)?(?:processes|process|procs|tasks|programs|apps)\b", text
    )
    if match:
        args["limit"] = int(match.group(1))
    if re.search(r"\b(memory|ram|mem|rss)\b", text):
        args["sort_by"] = "memory"
    return args


def parse_network(query: str, servers: list[str] | None = None) -> dict:
    args = parse_server(query, servers)
    match = INTERFACE.search(query) or re.search(r"\binterface\s+([A-Za-z0-9_.:@-]{1,15})", query, re.IGNORECASE)
    if match:
        args["interface"] = match.group(1)
    return args


# ---- the tools ----


@tool(parse=parse_server)
def health_summary(ctx: ToolContext, server: str = "localhost") -> ToolResult:
    """One-look health of a server: CPU busy %, memory, root disk, load average and uptime, with warnings.

    Args:
        server: A configured server name; "localhost" is this machine.
    """
    with _transport(ctx, server) as t:
        cpu = _cpu(t.run)
        mem = hm.parse_meminfo(t.run("meminfo"))
        filesystems = hm.parse_filesystems(t.run("filesystems"))
        load = hm.parse_loadavg(t.run("loadavg"))
        up = hm.parse_uptime(t.run("uptime"))
    root = next((fs for fs in filesystems if fs["mount"] == "/"), max(filesystems, key=lambda fs: fs["used_percent"]))
    warnings = [f"CPU {cpu['busy_percent']:.1f}% busy"] if cpu["busy_percent"] >= WARN_PERCENT else []
    warnings += [f"memory {mem['used_percent']:.1f}% used"] if mem["used_percent"] >= WARN_PERCENT else []
    warnings += [
        f"{fs['mount']} {fs['used_percent']:.1f}% full" for fs in filesystems if fs["used_percent"] >= WARN_PERCENT
    ]
    if load["load_5m"] > 2 * cpu["cores"]:
        warnings.append(f"5-minute load {load['load_5m']:.2f} is over twice the {cpu['cores']} cores")
    summary = (
        f"{server}: CPU {cpu['busy_percent']:.1f}% busy over {cpu['interval_s']:g} s on {cpu['cores']} cores; "
        f"load {_load_text(load)}; {_memory_text(mem)}; disk {_disk_text(root)}; up {hm.human_duration(up)}. "
        + (f"Warnings: {'; '.join(warnings)}." if warnings else "No warnings.")
    )
    data = {
        "server": server,
        "cpu": cpu,
        "memory": mem,
        "disk": root,
        "load": load,
        "uptime_s": up,
        "warnings": warnings,
    }
    return ToolResult(summary, data, checks={"healthy": not warnings, "ok": not warnings, "overloaded": bool(warnings)})


@tool(parse=parse_server)
def system_info(ctx: ToolContext, server: str = "localhost") -> ToolResult:
    """Operating system, kernel, architecture, hostname, CPU model and core count, total memory and uptime.

    Args:
        server: A configured server name; "localhost" is this machine.
    """
    with _transport(ctx, server) as t:
        uname = hm.parse_uname(t.run("uname"))
        hostname = t.run("hostname").strip()
        try:
            os_name = hm.parse_os_release(t.run("os_release"))
        except OrchestratorError:
            os_name = "unknown"  # minimal images may lack /etc/os-release; the rest still answers
        cpu_model = hm.parse_cpu_model(t.run("cpuinfo"))
        cores = len(hm.parse_cpu_times(t.run("cpu_times"))["cores"])
        mem = hm.parse_meminfo(t.run("meminfo"))
        up = hm.parse_uptime(t.run("uptime"))
    summary = (
        f"{server}: host {hostname}, {os_name}, {uname['kernel']} {uname['release']} ({uname['architecture']}), "
        f"{cores} cores ({cpu_model}), {hm.human_bytes(mem['total_bytes'])} memory, up {hm.human_duration(up)}."
    )
    data = {"server": server, "hostname": hostname, "os": os_name, **uname, "cpu_model": cpu_model, "cores": cores,
            "memory_total_bytes": mem["total_bytes"], "uptime_s": up}  # fmt: skip
    return ToolResult(summary, data)


@tool(parse=parse_server)
def cpu_usage(ctx: ToolContext, server: str = "localhost") -> ToolResult:
    """CPU busy percentage measured over half a second (overall and per core), iowait, steal and load average.

    Args:
        server: A configured server name; "localhost" is this machine.
    """
    with _transport(ctx, server) as t:
        cpu = _cpu(t.run)
        load = hm.parse_loadavg(t.run("loadavg"))
    summary = (
        f"{server}: CPU {cpu['busy_percent']:.1f}% busy over {cpu['interval_s']:g} s on {cpu['cores']} cores "
        f"({_cores_text(cpu)}); iowait {cpu['iowait_percent']:.1f}%, steal {cpu['steal_percent']:.1f}%; "
        f"load {_load_text(load)}."
    )
    return ToolResult(summary, {"server": server, **cpu, "load": load})


@tool(parse=parse_server)
def memory_usage(ctx: ToolContext, server: str = "localhost") -> ToolResult:
    """Memory and swap: total, used, available, buffers/cache, in bytes and percent.

    Args:
        server: A configured server name; "localhost" is this machine.
    """
    with _transport(ctx, server) as t:
        mem = hm.parse_meminfo(t.run("meminfo"))
    low = mem["used_percent"] >= WARN_PERCENT
    checks = {"low on memory": low, "running out of memory": low, "running out of ram": low, "enough memory": not low}
    return ToolResult(f"{server}: {_memory_text(mem)}.", {"server": server, **mem}, checks=checks)


@tool(parse=parse_server)
def disk_usage(ctx: ToolContext, server: str = "localhost") -> ToolResult:
    """Disk space of every real filesystem (size, used, free, percent used), fullest first.

    Args:
        server: A configured server name; "localhost" is this machine.
    """
    with _transport(ctx, server) as t:
        filesystems = hm.parse_filesystems(t.run("filesystems"))
    filesystems.sort(key=lambda fs: (fs["mount"] != "/", -fs["used_percent"]))
    shown = "; ".join(_disk_text(fs) for fs in filesystems[:4])
    more = f"; and {len(filesystems) - 4} more" if len(filesystems) > 4 else ""
    full = [fs["mount"] for fs in filesystems if fs["used_percent"] >= WARN_PERCENT]
    verdict = f" {', '.join(full)} at or over {WARN_PERCENT:g}% used." if full else ""
    low = bool(full)
    return ToolResult(
        f"{server}: {shown}{more}.{verdict}",
        {"server": server, "filesystems": filesystems},
        checks={
            "low on disk space": low,
            "disk full": low,
            "running out of disk space": low,
            "enough disk space": not low,
        },
    )


@tool(parse=parse_server)
def load_average(ctx: ToolContext, server: str = "localhost") -> ToolResult:
    """Load average over 1, 5 and 15 minutes, per core, and running/total task counts.

    Args:
        server: A configured server name; "localhost" is this machine.
    """
    with _transport(ctx, server) as t:
        load = hm.parse_loadavg(t.run("loadavg"))
        cores = len(hm.parse_cpu_times(t.run("cpu_times"))["cores"])
    per_core = round(load["load_1m"] / cores, 2)
    summary = (
        f"{server}: load average {load['load_1m']:.2f} (1 min), {load['load_5m']:.2f} (5 min), "
        f"{load['load_15m']:.2f} (15 min) on {cores} cores ({per_core:.2f} per core); "
        f"{load['running_tasks']} of {load['total_tasks']} tasks running."
    )
    return ToolResult(summary, {"server": server, **load, "cores": cores, "load_1m_per_core": per_core})


@tool(parse=parse_server)
def uptime(ctx: ToolContext, server: str = "localhost") -> ToolResult:
    """How long the server has been up and when it last booted (UTC).

    Args:
        server: A configured server name; "localhost" is this machine.
    """
    with _transport(ctx, server) as t:
        up = hm.parse_uptime(t.run("uptime"))
        boot_time = hm.parse_cpu_times(t.run("cpu_times"))["boot_time"]
    summary = f"{server}: up {hm.human_duration(up)}{_boot_text(boot_time)}."
    return ToolResult(summary, {"server": server, "uptime_s": up, "boot_time": boot_time})


@tool(parse=parse_top)
def top_processes(
    ctx: ToolContext, server: str = "localhost", limit: int = 10, sort_by: Literal["cpu", "memory"] = "cpu"
) -> ToolResult:
    """Processes using the most CPU (over half a second) or memory: pid, user, %CPU, memory.

    Args:
        server: A configured server name; "localhost" is this machine.
        limit: How many, 1 to 50.
        sort_by: Order by cpu or memory.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PROCESSES:
        raise BadInput(f"limit must be a whole number from 1 to {MAX_PROCESSES}, got {limit!r}", field="limit")
    if sort_by not in ("cpu", "memory"):
        raise BadInput(f"sort_by must be 'cpu' or 'memory', got {sort_by!r}", field="sort_by")
    with _transport(ctx, server) as t:
        cpu, ticks = _sample_processes(t.run)
        processes = hm.parse_processes(t.run("processes"))
    shares = hm.process_cpu_percent(ticks, cpu)
    for process in processes:
        process["cpu_percent"] = shares.get(process["pid"], 0.0)
    top = hm.top_processes(processes, limit, sort_by)
    listed = ", ".join(
        f"{p['command']} (pid {p['pid']}, {p['cpu_percent']:.1f}% CPU, {hm.human_bytes(p['rss_bytes'])})" for p in top
    )
    summary = f"{server}: top {len(top)} of {len(processes)} processes by {sort_by} (CPU over {SAMPLE_INTERVAL_S:g} s): {listed}."
    return ToolResult(
        summary, {"server": server, "sort_by": sort_by, "total_processes": len(processes), "processes": top}
    )


@tool(parse=parse_network)
def network_stats(ctx: ToolContext, server: str = "localhost", interface: str = "") -> ToolResult:
    """Network counters per interface (bytes, packets, errors, drops) and throughput over half a second.

    Args:
        server: A configured server name; "localhost" is this machine.
        interface: One interface, e.g. eth0; empty for all.
    """
    with _transport(ctx, server) as t:
        before, after, elapsed = _sample(t.run, "net_dev", hm.parse_net_dev)
    interfaces = hm.network_rates(before, after, elapsed)
    if interface:
        if interface not in interfaces:
            raise BadInput(
                f"interface {interface!r} not found on {server}; it has {', '.join(sorted(interfaces))}",
                field="interface",
            )
        interfaces = {interface: interfaces[interface]}
    # Idle virtual interfaces (ifb0, a down bridge) and loopback are noise in a sentence; `data` keeps them.
    shown = {n: v for n, v in interfaces.items() if n != "lo" and v["rx_bytes"] + v["tx_bytes"]} or interfaces
    parts = [
        f"{name} received {hm.human_bytes(v['rx_bytes'])} ({hm.human_bytes(v['rx_bytes_per_s'])}/s), "
        f"sent {hm.human_bytes(v['tx_bytes'])} ({hm.human_bytes(v['tx_bytes_per_s'])}/s), "
        f"{v['rx_errors'] + v['tx_errors']} errors"
        for name, v in sorted(shown.items(), key=lambda item: -item[1]["rx_bytes"])[:4]
    ]
    summary = f"{server} over {elapsed:.1f} s: " + "; ".join(parts) + "."
    return ToolResult(summary, {"server": server, "interval_s": round(elapsed, 2), "interfaces": interfaces})


@tool(parse=parse_service)
def service_status(ctx: ToolContext, service: str, server: str = "localhost") -> ToolResult:
    """Whether a service is running: systemd's state when systemd runs, else matching processes.

    Args:
        service: Service or unit name, e.g. nginx, docker.
        server: A configured server name; "localhost" is this machine.
    """
    validate_service(service)  # before any connection: a bad name never reaches a server
    with _transport(ctx, server) as t:
        systemctl = t.run("service_state", service=service)
        processes = hm.parse_processes(t.run("processes"))
    state = hm.service_state(systemctl, processes, service)
    how = f"systemd: {state['state']}" if state["source"] == "systemd" else "no systemd; checked the process list"
    pids = f"; pids {', '.join(map(str, state['pids'][:10]))}" if state["pids"] else ""
    verdict = "is running" if state["running"] else "is NOT running"
    running = bool(state["running"])
    return ToolResult(
        f"{server}: {service} {verdict} ({how}{pids}).",
        {"server": server, **state},
        checks={"running": running, "up": running, "alive": running, "down": not running, "stopped": not running},
    )
