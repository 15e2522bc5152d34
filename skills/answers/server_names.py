"""Which server a person's question is about: a configured name, a word that clearly is a host's name, or none.

vps-monitor must never answer a question about "server web7" or "the backup box" with this
machine's figures. `named_server` finds the name; the tool (through skills/servers.get_server)
refuses one that is not configured with NotFound. "The server", "this box", "the VPS", "the web
server" and "the production server" name no server: they mean this machine.

A name without "server" beside it counts where a server is expected ("does db-prod-2 have", "is
web03 up", "on mail-relay", "web03's", at the start: "db-prod-2 disk usage") when it is host-like:
letters with a digit, or word parts joined by a hyphen or dot, and not a unit ("24h"), a device
("sda1"), an interface ("eth0"), a service ("php-fpm") or an English compound ("read-only").
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
    "we", "you", "they", "he", "she", "one", "anyone", "anything", "someone", "something", "nothing", "there's",
}  # fmt: skip
# Describe the box this runs on rather than name another: "the production server" is this one.
_DESCRIBING = {"production", "prod", "live", "monitoring", "monitored", "remote", "linux", "ubuntu", "debian"}
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


_LETTERS_WITH_DIGITS_OR_JOINS = re.compile(r"(?=[^a-z]*[a-z])[a-z0-9]+(?:[-.][a-z0-9]+)*", re.IGNORECASE)
_NOT_HOST_LIKE = re.compile(
    r"\d+(?:\.\d+)?(?:[a-z]{1,3}|mins?|secs?|hours?|days?|cores?)"  # 24h, 5min, 2GB, 100mb, 2pm
    r"|(?:sd|vd|xvd|hd)[a-z]\d*|nvme\d+(?:n\d+(?:p\d+)?)?|md\d+|dm-\d+|loop\d+|mmcblk\d+(?:p\d+)?"  # devices
    r"|ext[234]|ipv[46]|x86(?:[-_]64)?|i[3-6]86|amd64|arm64|aarch64|k[38]s|utf-?8|top-?\d+|last-?\d+\w*"
    r"|systemd-[a-z-]+",
    re.IGNORECASE,
)
_COMPOUND_PARTS = {  # a hyphenated word that starts or ends like these is English, not a host
    "first": {"read", "real", "up", "out", "non", "per", "multi", "single", "high", "low", "long", "short", "built",
              "well", "self", "all", "full", "half", "pre", "post", "re", "sub", "cross", "over", "under", "in",
              "on", "off", "by", "co", "anti", "semi", "open", "closed", "day", "week", "month", "year", "right",
              "left", "so", "e", "x", "t", "de", "mid", "near", "never", "ever", "old", "new", "hard", "soft"},
    "last": {"only", "time", "wide", "level", "related", "like", "bound", "based", "heavy", "intensive", "hungry",
             "free", "safe", "friendly", "aware", "specific", "side", "up", "down", "in", "out", "date", "term",
             "running", "use", "used", "ago", "long", "old", "style", "way", "ways", "hand", "made"},
}  # fmt: skip
_HYPHENATED_SERVICES = {"cloud-init", "unattended-upgrades", "network-manager", "docker-compose", "snap-store"}


def host_like(word: str) -> bool:
    """Does `word` look like a host's name on its own (web03, db-prod-2, mail-relay, 10.0.0.7)?

    Letters with a digit, or alphanumeric parts joined by hyphens or dots; a unit, a device, an
    architecture, a service or an English compound ("read-only", "real-time") is no host."""
    if not _LETTERS_WITH_DIGITS_OR_JOINS.fullmatch(word):
        return False
    lowered = word.lower()
    if not _is_server_name(word, host_like=False):
        return False
    parts = re.split(r"[-.]", lowered)
    if len(parts) > 1 and (parts[0] in _COMPOUND_PARTS["first"] or parts[-1] in _COMPOUND_PARTS["last"]):
        return False
    return len(parts) > 1 or bool(re.search(r"\d", word))


# Where a bare host-like name stands in place of a server ("does db-prod-2 have", "is web03 up?").
_BARE = r"([A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])"
_BARE_SERVER = [  # (pattern, any name will do: a server is what the words expect there)
    (re.compile(rf"\bdoes\s+{_BARE}\s+have\b", re.IGNORECASE), True),
    (re.compile(rf"\bdoes\s+{_BARE}\s+(?:use|show|report|look|run|need|hold|say)\b", re.IGNORECASE), False),
    (
        re.compile(
            rf"\b(?:is|are|was)\s+{_BARE}\s+(?:still\s+)?(?:up|down|reachable|unreachable|online|offline|alive|"
            r"responding|pingable|healthy|ok|okay|available|overloaded|busy)\b",
            re.IGNORECASE,
        ),
        False,
    ),
    (re.compile(rf"\b(?:on|for|of|at|from|about)\s+{_BARE}(?![\w-])", re.IGNORECASE), False),
    (re.compile(rf"\b(?:check|ping|monitor|inspect)\s+{_BARE}(?![\w-])", re.IGNORECASE), False),
    (re.compile(rf"\b{_BARE}'s\b", re.IGNORECASE), False),
    (re.compile(rf"^\W*{_BARE}(?=[\s:,?!]|$)", re.IGNORECASE), False),
]


def _is_server_name(word: str, host_like: bool) -> bool:
    lowered = word.lower()
    if lowered in _NOT_A_SERVER_NAME or lowered in KNOWN_SERVICES or INTERFACE.fullmatch(word):
        return False
    if lowered in _HYPHENATED_SERVICES or _NOT_HOST_LIKE.fullmatch(word):  # cloud-init, sda1, 24h, 2pm
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
    for pattern, needs_host_like in _NAMED_SERVER:
        for match in pattern.finditer(query):
            if _is_server_name(match.group(1), needs_host_like) and not _describes_this_box(match):
                return match.group(1)
    for pattern, any_name in _BARE_SERVER:
        for match in pattern.finditer(query):
            word = match.group(1)
            if host_like(word) or (any_name and _is_server_name(word, False) and word.lower() not in _DESCRIBING):
                return word
    return None


def _describes_this_box(match: re.Match) -> bool:
    """ "the production server", "our live box": a word describing the machine, not another's name."""
    return match.group(1).lower() in _DESCRIBING and bool(re.match(r"(?:the|our|my)\s", match.group(0), re.IGNORECASE))


def check_question(settings, query: str) -> None:
    """A question about a server that is not configured is NotFound, before any tool or model runs."""
    from skills.backends.hosts import get_server, load_servers

    name = named_server(query, list(load_servers(settings)))
    if name:
        get_server(settings, name)
