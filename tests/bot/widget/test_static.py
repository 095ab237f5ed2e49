"""The widget's browser files: valid JavaScript, and the vendored socket.io-client is the pinned one."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from bot.settings import PROJECT_ROOT
from bot.widget.serve import ROOTS

NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed (scripts/install_browser.sh needs it)")
@pytest.mark.parametrize("script", ["static/assistant.js", "demo/demo.js"])
def test_scripts_parse(script):
    path = ROOTS["widget"].parent / script
    result = subprocess.run([NODE, "--check", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_vendored_socket_io_client_is_the_pinned_release():
    lock = json.loads((PROJECT_ROOT / "package-lock.json").read_text())
    pinned = lock["packages"]["node_modules/socket.io-client"]["version"]
    vendored = (ROOTS["widget"] / "vendor" / "socket.io.min.js").read_text()
    assert f"Socket.IO v{pinned}" in vendored.splitlines()[1]
    assert (ROOTS["widget"] / "vendor" / "socket.io-client.LICENSE").read_text().startswith("The MIT License")
    installed = PROJECT_ROOT / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
    if installed.exists():
        assert installed.read_text() == vendored
