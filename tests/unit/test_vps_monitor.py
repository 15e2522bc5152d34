"""vps-monitor against the real machine and a real OpenSSH sshd on loopback."""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest
import yaml

from skills.backends import ssh as remote
from skills.backends.hosts import get_server, load_servers
from skills.config import Settings
from skills.errors import AgentNotConfigured, BadInput, ExecutionTimeout, NotFound, ToolRefused, UpstreamUnavailable
from skills.execution.tools import ToolContext, load_agent_tools, load_question_check, run_tool
from tests.fixtures.silent import client_hung_up, silent_listener
from tests.fixtures.sshd import SERVER_NAME, free_port, make_key

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOLS = load_agent_tools(os.path.join(ROOT, "agents"), "vps-monitor")


def _registered_tool_names() -> list[str]:
    with open(os.path.join(ROOT, "registry", "agents.yaml"), encoding="utf-8") as handle:
        agents = yaml.safe_load(handle)["agents"]
    return [t["name"] for agent in agents if agent["id"] == "vps-monitor" for t in agent["tools"]]


REGISTERED = _registered_tool_names()


def call(settings: Settings, name: str, **arguments):
    return TOOLS[name].call(ToolContext(settings, "vps-monitor"), arguments)


def write_servers(tmp_path, servers: dict) -> str:
    path = tmp_path / "servers.yaml"
    path.write_text(yaml.safe_dump({"servers": servers}))
    return str(path)


@pytest.fixture
def local(tmp_path) -> Settings:
    servers = write_servers(tmp_path, {"localhost": {"local": True}})
    return Settings({"ORCHESTRATOR_SERVERS": servers, "ORCHESTRATOR_SSH_KNOWN_HOSTS": str(tmp_path / "kh")})


@pytest.fixture
def ssh(sshd_server) -> Settings:
    return Settings(sshd_server.env())


def meminfo_kb(name: str) -> int:
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith(name + ":"):
                return int(line.split()[1])
    raise AssertionError(name)


# ---- the agent's shape ----


def test_every_registered_tool_exists_and_takes_a_server_name():
    assert sorted(TOOLS) == sorted(REGISTERED)
    for tool in TOOLS.values():
        server = tool.input_schema["properties"]["server"]
        assert server["type"] == "string" and server["default"] == "localhost"
        assert tool.parse is not None


def test_prompt_says_tools_are_read_only():
    from skills.execution.tools import load_agent_prompt

    assert "read-only" in load_agent_prompt(os.path.join(ROOT, "agents"), "vps-monitor")


# ---- the local machine ----


def test_cpu_usage_measures_a_real_percentage_per_core(local):
    result = call(local, "cpu_usage")
    data = result.data
    assert 0.0 <= data["busy_percent"] <= 100.0
    assert data["cores"] == os.cpu_count() == len(data["per_core_percent"])
    assert all(0.0 <= p <= 100.0 for p in data["per_core_percent"])
    assert 0.3 <= data["interval_s"] <= 2
    assert f"on {data['cores']} cores" in result.summary and "% busy over" in result.summary


class BusyThread:
    """Keeps one core of this process busy while a measurement runs."""

    def __enter__(self):
        self.stop = False
        self.thread = threading.Thread(target=self._spin)
        self.thread.start()
        return self

    def _spin(self):
        while not self.stop:
            pass

    def __exit__(self, *exc):
        self.stop = True
        self.thread.join()


def test_cpu_usage_sees_a_busy_core(local):
    with BusyThread():
        data = call(local, "cpu_usage").data
    assert max(data["per_core_percent"]) > 50.0  # one core spun flat out for the whole sample


@pytest.mark.parametrize("where", ["local", "ssh"])
def test_top_processes_by_cpu_finds_the_busy_process_now(where, local, ssh):
    settings, server = (local, "localhost") if where == "local" else (ssh, SERVER_NAME)

    def our_share() -> tuple[float, list]:
        processes = call(settings, "top_processes", server=server, limit=50).data["processes"]
        ours = [p["cpu_percent"] for p in processes if p["pid"] == os.getpid()]
        return (ours[0] if ours else 0.0), processes

    # Other work shares this machine, so no fixed share is promised: only that spinning makes
    # this process measurably busier than idling does, and that the list is ranked by it.
    resting, _ = our_share()
    with BusyThread():
        spinning, processes = our_share()
    assert os.getpid() in [p["pid"] for p in processes], processes
    assert spinning > resting, (spinning, resting)
    assert [p["cpu_percent"] for p in processes] == sorted((p["cpu_percent"] for p in processes), reverse=True)


