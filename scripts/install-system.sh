#!/bin/sh
# Install the system programs vnetkit drives, when any is missing (Debian/Ubuntu, as root).
# Idempotent: a machine that has them all is left alone and nothing is downloaded.
set -eu
missing=""
need() { command -v "$1" >/dev/null 2>&1 || missing="$missing $2"; }
need iptables-nft iptables
need iptables-legacy iptables
need ip iproute2
need nft nftables
need conntrack conntrack
need ipset ipset
need ping iputils-ping
need nfacct nfacct
need dot graphviz
# /etc/services and /etc/protocols: iptables looks names up there, and so does vnetkit's resolver
[ -r /etc/services ] && [ -r /etc/protocols ] || missing="$missing netbase"
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing="$missing python3-venv"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "vnetkit needs these packages:$missing; run 'make' as root, or: sudo apt-get install$missing" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "vnetkit needs these packages:$missing (no apt-get here: install them with your package manager)" >&2
    exit 1
fi
# shellcheck disable=SC2086
echo "installing:$missing" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
