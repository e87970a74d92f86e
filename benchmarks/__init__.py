"""Benchmarks: vnetkit timed against the go-iptables anchor, as ratios (``make bench``)."""