def test_process_ticks_parser_survives_odd_command_names():
    from skills.backends.hostmetrics import parse_process_ticks

    line = "42 (tmux: a) b) S 1 42 42 0 -1 4194560 100 0 0 0 700 55 0 0 20 0 1 0 300 1000 50\n"
    assert parse_process_ticks(line + "7 (sh) S 1 7 7 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 1 1 1\n") == {42: 755, 7: 7}


def test_memory_usage_totals_match_proc_meminfo(local):
    data = call(local, "memory_usage").data
    assert data["total_bytes"] == meminfo_kb("MemTotal") * 1024
    assert data["swap_total_bytes"] == meminfo_kb("SwapTotal") * 1024
    assert abs(data["available_bytes"] - meminfo_kb("MemAvailable") * 1024) < 256 * 1024**2
    assert data["used_bytes"] == data["total_bytes"] - data["available_bytes"]
    assert 0 < data["used_percent"] < 100


def test_disk_usage_of_root_matches_statvfs(local):
    filesystems = call(local, "disk_usage").data["filesystems"]
    root = filesystems[0]
    assert root["mount"] == "/"
    vfs = os.statvfs("/")
    assert root["size_bytes"] == vfs.f_blocks * vfs.f_frsize
    assert abs(root["available_bytes"] - vfs.f_bavail * vfs.f_frsize) < 256 * 1024**2
    assert abs(root["used_bytes"] - (vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize) < 256 * 1024**2
    assert not any(fs["type"] in ("tmpfs", "devtmpfs", "proc") for fs in filesystems)


def test_load_average_matches_the_kernel(local):
    data = call(local, "load_average").data
    one, _, fifteen = os.getloadavg()
    assert abs(data["load_1m"] - one) < 1.0 and abs(data["load_15m"] - fifteen) < 0.5
    assert data["cores"] == os.cpu_count() and data["total_tasks"] >= data["running_tasks"] >= 1


def proc_uptime() -> float:
    with open("/proc/uptime") as handle:
        return float(handle.read().split()[0])


def proc_boot_time() -> int:
    with open("/proc/stat") as handle:
        return int(next(line for line in handle if line.startswith("btime ")).split()[1])


def test_uptime_matches_proc_uptime_and_boot_time(local):
    before = proc_uptime()
    data = call(local, "uptime").data
    after = proc_uptime()
    assert before <= data["uptime_s"] <= after  # read in between, however long that took
    assert data["boot_time"] == proc_boot_time()


def test_system_info_names_this_host_and_kernel(local):
    data = call(local, "system_info").data
    assert data["hostname"] == socket.gethostname()
    assert data["release"] == os.uname().release and data["architecture"] == os.uname().machine
    assert data["cores"] == os.cpu_count() and data["memory_total_bytes"] == meminfo_kb("MemTotal") * 1024


def test_top_processes_by_memory_are_sorted_and_limited(local):
    result = call(local, "top_processes", limit=3, sort_by="memory")
    processes = result.data["processes"]
    assert len(processes) == 3
    assert [p["rss_bytes"] for p in processes] == sorted((p["rss_bytes"] for p in processes), reverse=True)
    assert all(p["pid"] > 0 and 0 <= p["memory_percent"] <= 100 for p in processes)
    assert result.summary.startswith("localhost: top 3 of")


@pytest.mark.parametrize("limit", [0, 51, "5", True])
def test_top_processes_rejects_a_limit_out_of_range(local, limit):
    with pytest.raises(BadInput) as caught:
        call(local, "top_processes", limit=limit)
    assert caught.value.field == "limit" and "1 to 50" in caught.value.message


def test_network_stats_counts_loopback_traffic(local):
    data = call(local, "network_stats", interface="lo").data
    assert list(data["interfaces"]) == ["lo"]
    lo = data["interfaces"]["lo"]
    assert lo["rx_bytes"] >= 0 and lo["rx_bytes_per_s"] >= 0 and data["interval_s"] >= 0.3


def test_network_stats_unknown_interface_lists_the_real_ones(local):
    with pytest.raises(BadInput) as caught:
        call(local, "network_stats", interface="nosuch0")
    assert caught.value.field == "interface" and "lo" in caught.value.message


def test_service_status_finds_the_running_sshd(local, sshd_server):
    data = call(local, "service_status", service="ssh").data
    assert data["running"] is True and data["pids"]


def test_service_status_reports_a_missing_service_as_not_running(local):
    result = call(local, "service_status", service="no-such-daemon")
    assert result.data["running"] is False and "NOT running" in result.summary


def test_health_summary_combines_cpu_memory_disk_load_uptime(local):
    result = call(local, "health_summary")
    assert {"cpu", "memory", "disk", "load", "uptime_s", "warnings"} <= set(result.data)
    assert result.data["disk"]["mount"] == "/"
    for part in ("CPU", "load", "memory", "disk /", "up "):
        assert part in result.summary


# ---- the same tools over SSH to a real sshd ----


@pytest.mark.parametrize("name", sorted(REGISTERED))
def test_every_tool_answers_over_ssh(ssh, name):
    arguments = {"service": "sshd", "server": SERVER_NAME} if name == "service_status" else {"server": SERVER_NAME}
    result = call(ssh, name, **arguments)
    assert result.summary.startswith(f"{SERVER_NAME}") and result.data["server"] == SERVER_NAME


def test_ssh_results_agree_with_the_local_machine(ssh, local):
    for name, keys in {
        "memory_usage": ["total_bytes", "swap_total_bytes"],
        "system_info": ["hostname", "release", "architecture", "cores", "cpu_model", "os"],
        "load_average": ["cores"],
    }.items():
        over_ssh, here = call(ssh, name, server=SERVER_NAME).data, call(local, name).data
        assert {k: over_ssh[k] for k in keys} == {k: here[k] for k in keys}, name
    remote_root = call(ssh, "disk_usage", server=SERVER_NAME).data["filesystems"][0]
    assert (
        remote_root["mount"] == "/" and remote_root["size_bytes"] == os.statvfs("/").f_blocks * os.statvfs("/").f_frsize
    )
    before = proc_uptime()
    remote_uptime = call(ssh, "uptime", server=SERVER_NAME).data["uptime_s"]
    assert before <= remote_uptime <= proc_uptime()  # the same machine's clock, read over SSH


def test_service_status_over_ssh_sees_sshd(ssh):
    data = call(ssh, "service_status", service="sshd", server=SERVER_NAME).data
    assert data["running"] is True and data["pids"]


def test_changed_host_key_is_refused_even_with_trust_on_first_use(sshd_server, tmp_path):
    other = make_key(str(tmp_path / "impostor"))
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{sshd_server.port} {other}\n")
    for tofu in ("0", "1"):
        settings = Settings(
            sshd_server.env(ORCHESTRATOR_SSH_KNOWN_HOSTS=str(known), ORCHESTRATOR_SSH_TRUST_ON_FIRST_USE=tofu)
        )
        with pytest.raises(ToolRefused) as caught:
            call(settings, "uptime", server=SERVER_NAME)
        assert "CHANGED" in caught.value.message and "ssh-keygen -R" in caught.value.message
    assert known.read_text() == f"[127.0.0.1]:{sshd_server.port} {other}\n"  # nothing was overwritten


def test_unknown_host_key_is_refused_without_trust_on_first_use(sshd_server, tmp_path):
    known = tmp_path / "known_hosts"
    settings = Settings(sshd_server.env(ORCHESTRATOR_SSH_KNOWN_HOSTS=str(known)))
    with pytest.raises(ToolRefused) as caught:
        call(settings, "uptime", server=SERVER_NAME)
    assert str(known) in caught.value.message and "ORCHESTRATOR_SSH_TRUST_ON_FIRST_USE" in caught.value.message
    assert not known.exists()


def test_unknown_host_key_is_accepted_and_saved_with_trust_on_first_use(sshd_server, tmp_path):
    known = tmp_path / "new-dir" / "known_hosts"
    tofu = Settings(sshd_server.env(ORCHESTRATOR_SSH_KNOWN_HOSTS=str(known), ORCHESTRATOR_SSH_TRUST_ON_FIRST_USE="1"))
    assert call(tofu, "uptime", server=SERVER_NAME).data["uptime_s"] > 0
    assert known.read_text().split() == [f"[127.0.0.1]:{sshd_server.port}", *sshd_server.host_public_key.split()]
    strict = Settings(sshd_server.env(ORCHESTRATOR_SSH_KNOWN_HOSTS=str(known)))
    assert call(strict, "uptime", server=SERVER_NAME).data["uptime_s"] > 0  # the saved key now verifies


def _remote_settings(tmp_path, sshd_server, timeout: str = "10", **entry) -> Settings:
    server = {"host": "127.0.0.1", "port": sshd_server.port, "user": sshd_server.user, "key_file": sshd_server.key_file}
    server.update(entry)
    path = write_servers(tmp_path, {"localhost": {"local": True}, SERVER_NAME: server})
    return Settings(sshd_server.env(ORCHESTRATOR_SERVERS=path, ORCHESTRATOR_SSH_TIMEOUT=timeout))


def test_closed_port_fails_cleanly_within_the_timeout(sshd_server, tmp_path):
    # A refused connection is reported as unreachable at once; waiting out the timeout would
    # have ended in ExecutionTimeout instead, so the error's type is the proof.
    settings = _remote_settings(tmp_path, sshd_server, timeout="3", port=free_port())
    with pytest.raises(UpstreamUnavailable) as caught:
        call(settings, "uptime", server=SERVER_NAME)
    assert "cannot reach server 'loopback'" in caught.value.message


def test_listener_that_never_speaks_ssh_times_out(sshd_server, tmp_path):
    with silent_listener() as silent:
        settings = _remote_settings(tmp_path, sshd_server, timeout="1", port=silent.getsockname()[1])
        with pytest.raises(ExecutionTimeout) as caught:
            call(settings, "uptime", server=SERVER_NAME)
        assert client_hung_up(silent)  # it gave up on the silent server and closed the connection
    assert "no SSH banner within 1 s" in caught.value.message


def test_wrong_client_key_is_an_authentication_failure_without_key_contents(sshd_server, tmp_path):
    make_key(str(tmp_path / "stranger"))
    settings = _remote_settings(tmp_path, sshd_server, key_file=str(tmp_path / "stranger"))
    with pytest.raises(UpstreamUnavailable) as caught:
        call(settings, "uptime", server=SERVER_NAME)
    assert "authentication failed" in caught.value.message
    secret = (tmp_path / "stranger").read_text()
    assert not any(line in caught.value.message for line in secret.splitlines()[1:-1])


def test_missing_key_file_names_the_server_and_field(sshd_server, tmp_path):
    settings = _remote_settings(tmp_path, sshd_server, key_file="~/no/such/key")
    with pytest.raises(AgentNotConfigured) as caught:
        call(settings, "uptime", server=SERVER_NAME)
    assert caught.value.field == f"servers.{SERVER_NAME}.key_file"
    assert os.path.expanduser("~/no/such/key") in caught.value.message


# ---- nothing off the allow-list ever runs ----


@pytest.mark.parametrize("where", ["local", "ssh"])
def test_service_name_with_shell_syntax_is_refused_and_nothing_runs(where, local, ssh, tmp_path):
    marker = tmp_path / "pwned"
    settings, server = (local, "localhost") if where == "local" else (ssh, SERVER_NAME)
    for evil in (f"nginx; touch {marker}", f"$(touch {marker})", f"`touch {marker}`", "nginx && rm -rf /"):
        with pytest.raises(BadInput) as caught:
            call(settings, "service_status", service=evil, server=server)
        assert caught.value.field == "service"
    with remote.open_transport(settings, get_server(settings, server)) as transport, pytest.raises(BadInput):
        transport.run("service_state", service=f"x; touch {marker}")
    assert not marker.exists()


@pytest.mark.parametrize("where", ["local", "ssh"])
def test_commands_off_the_allow_list_are_refused(where, local, ssh):
    settings, server = (local, "localhost") if where == "local" else (ssh, SERVER_NAME)
    with remote.open_transport(settings, get_server(settings, server)) as transport:
        with pytest.raises(ToolRefused, match="not on the allow-list"):
            transport.run("rm -rf /")
        with pytest.raises(ToolRefused, match="takes parameters"):
            transport.run("uptime", path="/etc/shadow")
        with pytest.raises(ToolRefused, match="takes parameters"):
            transport.run("service_state")


def test_remote_command_lines_are_fixed_and_quoted():
    lines = {name: remote.remote_command_line(*remote.resolve(name, {"service": "nginx"} if cmd.params else {}))
             for name, cmd in remote.COMMANDS.items()}  # fmt: skip
    assert lines["cpu_times"] == "env LC_ALL=C cat /proc/stat"
    assert lines["service_state"] == "env LC_ALL=C systemctl is-active -- nginx"
    assert all(not set(";|&$`<>\n") & set(line) for line in lines.values())


# ---- the servers file ----


def test_unknown_server_name_lists_the_configured_ones(ssh):
    result, record, error = run_tool(TOOLS["uptime"], ToolContext(ssh, "vps-monitor"), {"server": "203.0.113.9"})
    assert result is None and record.ok is False and record.error_code == "not_found"
    assert error.field == "server" and "'203.0.113.9'" in error.message
    assert error.exit_status == 1 and error.http_status == 404
    assert set(error.details["closest"]) == {"localhost", "loopback"}


@pytest.mark.parametrize(
    "entry, field, words",
    [
        ({"host": "10.0.0.1", "user": "mon", "key_file": "~/k", "port": 70000}, "port", "1 to 65535"),
        ({"user": "mon", "key_file": "~/k"}, "host", "required"),
        ({"host": "10.0.0.1", "user": "mon", "key_file": "~/k", "password": "hunter2"}, "password", "use key_file"),
        ({"host": "a;b", "user": "mon", "key_file": "~/k"}, "host", "not allowed"),
        ({"local": "yes"}, "local", "must be true"),
    ],
)
def test_bad_server_entries_name_the_server_and_field(tmp_path, entry, field, words):
    settings = Settings({"ORCHESTRATOR_SERVERS": write_servers(tmp_path, {"prod": entry})})
    with pytest.raises(AgentNotConfigured) as caught:
        load_servers(settings)
    assert caught.value.field == f"servers.prod.{field}" and "'prod'" in caught.value.message
    assert words in caught.value.message and "hunter2" not in caught.value.message


def test_missing_servers_file_says_how_to_fix_it(tmp_path):
    settings = Settings({"ORCHESTRATOR_SERVERS": str(tmp_path / "nope.yaml")})
    with pytest.raises(AgentNotConfigured, match="ORCHESTRATOR_SERVERS"):
        call(settings, "uptime")


def test_an_edited_servers_file_is_read_again_and_a_removed_one_is_an_error(tmp_path):
    """A warm worker keeps the parsed file; what an operator changes must still count at once."""
    settings = Settings({"ORCHESTRATOR_SERVERS": write_servers(tmp_path, {"localhost": {"local": True}})})
    assert list(load_servers(settings)) == ["localhost"]

    prod = {"host": "10.0.0.5", "user": "mon", "key_file": "~/k"}
    write_servers(tmp_path, {"localhost": {"local": True}, "prod": prod})
    assert sorted(load_servers(settings)) == ["localhost", "prod"]

    os.unlink(settings.servers_file)
    with pytest.raises(AgentNotConfigured, match="not found"):
        load_servers(settings)


def test_project_servers_file_is_valid():
    servers = load_servers(Settings({}))
    assert servers["localhost"].local is True


# ---- parse: arguments from the user's words ----

PARSE_SERVERS = ["localhost", "production", "web-1"]


@pytest.mark.parametrize(
    "tool, query, expected",
    [
        ("service_status", "check if the docker service is running", {"service": "docker"}),
        ("service_status", "is nginx up", {"service": "nginx"}),
        ("service_status", "Is nginx running?", {"service": "nginx"}),
        ("service_status", "is postgresql running on production", {"service": "postgresql", "server": "production"}),
        (
            "service_status",
            "status of the redis-server.service on web-1",
            {"service": "redis-server", "server": "web-1"},
        ),
        ("service_status", "restart state of service caddy please", {"service": "caddy"}),
        ("service_status", "is the ssh daemon alive?", {"service": "ssh"}),
        ("top_processes", "top 5 processes", {"limit": 5}),
        (
            "top_processes",
            "show the top five processes by memory on production",
            {"limit": 5, "sort_by": "memory", "server": "production"},
        ),
        ("top_processes", "which processes use the most RAM", {"sort_by": "memory"}),
        ("top_processes", "Which processes are eating the CPU?", {}),
        ("top_processes", "list 3 busiest processes", {"limit": 3}),
        ("cpu_usage", "Check CPU usage on production", {"server": "production"}),
        ("cpu_usage", "Check CPU usage on the server", {}),
        ("disk_usage", "Is the disk full on the Production box?", {"server": "production"}),
        ("memory_usage", "ram on web-1.", {"server": "web-1"}),
        ("memory_usage", "ram on web-10", {"server": "web-10"}),
        ("disk_usage", "Disk usage on server web7", {"server": "web7"}),
        ("load_average", "What's the load on the backup box?", {"server": "backup"}),
        ("memory_usage", "How much memory is free on db-prod-2?", {"server": "db-prod-2"}),
        ("service_status", "Is nginx running on staging?", {"service": "nginx", "server": "staging"}),
        ("memory_usage", "memory on host db1.fibreflow.co.za", {"server": "db1.fibreflow.co.za"}),
        ("memory_usage", "How much memory is free on the server?", {}),
        ("disk_usage", "Check disk space on this box", {}),
        ("cpu_usage", "What's the CPU like on the VPS right now?", {}),
        ("service_status", "Is the web server running?", {}),
        ("uptime", "When was the machine last restarted?", {}),
        ("health_summary", "How's prod-db doing?", {"server": "prod-db"}),
        ("network_stats", "Show network throughput on eth0", {"interface": "eth0"}),
        ("network_stats", "traffic on interface ens3 of production", {"interface": "ens3", "server": "production"}),
    ],
)
def test_parse_extracts_arguments(tool, query, expected):
    assert TOOLS[tool].parse(query, PARSE_SERVERS) == expected


def test_parse_reads_server_names_from_the_configured_file(monkeypatch, tmp_path):
    path = write_servers(
        tmp_path, {"localhost": {"local": True}, "staging": {"host": "h", "user": "u", "key_file": "k"}}
    )
    monkeypatch.setenv("ORCHESTRATOR_SERVERS", path)
    assert TOOLS["uptime"].parse("uptime of staging") == {"server": "staging"}
    assert TOOLS["uptime"].parse("uptime of production") == {"server": "production"}  # the tool refuses it


# ---- end to end: the offline fast path of bin/execute_agent over SSH ----


def test_execute_agent_checks_a_service_on_a_named_ssh_server(script, sshd_server):
    run = script(
        "execute_agent", "--agent", "vps-monitor", "--query", "Is sshd running on loopback?", env=sshd_server.env()
    )
    assert run.returncode == 0, run.stdout
    call_record = run.json["tool_calls"][0]
    assert call_record["name"] == "service_status"
    assert call_record["arguments"] == {"service": "sshd", "server": SERVER_NAME}
    assert run.json["response"].startswith("Yes. loopback: sshd is running")  # a yes/no question: Yes first


def test_execute_agent_reports_a_refused_host_key(script, sshd_server, tmp_path):
    empty = tmp_path / "known_hosts"
    env = sshd_server.env(ORCHESTRATOR_SSH_KNOWN_HOSTS=str(empty))
    run = script("execute_agent", "--agent", "vps-monitor", "--query", "uptime of loopback", env=env)
    assert run.returncode == 1 and run.json["code"] == "tool_refused"
    assert "host key" in run.json["error"] and "BEGIN OPENSSH PRIVATE KEY" not in run.stdout + run.stderr
    assert not empty.exists()


def test_a_spent_deadline_stops_before_contacting_the_server(ssh):
    ctx = ToolContext(ssh, "vps-monitor", deadline=time.monotonic() - 1)
    with pytest.raises(ExecutionTimeout, match="no time left"):
        TOOLS["uptime"].call(ctx, {"server": SERVER_NAME})


# ---- a server that is not configured is never answered with this machine's numbers ----


@pytest.mark.parametrize(
    "query, name",
    [
        ("Disk usage on server web7", "web7"),
        ("What's the load on the backup box?", "backup"),
        ("How much memory is free on db-prod-2?", "db-prod-2"),
        ("Is nginx running on staging?", "staging"),
    ],
)
def test_execute_agent_refuses_a_server_that_is_not_configured(script, query, name):
    run = script("execute_agent", "--agent", "vps-monitor", "--query", query)
    assert run.returncode == 1, run.stdout
    body = run.json
    assert body["code"] == "not_found" and body["details"]["name"] == name
    assert f"'{name}'" in body["error"] and "localhost" in body["details"]["closest"]
    assert "used of" not in run.stdout and "load average" not in run.stdout  # no figures of another machine


@pytest.mark.parametrize(
    "query, tool",
    [
        ("How much memory is free on the server?", "memory_usage"),
        ("Check disk space on this box", "disk_usage"),
        ("What's the CPU like on the VPS right now?", "cpu_usage"),
    ],
)
def test_the_server_this_box_and_the_vps_still_mean_this_machine(script, query, tool):
    run = script("execute_agent", "--agent", "vps-monitor", "--query", query)
    assert run.returncode == 0, run.stdout
    assert [call["name"] for call in run.json["tool_calls"]] == [tool]
    assert run.json["data"]["server"] == "localhost"


def test_a_yes_no_disk_question_is_answered_yes_or_no_first(script):
    import shutil

    usage = shutil.disk_usage("/")
    run = script("execute_agent", "--agent", "vps-monitor", "--query", "Low on disk space?")
    root = next(fs for fs in run.json["data"]["filesystems"] if fs["mount"] == "/")
    assert abs(root["used_percent"] - 100 * usage.used / (usage.used + usage.free)) < 2
    full = any(fs["used_percent"] >= 90 for fs in run.json["data"]["filesystems"])
    assert run.json["response"].startswith("Yes. " if full else "No. ")


# ---- a host-like name with no "server" beside it, wherever it stands, is refused by name ----

CHECK_QUESTION = load_question_check(os.path.join(ROOT, "agents"), "vps-monitor")
UNKNOWN_HOSTS = [
    ("How much free memory does db-prod-2 have?", "db-prod-2"),
    ("disk on mail-relay", "mail-relay"),
    ("is web03 up?", "web03"),
    ("Is web03 reachable", "web03"),
    ("is mail-relay down?", "mail-relay"),
    ("is db-prod-2 still up", "db-prod-2"),
    ("db-prod-2 disk usage", "db-prod-2"),
    ("web03: load average?", "web03"),
    ("What's web03's uptime?", "web03"),
    ("check memory on web03 and tell me", "web03"),
    ("How much disk does app-server-3 have left?", "app-server-3"),
    ("uptime for edge-proxy please", "edge-proxy"),
    ("Is nginx running on web-1?", "web-1"),
    ("cpu load of k8s-node-a over the last hour", "k8s-node-a"),
    ("show the top processes on db1 by memory", "db1"),
    ("how much swap does backup01 use", "backup01"),
    ("ping web03", "web03"),
    ("How much free memory does staging have?", "staging"),
    ("disk space on mail.example.com", "mail.example.com"),
    ("any errors about web03 in the logs", "web03"),
]
THIS_MACHINE = [
    "check CPU usage on the server",
    "show memory usage",
    "disk space on vps",
    "load on the production server",
    "kernel version of the production machine",
    "is our live server up",
    "How much memory is free on the server?",
    "How much memory does the VPS have?",
    "how much memory does nginx use?",
    "How much RAM does postgres use",
    "How much disk space does the server have?",
    "how many cores does this machine have",
    "how much memory does it have",
    "is the box still up?",
    "is the web server up?",
    "is nginx up?",
    "is php-fpm up?",
    "is apache2 up",
    "is fail2ban active?",
    "is docker running?",
    "is systemd-resolved running",
    "status of cloud-init",
    "top 5 processes by memory",
    "top-10 memory hogs",
    "memory usage of the top 10 processes",
    "load average over the last 15 minutes",
    "last 24h cpu load",
    "cpu usage for the last 24h",
    "cpu usage over 5m",
    "CPU usage at 2pm",
    "load on 4 cores",
    "traffic on eth0",
    "IPv6 traffic on eth0",
    "network traffic on wg0",
    "bytes received on ens3",
    "disk usage on /var",
    "disk usage on sda1",
    "free space on nvme0n1p2",
    "usage of ext4 volumes",
    "disk usage of read-only mounts",
    "real-time cpu usage",
    "any memory-related errors",
    "x86_64 cpu info",
    "how much free memory do we have",
    "what's the server's uptime",
    "the box's load average",
    "check the load",
    "are all services up?",
    "is everything ok?",
    "cpu utilisation on the vps over the past 1h",
]


@pytest.mark.parametrize("query, name", UNKNOWN_HOSTS)
def test_a_host_like_name_anywhere_in_the_question_is_refused_by_name(ssh, query, name):
    with pytest.raises(NotFound) as caught:
        CHECK_QUESTION(ToolContext(ssh, "vps-monitor"), query)

    assert caught.value.details["name"] == name and f"no server named {name!r}" in caught.value.message
    assert set(caught.value.details["closest"]) == {"localhost", SERVER_NAME}  # the servers it does know
    assert (caught.value.code, caught.value.exit_status, caught.value.http_status) == ("not_found", 1, 404)


@pytest.mark.parametrize("query", THIS_MACHINE)
def test_ordinary_words_in_a_question_about_this_machine_name_no_server(local, query):
    CHECK_QUESTION(ToolContext(local, "vps-monitor"), query)  # no NotFound

    assert TOOLS["uptime"].parse(query, ["localhost"]) == {}


@pytest.mark.parametrize("query", ["is loopback up?", "How much free memory does loopback have?", "loopback's uptime"])
def test_a_configured_server_named_the_same_ways_is_asked_not_refused(ssh, query):
    CHECK_QUESTION(ToolContext(ssh, "vps-monitor"), query)

    assert TOOLS["uptime"].parse(query, list(load_servers(ssh))) == {"server": SERVER_NAME}


@pytest.mark.parametrize(
    "query, name",
    [
        ("How much free memory does db-prod-2 have?", "db-prod-2"),
        ("disk on mail-relay", "mail-relay"),
        ("is web03 up?", "web03"),
    ],
)
def test_execute_agent_refuses_a_bare_unknown_host_without_this_machines_figures(script, query, name):
    run = script("execute_agent", "--agent", "vps-monitor", "--query", query)

    assert run.returncode == 1, run.stdout
    assert run.json["code"] == "not_found" and run.json["details"]["name"] == name
    assert "localhost" in run.json["error"]  # names the servers it knows
    assert "tool_calls" not in run.json or run.json["tool_calls"] == []
    assert "used of" not in run.stdout and "load average" not in run.stdout and "MemAvailable" not in run.stdout


@pytest.mark.parametrize(
    "query, tool",
    [
        ("check CPU usage on the server", "cpu_usage"),
        ("show memory usage", "memory_usage"),
        ("disk space on vps", "disk_usage"),
        ("load on the production server", "load_average"),
    ],
)
def test_execute_agent_still_answers_ordinary_questions_for_this_machine(script, query, tool):
    run = script("execute_agent", "--agent", "vps-monitor", "--query", query)

    assert run.returncode == 0, run.stdout
    assert [call["name"] for call in run.json["tool_calls"]] == [tool]
    assert run.json["data"]["server"] == "localhost"
