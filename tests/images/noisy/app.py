"""pare-test/noisy: answers that differ on every request the way real apps' do.

GET /health  {"status","time","id","pid","count"}: the time now, a fresh uuid, the
             process id, a request counter; an ETag and a request id that vary too.
GET /page    an HTML page stamped with the time.
GET /file    the content of /app/data/message.txt (what a slim image must keep).
"""
import datetime
import http.server
import json
import os
import uuid

COUNT = 0


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def send(self, status, body, kind):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("ETag", '"%s"' % uuid.uuid4().hex[:12])
        self.send_header("X-Request-Id", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        global COUNT
        COUNT += 1
        now = datetime.datetime.now(datetime.timezone.utc).isoformat()
        if self.path == "/health":
            body = {"status": "ok", "time": now, "id": str(uuid.uuid4()),
                    "pid": os.getpid(), "count": COUNT}
            self.send(200, json.dumps(body), "application/json")
        elif self.path == "/page":
            html = "<html><body><h1>noisy</h1><p>rendered at %s for request %d</p></body></html>\n" % (now, COUNT)
            self.send(200, html, "text/html")
        elif self.path == "/file":
            with open("/app/data/message.txt") as f:
                self.send(200, json.dumps({"message": f.read().strip(), "served_at": now}),
                          "application/json")
        else:
            self.send(404, json.dumps({"error": "not found"}), "application/json")


if __name__ == "__main__":
    http.server.HTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8085"))), Handler).serve_forever()
