"""Which server a person's question is about: a configured name, a word that clearly is a host's name, or none.

vps-monitor must never answer a question about "server web7" or "the backup box" with this
machine's figures. `named_server` finds the name; the tool (through skills/servers.get_server)
refuses one that is not configured with NotFound. "The server", "this box", "the VPS" and
"the web server" name no server: they mean this machine.
"""

from __future__ import annotations

import re

# Named anywhere in a sentence, these are taken as the service even without "service" beside them.
KNOWN_SERVICES = {
    "nginx", "docker", "dockerd", "postgresql", "postgres", "apache", "apache2", "httpd", "sshd", "ssh", "mysql",
    "mysqld", "mariadb", "redis", "cron", "caddy", "containerd", "haproxy", "memcached", "mongod", "mongodb",
    "rabbitmq-server", "supervisor", "fail2ban", "ufw", "php-fpm", "elasticsearch", "grafana-server", "prometheus",
    "node_exporter", "traefik",
}  # fmt: skip
INTERFACE = re.compile(
    r"\b(eth\d+|en[ops]\w+|ens\d+|wlan\d+|wlp\w+|docker\d+|br-\w+|bond\d+|veth\w+|tun\d+|wg\d+|ifb\d+|lo)\b"
)


# Words that sit where a server's name would ("the main box", "on it") but leave the server unnamed:
# the question is about this machine. Role words (web, database) describe what a box serves, not its name.
_NOT_A_SERVER_NAME = {
    "this", "that", "the", "our", "my", "your", "its", "a", "an", "any", "each", "every", "which", "what", "all",
    "local", "current", "same", "main", "primary", "whole", "entire", "own", "linux", "ubuntu", "debian", "virtual",
    "cloud", "hosting", "dedicated", "web", "database", "db", "sql", "mail", "dns", "file", "app", "application",
    "proxy", "postgres", "postgresql", "mysql", "nginx", "docker", "it", "here", "there", "average", "now", "root",
    "disk", "disks", "home", "var", "tmp", "boot", "usr", "memory", "ram", "cpu", "load", "time", "top", "them",
    "everything", "startup", "server", "servers", "vps", "box", "host", "hosts", "machine", "node", "instance", "vm",
    "localhost", "me", "us", "record", "purpose", "interface", "port", "network", "system", "sure",
}  # fmt: skip
_HOST_NOUN = r"(?:server|host|box|vps|machine|node|instance|vm)"
_NAME = r"([A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9]|[A-Za-z0-9])"
_HOSTLIKE = re.compile(r"\d|[-.]")
_NAMED_SERVER = [  # (pattern, needs a host-like name: digits, dots or dashes)
    (re.compile(rf"\b{_HOST_NOUN}s?\s+(?:called|named)\s+{_NAME}", re.IGNORECASE), False),
    (re.compile(rf"\b{_HOST_NOUN}\s+{_NAME}", re.IGNORECASE), True),
    (re.compile(rf"\bhow(?:'s|\s+is)\s+{_NAME}\s+(?:doing|looking|holding\s+up)\b", re.IGNORECASE), True),
    (re.compile(rf"\b(?:the|our|my)\s+{_NAME}\s+{_HOST_NOUN}\b", re.IGNORECASE), False),
    (
        re.compile(
            rf"\b(?:on|for|of|at|from)\s+{_NAME}(?=\s*(?:[?!,;]|\.(?:\s|$)|$|\s+(?:right\s+now|now|today|currently|please)\b))",
            re.IGNORECASE,
        ),
        False,
    ),
    (
        re.compile(
            r"\b(\d{1,3}(?:\.\d{1,3}){3}|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|io|za|local|internal|lan))\b",
            re.IGNORECASE,
        ),
        True,
    ),
]


def _is_server_name(word: str, host_like: bool) -> bool:
    lowered = word.lower()
    if lowered in _NOT_A_SERVER_NAME or lowered in KNOWN_SERVICES or INTERFACE.fullmatch(word):
        return False
    if lowered.endswith((".service", ".socket", ".timer", ".target", ".mount")):
        return False
    return bool(_HOSTLIKE.search(word)) if host_like else True


def named_server(query: str, servers: list[str]) -> str | None:
    """The server a sentence names: a configured one, else a word that clearly is a host's name.

    "on production", "server web7", "the backup box", "db-prod-2.example.com" name a server;
    "the server", "this box", "the VPS", "the web server" leave it unnamed (this machine).
    """
    found = []
    for name in servers:
        match = re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", query, re.IGNORECASE)
        if match:
            found.append((match.start(), name))
    if found:
        return min(found)[1]
    for pattern, host_like in _NAMED_SERVER:
        for match in pattern.finditer(query):
            if _is_server_name(match.group(1), host_like):
                return match.group(1)
    return None


def check_question(settings, query: str) -> None:
    """A question about a server that is not configured is NotFound, before any tool or model runs."""
    from skills.backends.hosts import get_server, load_servers

    name = named_server(query, list(load_servers(settings)))
    if name:
        get_server(settings, name)
