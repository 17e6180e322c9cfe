"""A local stand-in for a Slack incoming webhook that saves every JSON body it is posted.

    slack_capture.py PORT FOLDER     writes FOLDER/N.json with the body as sent
"""
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, folder = int(sys.argv[1]), sys.argv[2]
os.makedirs(folder, exist_ok=True)
count = 0


class Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        global count
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        count += 1
        with open(os.path.join(folder, f"{count}.json"), "wb") as out:
            out.write(body)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", port), Hook)
print(f"slack capture listening on {port}", flush=True)
server.serve_forever()
