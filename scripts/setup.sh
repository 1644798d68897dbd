#!/usr/bin/env bash
# Installs what Palisade's build and tests need on Debian bookworm, as root.
# Idempotent and quick when everything is present: apt runs only for what is missing,
# and the Python venv is rebuilt only when tests/python-requirements.txt changes.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export DEBIAN_FRONTEND=noninteractive

log() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# Runs a command with its output held back, shown only if it fails (apt and debconf are chatty).
quiet() {
    local out rc=0
    out=$(mktemp)
    "$@" >"$out" 2>&1 || rc=$?
    [ "$rc" -eq 0 ] || cat "$out" >&2
    rm -f "$out"
    return "$rc"
}

need_root() {
    [ "$(id -u)" -eq 0 ] || die "must run as root to install: $*"
}

apt_updated=0
apt_update_once() {
    if [ "$apt_updated" -eq 0 ]; then
        log "apt-get update"
        quiet apt-get update
        apt_updated=1
    fi
}

apt_install() {
    need_root "$@"
    apt_update_once
    log "apt-get install $*"
    quiet apt-get install -y --no-install-recommends "$@"
}

# --- Debian packages -------------------------------------------------------------------
# libz3-dev: the verifier links the system Z3; clang/libclang-dev: z3-sys runs bindgen;
# nftables/iptables/iproute2/ipset: the real tools check each generated ruleset (the iptables
# output keeps its address groups and work-order sets in ipsets).
debian_packages=(libz3-dev clang libclang-dev pkg-config nftables iptables iproute2 ipset time chromium)
# A venv needs ensurepip, which Debian ships separately from its python3.
python3 -c 'import ensurepip' 2>/dev/null || debian_packages+=(python3-venv)

# --- Suricata 7 from bookworm-backports (bookworm itself has 6) -------------------------
suricata_major() { suricata -V 2>/dev/null | sed -n 's/.*version \([0-9]*\)\..*/\1/p'; }

# Adds bookworm-backports to the Suites of the existing deb.debian.org/debian entry, in
# place, so no new host is configured. Changes nothing if the suite is already there.
enable_backports() {
    local src=/etc/apt/sources.list.d/debian.sources
    if [ -f "$src" ]; then
        grep -Eq '^Suites:.*[[:space:]]bookworm-backports([[:space:]]|$)' "$src" && return 0
        grep -Eq '^URIs:[[:space:]]*https?://deb\.debian\.org/debian/?[[:space:]]*$' "$src" \
            || die "$src has no deb.debian.org/debian entry to add bookworm-backports to"
        need_root "bookworm-backports"
        log "adding bookworm-backports to $src"
        # deb822: stanzas are separated by blank lines; edit only the stanza whose URIs
        # is exactly deb.debian.org/debian (not debian-security).
        awk '
            function flush(   i) {
                for (i = 1; i <= n; i++) {
                    if (hit && lines[i] ~ /^Suites:/ && lines[i] !~ /[ \t]bookworm-backports([ \t]|$)/)
                        sub(/[ \t]*$/, " bookworm-backports", lines[i])
                    print lines[i]
                }
                n = 0; hit = 0
            }
            /^[ \t]*$/ { flush(); print; next }
            { lines[++n] = $0 }
            /^URIs:[ \t]*https?:\/\/deb\.debian\.org\/debian\/?[ \t]*$/ { hit = 1 }
            END { flush() }
        ' "$src" > "$src.new"
        cat "$src.new" > "$src"   # keeps the file's owner and mode
        rm -f "$src.new"
    elif [ -f /etc/apt/sources.list ]; then
        # Older one-line format: same mirror, one more suite.
        grep -Eq '^deb[[:space:]].*[[:space:]]bookworm-backports[[:space:]]' /etc/apt/sources.list && return 0
        local uri
        uri=$(awk '$1 == "deb" && $2 ~ /^https?:\/\/deb\.debian\.org\/debian\/?$/ { print $2; exit }' /etc/apt/sources.list)
        [ -n "$uri" ] || die "no deb.debian.org/debian source to add bookworm-backports to"
        need_root "bookworm-backports"
        log "adding bookworm-backports to /etc/apt/sources.list"
        echo "deb $uri bookworm-backports main" >> /etc/apt/sources.list
    else
        die "no Debian apt source found"
    fi
}

missing=()
for pkg in "${debian_packages[@]}"; do
    installed "$pkg" || missing+=("$pkg")
done
need_suricata=0
[ "$(suricata_major)" = "7" ] || need_suricata=1

# The sources are edited before the one apt-get update, so it fetches backports too.
[ "$need_suricata" -eq 0 ] || enable_backports

if [ "${#missing[@]}" -gt 0 ]; then
    apt_install "${missing[@]}"
else
    log "debian packages present"
fi

if [ "$need_suricata" -eq 1 ]; then
    apt_install -t bookworm-backports suricata
    [ "$(suricata_major)" = "7" ] || die "suricata 7 not installed (got: $(suricata -V 2>&1 | head -n1))"
else
    log "suricata 7 present"
fi

# --- Python venv for the test tools -------------------------------------------------
req=tests/python-requirements.txt
stamp=.venv/.requirements.sha256
if ! .venv/bin/python -c '' 2>/dev/null; then
    log "creating .venv"
    rm -rf .venv
    quiet python3 -m venv .venv
fi
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "installing $req into .venv"
    rm -f "$stamp"
    quiet .venv/bin/pip install --disable-pip-version-check -r "$req"
    echo "$want" > "$stamp"
else
    log ".venv up to date"
fi

# --- bpmnlint for the workflow tests (tests/bpmnlint, pinned by its package-lock.json) ------
# Node.js >= 20 and npm come with the machine; npm ci runs only when the lockfile changed.
lint=tests/bpmnlint
if [ -x "$lint/node_modules/.bin/bpmnlint" ] && [ ! "$lint/package-lock.json" -nt "$lint/node_modules/.package-lock.json" ]; then
    log "bpmnlint present"
elif command -v npm >/dev/null; then
    log "npm ci in $lint"
    (cd "$lint" && quiet npm ci --no-audit --no-fund)
elif [ "${CI:-}" = "true" ]; then
    die "npm is missing: the workflow tests need Node.js >= 20 and npm for bpmnlint"
else
    log "warning: npm is missing; the bpmnlint tests will be skipped"
fi

# --- the SARIF 2.1.0 schema for the SARIF tests (tests/sarif, pinned by its package-lock.json) --
sarif=tests/sarif
if [ -f "$sarif/node_modules/@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json" ] && [ ! "$sarif/package-lock.json" -nt "$sarif/node_modules/.package-lock.json" ]; then
    log "SARIF schema present"
elif command -v npm >/dev/null; then
    log "npm ci in $sarif"
    (cd "$sarif" && quiet npm ci --no-audit --no-fund --ignore-scripts)
elif [ "${CI:-}" = "true" ]; then
    die "npm is missing: the SARIF tests need the schema from @microsoft/jest-sarif"
else
    log "warning: npm is missing; the SARIF schema tests will be skipped"
fi

log "done"
