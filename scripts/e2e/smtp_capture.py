"""A local SMTP server (aiosmtpd) that saves every message it receives, for the e2e checks.

    smtp_capture.py PORT FOLDER     writes FOLDER/N.json: {"mail_from", "rcpt_tos", "data"}
"""
import json
import os
import sys
import time

from aiosmtpd.controller import Controller

port, folder = int(sys.argv[1]), sys.argv[2]
os.makedirs(folder, exist_ok=True)


class Capture:
    count = 0

    async def handle_DATA(self, server, session, envelope):
        Capture.count += 1
        with open(os.path.join(folder, f"{Capture.count}.json"), "w") as out:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                       "data": envelope.content.decode("utf-8", "replace")}, out)
        return "250 Message accepted for delivery"


controller = Controller(Capture(), hostname="127.0.0.1", port=port)
controller.start()
print(f"smtp capture listening on {port}", flush=True)
try:
    while True:
        time.sleep(3600)
finally:
    controller.stop()
