"""Checks public/assets/qrcode.js against independent implementations: for several texts (an
otpauth URI, long, non-ASCII) node draws the matrix, OpenCV decodes it back to the same text,
and for each mask the python `qrcode` package draws the same modules at the same version."""
import json
import os
import subprocess
import sys

import cv2
import numpy
import qrcode
from qrcode.util import MODE_8BIT_BYTE, QRData

SCRIPT = os.path.join(os.path.dirname(__file__), "../../public/assets/qrcode.js")
TEXTS = [
    "Bookline",
    "otpauth://totp/Bookline:owner%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Bookline&algorithm=SHA1&digits=6&period=30",
    "x" * 150, "y" * 300, "Zoë é ñ ü 日本語 — " * 10, "z" * 600, "0123456789" * 150,
]


def matrix(text, mask=None):
    code = f"const Q = require({json.dumps(os.path.abspath(SCRIPT))}); process.stdout.write(JSON.stringify(Q.matrix({json.dumps(text)}, {json.dumps(mask)} ?? undefined)))"
    return json.loads(subprocess.run(["node", "-e", code], capture_output=True, text=True, check=True).stdout)


def decode(modules):
    scale, border = 8, 4
    grid = numpy.array(modules, dtype=numpy.uint8)
    image = numpy.pad((1 - grid) * 255, border, constant_values=255)
    image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    return cv2.QRCodeDetector().detectAndDecode(image)[0]


def reference(text, version, mask):
    code = qrcode.QRCode(version=version, error_correction=qrcode.constants.ERROR_CORRECT_M, border=0, mask_pattern=mask)
    code.add_data(QRData(text.encode("utf-8"), mode=MODE_8BIT_BYTE))
    code.make(fit=False)
    return [[bool(cell) for cell in row] for row in code.get_matrix()]


compared = decoded_count = 0
for text in TEXTS:
    modules = matrix(text)
    version = (len(modules) - 17) // 4
    # OpenCV's detector misreads some large symbols (python qrcode's own as well), so the
    # decode check covers what the page shows (the URI is version 8) and the masks check the rest.
    if version <= 13 or text.isdigit():
        decoded = decode(modules)
        assert decoded == text, f"version {version}: OpenCV read {decoded[:40]!r}"
        decoded_count += 1
    for mask in range(8):
        assert matrix(text, mask) == reference(text, version, mask), f"{text[:20]!r} v{version} mask {mask} differs from python qrcode"
        compared += 1
try:
    matrix("a" * 3000)
    sys.exit("a text too long was accepted")
except subprocess.CalledProcessError as error:
    assert "too long" in error.stderr, error.stderr
print(f"qr: {decoded_count} of {len(TEXTS)} texts (versions 1 to 32) decoded by OpenCV, {compared} version/mask matrices equal to python qrcode's")
