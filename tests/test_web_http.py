"""The web client's files on the game's port: real server, raw HTTP over loopback.

Each answer is read whole from a real TCP connection: status, headers, body. A game in
another room is played through the same port meanwhile, and must finish.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import trio
from rawws import witness_game

from cardgame.net.transport import HttpRequest
from cardgame.net.web import WEB_DIR, csp

ROOT = Path(__file__).resolve().parent.parent
MODULES = ["app.js", "protocol.js", "storage.js", "cards.js", "rules.js", "lobby.js", "table.js",
           "clock.js", "log.js", "names.js", "watch.js"]  # fmt: skip


async def fetch(port: int, request: bytes) -> tuple[str, dict[str, str], bytes]:
    """One request, the whole answer (the server closes after it)."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        await stream.send_all(request)
        answer = b""
        with trio.fail_after(10):
            while chunk := await stream.receive_some(65536):
                answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return lines[0], headers, body


def get(path: str, method: str = "GET", extra: str = "") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:8888\r\n{extra}\r\n".encode()


async def test_the_page_and_its_modules_are_served_with_their_types(server):
    status, headers, body = await fetch(server.port, get("/"))
    assert status == "HTTP/1.1 200 OK"
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert body == (WEB_DIR / "index.html").read_bytes()
    assert int(headers["content-length"]) == len(body)
    assert b'<script type="module" src="/app.js">' in body
    for name in MODULES:
        status, headers, body = await fetch(server.port, get(f"/{name}"))
        assert status == "HTTP/1.1 200 OK", name
        assert headers["content-type"] == "text/javascript; charset=utf-8"
        assert body == (WEB_DIR / name).read_bytes()
    status, headers, _ = await fetch(server.port, get("/style.css"))
    assert headers["content-type"] == "text/css; charset=utf-8"


async def test_every_module_imported_is_served(server):
    """No module names a file the server does not have (a 404 in the browser)."""
    for name in MODULES:
        source = (WEB_DIR / name).read_text()
        for imported in re.findall(r'from "\./([\w.]+)"', source):
            assert imported in MODULES, f"{name} imports {imported}"
    listed = {p.name for p in WEB_DIR.glob("*.js")}
    assert listed == set(MODULES)


async def test_the_policy_forbids_other_hosts(server):
    _, headers, _ = await fetch(server.port, get("/"))
    policy = headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self';" in policy
    assert "style-src 'self';" in policy
    # WebSockets to this host only (any port: another process of the service, issue 15)
    assert "connect-src 'self' ws://127.0.0.1:* wss://127.0.0.1:*;" in policy
    assert headers["x-content-type-options"] == "nosniff"
    # a Host header that would change the policy is not written into it
    _, headers, _ = await fetch(
        server.port, b"GET / HTTP/1.1\r\nHost: evil.example; script-src *\r\n\r\n"
    )
    assert "evil" not in headers["content-security-policy"]
    assert "connect-src 'self';" in headers["content-security-policy"]


def test_the_policy_names_the_services_other_processes_and_nothing_else():
    """A room may run in another process of the service, at another host name: the page
    is sent there (``moved``), so it may open WebSockets to each process's public URL;
    a URL that is not a plain ws:// or wss:// one is left out of the policy."""
    request = HttpRequest("GET", "/", {"host": "game2.example:8882"})
    policy = csp(request, ["wss://game3.example", "ws://game1.example:8881", "ws://u:pw@game4:1",
                           "ws://evil.example; script-src *", "http://web.example",
                           "ws://game5.example:port", "", "ws://game1.example:8881"])  # fmt: skip
    connect = policy.split("connect-src ", 1)[1].split(";", 1)[0].split()
    assert connect[:3] == ["'self'", "ws://game2.example:*", "wss://game2.example:*"]
    assert connect[3:] == ["ws://game1.example:8881", "ws://game4:1", "wss://game3.example"]
    assert "evil" not in policy and "web.example" not in policy and "pw" not in policy


async def test_etag_revalidation_answers_304(server):
    _, headers, body = await fetch(server.port, get("/app.js"))
    etag = headers["etag"]
    assert etag == '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
    assert headers["cache-control"] == "no-cache"
    status, headers, body = await fetch(
        server.port, get("/app.js", extra=f"If-None-Match: {etag}\r\n")
    )
    assert status == "HTTP/1.1 304 Not Modified"
    assert body == b""
    status, _, body = await fetch(server.port, get("/app.js", extra='If-None-Match: "other"\r\n'))
    assert status == "HTTP/1.1 200 OK" and body


async def test_head_has_the_headers_and_no_body(server):
    status, headers, body = await fetch(server.port, get("/", method="HEAD"))
    assert status == "HTTP/1.1 200 OK"
    assert int(headers["content-length"]) == len((WEB_DIR / "index.html").read_bytes())
    assert body == b""


async def test_other_methods_get_405_and_unknown_paths_404(server):
    for method in ("POST", "PUT", "DELETE", "OPTIONS"):
        status, headers, _ = await fetch(server.port, get("/", method=method))
        assert status == "HTTP/1.1 405 Method Not Allowed", method
        assert headers["allow"] == "GET, HEAD"
    for path in ("/nothing.js", "/lobby", "/web/app.js", "/index.htm", "/APP.JS"):
        status, _, body = await fetch(server.port, get(path))
        assert status == "HTTP/1.1 404 Not Found", path
        assert body == b"no such page\n"


async def test_paths_out_of_the_directory_are_refused(server):
    secret = (ROOT / "pyproject.toml").read_bytes()
    for path in (
        "/../pyproject.toml",
        "/%2e%2e/pyproject.toml",
        "/..%2fpyproject.toml",
        "//etc/passwd",
        "/./app.js/../../pyproject.toml",
        "/" + str(ROOT / "pyproject.toml"),
        "/net/web.py",
        "/%00app.js",
    ):
        status, _, body = await fetch(server.port, get(path))
        assert status == "HTTP/1.1 404 Not Found", path
        assert secret not in body


async def test_the_files_are_served_while_a_game_goes_on(server):
    """Page requests and nonsense next to a game in another room, on the same port: the
    game finishes (the witness plays it to its end on the way out)."""
    async with witness_game(server.url):
        for _ in range(10):
            status, _, _ = await fetch(server.port, get("/app.js"))
            assert status == "HTTP/1.1 200 OK"
            status, _, _ = await fetch(server.port, b"BREW / HTCPCP/1.0\r\n\r\n")
            assert status == "HTTP/1.1 405 Method Not Allowed"


def test_an_installed_package_carries_the_files(tmp_path):
    """``pip install cardgame`` serves the page too: the wheel holds web/ as package data."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
         "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    wheel = next(tmp_path.glob("cardgame-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in [*MODULES, "index.html", "style.css"]:
        assert f"cardgame/web/{name}" in names
    assert "cardgame/net/web.py" in names
