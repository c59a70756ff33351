"""The web client's files, served over plain HTTP on the game's own port.

Rule 1: only the files found in ``web/`` when the server starts are ever served, read
into memory then: a request names one of them or gets 404, so no path (``..``,
``%2e%2e``, a symlink, an absolute path) reaches the file system.

Rule 2: this module answers ``GET`` and ``HEAD`` and nothing else (405), one request
per connection (``Connection: close``). The page is a dozen small static files; the
transport already reads and bounds the request head, so a static answer needs no HTTP
library, and a second HTTP server would mean a second listener or a second parser in
front of trio-websocket's.

Every answer carries a Content-Security-Policy that lets the page load nothing from
another host and open WebSockets only to this host (any port) and to the other
processes of the same service, at their ``--public-url`` (a room may run in another
process on another machine, and the page is sent there: issue 15), an ETag and
``Cache-Control: no-cache`` (a browser revalidates, and gets 304 while the file is
unchanged).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import trio

from .transport import HttpRequest

#: Where the client's files are: ``web/`` beside ``net/`` in a checkout, and
#: ``cardgame/web`` beside ``cardgame/net`` once installed (pyproject's package data).
WEB_DIR = Path(__file__).resolve().parent.parent / "web"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}

#: Seconds a client has to take an answer (the files are small).
SEND_TIMEOUT = 10.0


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    content_type: str
    etag: str


def load(directory: Path = WEB_DIR) -> dict[str, StaticFile]:
    """The servable files by URL path; ``/`` is ``index.html``."""
    files: dict[str, StaticFile] = {}
    if not directory.is_dir():
        return files
    for path in sorted(directory.iterdir()):
        kind = CONTENT_TYPES.get(path.suffix)
        if kind is None or not path.is_file():
            continue
        body = path.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        files["/" + path.name] = StaticFile(body, kind, etag)
    if "/index.html" in files:
        files["/"] = files["/index.html"]
    return files


def csp(request: HttpRequest, services: Iterable[str] = ()) -> str:
    """Nothing from another host; WebSockets to this host, on any of its ports, and to
    the service's other processes (``services``: their public URLs)."""
    host = _hostname(request.headers.get("host", ""))
    sources = [f"ws://{host}:*", f"wss://{host}:*"] if _plain_host(host) else []
    sources += sorted({o for o in map(_origin, services) if o and o not in sources})
    sockets = "".join(" " + source for source in sources)
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self'{sockets}; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )


def _hostname(header: str) -> str:
    """The Host header without its port (``[::1]:8888`` is ``[::1]``)."""
    if header.startswith("["):
        return header.split("]", 1)[0] + "]"
    return header.rsplit(":", 1)[0]


def _origin(url: str) -> str | None:
    """A ``ws://`` or ``wss://`` URL as a policy source (scheme, host and port), or
    None when it is not one that can be written into the policy as it is."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- a port that is not a number raises here
    except ValueError:
        return None
    where = parts.netloc.rsplit("@", 1)[-1]
    if parts.scheme not in ("ws", "wss") or not _plain_host(where):
        return None
    return f"{parts.scheme}://{where}"


def _plain_host(host: str) -> bool:
    """A Host header fit to be written into the policy (no spaces, quotes or ';')."""
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-[]:")
    return bool(host) and set(host) <= allowed


class WebPage:
    """The plain-HTTP handler of :mod:`cardgame.net.transport`: the web client's files."""

    def __init__(
        self,
        files: dict[str, StaticFile] | None = None,
        services: Callable[[], Iterable[str]] = tuple,
    ) -> None:
        self.files = load() if files is None else files
        self.services = services  # the other processes' public URLs, now

    async def __call__(self, stream: trio.SocketStream, request: HttpRequest) -> None:
        status, headers, body = self.answer(request)
        lines = [f"HTTP/1.1 {status}"] + [f"{k}: {v}" for k, v in headers.items()]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if request.method == "HEAD":
            body = b""
        with trio.move_on_after(SEND_TIMEOUT):
            # a browser that went away has nothing more to be told
            with suppress(trio.BrokenResourceError, trio.ClosedResourceError):
                await stream.send_all(head + body)

    def answer(self, request: HttpRequest) -> tuple[str, dict[str, str], bytes]:
        """The status line's tail, the headers and the body for one request."""
        headers = {
            "Content-Security-Policy": csp(request, self.services()),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Connection": "close",
        }
        path = request.target.split("?", 1)[0].split("#", 1)[0]
        found = self.files.get(path)
        if request.method not in ("GET", "HEAD"):
            headers["Allow"] = "GET, HEAD"
            return _plain("405 Method Not Allowed", headers, "only GET and HEAD\n")
        if found is None:
            return _plain("404 Not Found", headers, "no such page\n")
        headers["ETag"] = found.etag
        headers["Cache-Control"] = "no-cache"
        if found.etag in _etags(request.headers.get("if-none-match", "")):
            headers["Content-Length"] = "0"
            return "304 Not Modified", headers, b""
        headers["Content-Type"] = found.content_type
        headers["Content-Length"] = str(len(found.body))
        return "200 OK", headers, found.body


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def _plain(status: str, headers: dict[str, str], text: str) -> tuple[str, dict[str, str], bytes]:
    body = text.encode()
    headers["Content-Type"] = "text/plain; charset=utf-8"
    headers["Content-Length"] = str(len(body))
    return status, headers, body
