"""``make demo`` runs end to end, shows moving counters, and leaves nothing behind."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from vnetkit.exec import netns as nsops

pytestmark = pytest.mark.integration


def test_demo_runs_and_cleans_up() -> None:
    env = {**os.environ, "COLUMNS": "300"}  # wide enough that no rule line wraps
    done = subprocess.run(
        [sys.executable, "-m", "vnetkit.demo"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "Traceback" not in out + done.stderr
    assert "3 packets transmitted, 3 received" in out
    # Links walkthrough: a veth pair both ways, a bridge with three containers, the inventory.
    assert "vnk-demo-a# ping 10.98.0.2: 2 packets transmitted, 2 received" in out
    assert "vnk-demo-b# ping 10.98.0.1: 2 packets transmitted, 2 received" in out
    assert "vnk-demo-c1# ping 172.30.0.13: 2 packets transmitted, 2 received" in out
    for k in (1, 2, 3):
        assert re.search(rf"veth{k}c\s+br0\s+vnk-demo-c{k}\s+eth0\s+172\.30\.0\.1{k}/24", out)
    assert "tcp to 10.99.0.2:23: timed out (dropped by the firewall)" in out
    # The counters moved: the telnet DROP rule and the ping rule each counted a packet.
    assert re.search(r"\[1:60\] -A VNK-DEMO-IN -p tcp -m tcp --dport 23 .*-j DROP", out)
    assert re.search(r"\[1:84\] -A VNK-DEMO-IN -p icmp .*allow ping", out)
    # Desired state: applied once, then nothing; a change re-syncs only the difference.
    assert "first sync: 5 change(s)" in out
    assert "second sync (nothing to do): 0 change(s)" in out
    assert "  add     -A VNK-SVC-WEB -p tcp -m tcp --dport 8443 -j ACCEPT" in out
    assert "after a wipe: 0 rules" in out
    assert "after restore: 8 rules" in out
    for name in ("vnk-demo-a", "vnk-demo-b", "vnk-demo-host", "vnk-demo-c1", "vnk-demo-c2", "vnk-demo-c3"):
        assert not nsops.exists(name)
    assert not nsops.exists("vnk-demo-client")
    assert not nsops.exists("vnk-demo-fw")
