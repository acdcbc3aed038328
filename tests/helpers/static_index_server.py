"""A static index on loopback, run as a script: ``python static_index_server.py PORT``.

What ``python -m http.server`` does (and logs) from the current directory, except that a
project directory holding ``index.json`` answers it as a PEP 691 page, which carries upload
times that PEP 503 HTML cannot.
"""

from __future__ import annotations

import sys
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PEP_691 = "application/vnd.pypi.simple.v1+json"


class Handler(SimpleHTTPRequestHandler):
    def do_GET(self) -> None:
        page = Path(self.translate_path(self.path)) / "index.json"
        if not self.path.endswith("/") or not page.is_file():
            super().do_GET()
            return
        body = page.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", PEP_691)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main() -> None:
    port = int(sys.argv[1])
    server = ThreadingHTTPServer(("127.0.0.1", port), partial(Handler, directory="."))
    server.serve_forever()


if __name__ == "__main__":
    main()
