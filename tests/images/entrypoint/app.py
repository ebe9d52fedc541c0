"""pare-test/entrypoint: a tiny http.server app reading the config file that
docker-entrypoint.sh wrote ($APP_CONFIG, key=value lines)."""

import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CONFIG = os.environ.get("APP_CONFIG", "/app/config/app.conf")


def read_config():
    config = {}
    with open(CONFIG, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                config[key] = value
    return config


class Handler(BaseHTTPRequestHandler):
    def send_json(self, status, doc):
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 (http.server's name)
        if self.path == "/":
            config = read_config()
            self.send_json(200, {"message": f"{config['greeting']} from {config['name']}"})
        elif self.path == "/config":
            self.send_json(200, {"path": CONFIG, "config": read_config()})
        elif self.path == "/health":
            self.send_json(200, {"status": "ok"})
        else:
            self.send_json(404, {"error": "not found"})

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))


def main():
    port = int(read_config().get("port", "8082"))
    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)
    # PID 1 ignores SIGTERM unless it installs a handler.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"pare-test/entrypoint listening on {port}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
