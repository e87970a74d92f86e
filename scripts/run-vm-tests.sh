#!/usr/bin/env bash
# The VM tier: run every test marked kernel_vm (anywhere under tests/) inside a
# stock Debian kernel booted under QEMU by virtme-ng, with this machine's root
# filesystem (read-only plus an overlay) and this checkout writable.
#
#   scripts/run-vm-tests.sh [pytest selection args]   (make test-vm; make vm-install first)
#
# How:
# - The selection (default: tests) is collected here with `-m kernel_vm`. That
#   takes a second natively but minutes under emulation, where every file read
#   crosses 9p; the VM then runs exactly the collected test ids, still with
#   `-m kernel_vm`. No kernel_vm test (pytest's exit 5) is a failure.
# - Inside, VNETKIT_VM_TIER=1 turns any skip of a kernel_vm test into a failure
#   (tests/conftest.py).
# - The guest writes pytest's exit status to a file in the checkout; that file,
#   not vng's own status, is the verdict (no file: the VM died or timed out).
# Environment: VNETKIT_VM_KERNEL (default: newest /boot/vmlinuz-*-amd64),
# VNETKIT_VM_TIMEOUT seconds (default 1200), VNETKIT_VM_MEMORY (1G), VNETKIT_VM_CPUS (2),
# VNETKIT_VM_PYTEST_OPTS (more pytest options inside the VM, e.g. "-x --durations=10").
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
venv=$(cd "${VENV:-.venv}" 2>/dev/null && pwd) || venv=""
limit=${VNETKIT_VM_TIMEOUT:-1200}

kernel=${VNETKIT_VM_KERNEL:-}
if [ -z "$kernel" ]; then
    kernel=$(find /boot -maxdepth 1 -name 'vmlinuz-*-amd64' 2>/dev/null | sort -V | tail -n 1)
fi
if [ -z "$kernel" ] || [ ! -r "$kernel" ]; then
    echo "vm tier: no readable Debian kernel (/boot/vmlinuz-*-amd64): run 'make vm-install' (as root)" >&2
    exit 1
fi
if [ -z "$venv" ] || [ ! -x "$venv/bin/vng" ] || [ ! -x "$venv/bin/python" ]; then
    echo "vm tier: no vng in the project venv: run 'make vm-install'" >&2
    exit 1
fi
if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
    echo "vm tier: qemu-system-x86_64 is missing: run 'make vm-install'" >&2
    exit 1
fi

# Which tests: every kernel_vm test in the selection, by id (collected natively).
selection=("$@")
[ ${#selection[@]} -gt 0 ] || selection=(tests)
set +e
collected=$("$venv/bin/python" -m pytest --collect-only -q -p no:cacheprovider -m kernel_vm "${selection[@]}")
collect_rc=$?
set -e
if [ "$collect_rc" -ne 0 ]; then
    echo "$collected"
    if [ "$collect_rc" -eq 5 ]; then
        echo "vm tier: FAILED: no kernel_vm tests in ${selection[*]}" >&2
    else
        echo "vm tier: FAILED: collecting the kernel_vm tests failed (pytest exit $collect_rc)" >&2
    fi
    exit 1
fi
# The ids are the lines before the first blank one (then come the summary and any warnings).
mapfile -t ids < <(sed '/^$/q' <<<"$collected" | grep '::' | awk '!seen[$0]++')
if [ ${#ids[@]} -eq 0 ]; then
    echo "vm tier: FAILED: no kernel_vm tests in ${selection[*]}" >&2
    exit 1
fi

# Scratch space inside the checkout: the only place both sides can write.
work=$(mktemp -d "$repo/.vm-tier.XXXXXX")
trap 'rm -rf "$work"' EXIT

read -r -a extra <<<"${VNETKIT_VM_PYTEST_OPTS:-}"
pytest_args=(-m kernel_vm -q -p no:cacheprovider "${extra[@]}" "${ids[@]}")
q() { printf '%q' "$1"; }
cat >"$work/guest.sh" <<EOF
# Runs inside the VM (written by scripts/run-vm-tests.sh).
cd $(q "$repo") || exit 1
export VNETKIT_VM_TIER=1 PYTHONDONTWRITEBYTECODE=1
t0=\$(date +%s%N)
$(q "$venv/bin/python") -m pytest $(printf '%q ' "${pytest_args[@]}")
rc=\$?
t1=\$(date +%s%N)
echo "\$rc \$(( (t1 - t0) / 1000000 ))" > $(q "$work/result")
EOF

echo "vm tier: ${#ids[@]} kernel_vm tests from ${selection[*]}; booting $(basename "$kernel") under QEMU (software emulation)"
t0=$(date +%s%N)
set +e
# vng runs virtme-run from PATH. --disable-kvm: QEMU 7.2 aborts under this
# machine's hypervisor with KVM (see shared/design/KERNEL-VM.md). QEMU reopens
# /proc/self/fd/1 and 2 (at offset 0 when they are files): give it a pipe.
PATH="$venv/bin:$PATH" timeout --kill-after=30 "$limit" \
    "$venv/bin/vng" --run "$kernel" --disable-kvm \
    --memory "${VNETKIT_VM_MEMORY:-1G}" --cpus "${VNETKIT_VM_CPUS:-2}" \
    --rwdir "$repo" --exec "sh $work/guest.sh" </dev/null 2>&1 | cat
vng_rc=${PIPESTATUS[0]}
set -e
t1=$(date +%s%N)
total_ms=$(((t1 - t0) / 1000000))

secs() { printf '%d.%01d' $(($1 / 1000)) $((($1 % 1000) / 100)); }

if [ ! -s "$work/result" ]; then
    if [ "$vng_rc" -eq 124 ]; then
        echo "vm tier: FAILED: timed out after ${limit}s (VNETKIT_VM_TIMEOUT)" >&2
    else
        echo "vm tier: FAILED: the VM ended (vng exit $vng_rc) without reporting pytest's exit status" >&2
    fi
    exit 1
fi
read -r rc run_ms <"$work/result"
echo "vm tier: boot+shutdown $(secs $((total_ms - run_ms))) s, pytest $(secs "$run_ms") s, total $(secs "$total_ms") s"
if [ "$rc" -eq 5 ]; then
    echo "vm tier: FAILED: no kernel_vm tests ran" >&2
    exit 1
fi
if [ "$rc" -ne 0 ]; then
    echo "vm tier: FAILED: pytest exited $rc" >&2
fi
exit "$rc"
