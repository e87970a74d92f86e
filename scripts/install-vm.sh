#!/bin/sh
# Install what the VM tier needs (Debian/Ubuntu, as root): QEMU, a stock Debian
# kernel, a static busybox for the VM's initramfs, and virtme-ng (`vng`) in the
# project venv. Idempotent: when everything is there, nothing is downloaded.
# Prints nothing on success; scripts/run-vm-tests.sh finds the kernel itself.
set -eu
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"

missing=""
for pkg in qemu-system-x86 linux-image-amd64 busybox-static; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "the VM tier needs these packages:$missing; run as root, or: sudo apt-get install$missing" >&2
        exit 1
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "the VM tier needs these packages:$missing (no apt-get here: install them with your package manager)" >&2
        exit 1
    fi
    echo "installing:$missing" >&2
    apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if ! ls /boot/vmlinuz-*-amd64 >/dev/null 2>&1; then
    echo "no Debian kernel image (/boot/vmlinuz-*-amd64) after installing linux-image-amd64" >&2
    exit 1
fi

if [ ! -x "$VENV/bin/pip" ]; then
    echo "no project venv at $VENV: run 'make install' first" >&2
    exit 1
fi
want=$(sed -n 's/^virtme-ng==//p' requirements-vm.txt)
have=$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("virtme-ng"))' 2>/dev/null || true)
if [ "$have" != "$want" ] || [ ! -x "$VENV/bin/vng" ]; then
    echo "installing: virtme-ng==$want into $VENV" >&2
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r requirements-vm.txt
fi
