#!/bin/sh
# Outpost agent installer (POSIX sh).
#
#   curl -fsSL https://outpost.example.com/install.sh | sudo ENROLLMENT_KEY=... sh
#
# Downloads the agent bundle, verifies its SHA-256 against the release record, installs
#   $ROOT/usr/local/lib/outpost-agent/outpost-agent.mjs   the agent (one file, Node >= 20)
#   $ROOT/usr/local/bin/outpost-agent                     wrapper
#   $ROOT/etc/outpost-agent/env                           ENROLLMENT_KEY=... (mode 0600)
#   $ROOT/etc/systemd/system/outpost-agent.service        systemd unit, or
#   $ROOT/etc/init.d/outpost-agent                        OpenRC script (hosts without systemd)
# then starts the service and checks that it stays up (non-zero exit with its last log lines when
# it does not). --no-systemd (or OUTPOST_NO_SYSTEMD=1) sets up no service and prints the exact
# command for your own supervisor; a host with neither systemd nor OpenRC gets that command too.
#
#   sh install.sh --uninstall [--purge]    (or: curl -fsSL .../uninstall.sh | sudo sh -s -- --purge)
# stops and removes the service, the wrapper and the bundle; --purge also removes the env file and
# the state directory (the node's identity and token).
#
# Environment:
#   OUTPOST_SERVER      Outpost origin; the Worker substitutes its own when serving this file
#   ENROLLMENT_KEY      enrollment key blob (required unless $ROOT/etc/outpost-agent/env has one)
#   ROOT                install into this directory instead of / (tests, image builds)
#   OUTPOST_NODE        node binary to run the agent with (default: `node` on PATH, must be >= 20)
#   OUTPOST_NO_SYSTEMD  1 = set up no service (same as --no-systemd)
#   OUTPOST_INIT        systemd, openrc or none: skip detecting the init system
#   OUTPOST_START_WAIT  seconds the service must stay up after starting (default 3)
#   OUTPOST_ALLOW_INSECURE_HTTP  1 = accept a plain http:// server that is not loopback (the key,
#                       the bundle and later the node token and commands travel unencrypted); the
#                       installed agent keeps the same setting
set -eu

# Replaced by the Worker when it serves GET /install.sh; an OUTPOST_SERVER variable wins.
DEFAULT_SERVER='@@OUTPOST_SERVER@@'
# The Worker serves this file as /install.sh ('install') and as /uninstall.sh ('uninstall').
DEFAULT_ACTION='@@OUTPOST_ACTION@@'
OUTPOST_SERVER="${OUTPOST_SERVER:-$DEFAULT_SERVER}"
ROOT="${ROOT:-}"
NO_SYSTEMD="${OUTPOST_NO_SYSTEMD:-0}"
ALLOW_INSECURE_HTTP="${OUTPOST_ALLOW_INSECURE_HTTP:-0}"
INIT="${OUTPOST_INIT:-auto}"
START_WAIT="${OUTPOST_START_WAIT:-3}"
ACTION=install
if [ "$DEFAULT_ACTION" = uninstall ]; then ACTION=uninstall; fi
PURGE=0

say() { printf 'outpost-agent install: %s\n' "$*" >&2; }
die() {
  say "error: $*"
  exit 1
}

for arg in "$@"; do
  case "$arg" in
    --no-systemd) NO_SYSTEMD=1 ;;
    --uninstall) ACTION=uninstall ;;
    --purge) PURGE=1 ;;
    -h | --help)
      echo "usage: [ENROLLMENT_KEY=...] [OUTPOST_SERVER=...] [ROOT=dir] sh install.sh [--no-systemd]"
      echo "       [ROOT=dir] sh install.sh --uninstall [--purge]"
      exit 0
      ;;
    *) die "unknown argument: $arg (expected --no-systemd, --uninstall or --purge)" ;;
  esac
done
[ "$PURGE" = 0 ] || [ "$ACTION" = uninstall ] || die "--purge goes with --uninstall"
case "$INIT" in
  auto | systemd | openrc | none) ;;
  *) die "OUTPOST_INIT must be systemd, openrc or none (got '$INIT')" ;;
esac

# systemd when it is the running init, else OpenRC when installed, else none (a container, runit,
# s6, supervisord: the operator's supervisor runs the printed command).
detect_init() {
  if [ "$INIT" != auto ]; then
    echo "$INIT"
  elif [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    echo systemd
  elif command -v openrc-run >/dev/null 2>&1 || [ -x /sbin/openrc-run ]; then
    echo openrc
  else
    echo none
  fi
}

# What a supervisor runs: the env file's settings, then the agent in the foreground.
SUPERVISOR_COMMAND="sh -c 'set -a; . /etc/outpost-agent/env; set +a; OUTPOST_STATE_DIR=/var/lib/outpost-agent OUTPOST_ENV_FILE=/etc/outpost-agent/env exec /usr/local/bin/outpost-agent run'"

uninstall() {
  if [ -z "$ROOT" ] && [ "$(id -u)" != 0 ]; then
    die "run as root (e.g. curl -fsSL .../uninstall.sh | sudo sh)"
  fi
  init="$(detect_init)"
  [ "$NO_SYSTEMD" = 1 ] && init=none
  case "$init" in
    systemd) systemctl disable --now outpost-agent >/dev/null 2>&1 || true ;;
    openrc)
      rc-service outpost-agent stop >/dev/null 2>&1 || true
      rc-update del outpost-agent default >/dev/null 2>&1 || true
      ;;
    none) say "if a supervisor of yours runs the agent, stop it there" ;;
  esac
  rm -f "$ROOT/etc/systemd/system/outpost-agent.service" "$ROOT/etc/init.d/outpost-agent"
  if [ "$init" = systemd ]; then systemctl daemon-reload >/dev/null 2>&1 || true; fi
  rm -f "$ROOT/usr/local/bin/outpost-agent"
  rm -rf "$ROOT/usr/local/lib/outpost-agent"
  STATE="$ROOT/var/lib/outpost-agent"
  NODE_ID="$(sed -n 's/.*"node_id"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$STATE/identity.json" 2>/dev/null | head -n 1 || true)"
  if [ "$PURGE" = 1 ]; then
    rm -rf "$ROOT/etc/outpost-agent" "$STATE"
    say "removed the agent, its service, its settings and its state"
  else
    say "removed the agent and its service; kept /etc/outpost-agent and /var/lib/outpost-agent (the node's identity): --purge removes them"
  fi
  if [ -n "$NODE_ID" ]; then say "the node stays listed in Outpost until you delete it: outpost nodes delete $NODE_ID"; fi
}

if [ "$ACTION" = uninstall ]; then
  uninstall
  exit 0
fi

case "$OUTPOST_SERVER" in
  http://* | https://*) OUTPOST_SERVER="${OUTPOST_SERVER%/}" ;;
  *) die "OUTPOST_SERVER is not set to an http(s) URL (got '$OUTPOST_SERVER')" ;;
esac

# True when an http:// URL's host is this machine (localhost, *.localhost, 127.x.y.z, [::1]).
is_loopback_url() {
  hostport="${1#*://}"
  hostport="${hostport%%/*}"
  case "$hostport" in
    \[::1\] | \[::1\]:*) return 0 ;;
  esac
  host="${hostport%:*}"
  case "$host" in
    localhost | *.localhost) return 0 ;;
    *[!0-9.]*) return 1 ;;
    127.*.*.*) return 0 ;;
  esac
  return 1
}
# The bundle's checksum comes over the same channel, so plain http to another machine proves nothing.
case "$OUTPOST_SERVER" in
  http://*)
    if [ "$ALLOW_INSECURE_HTTP" != 1 ] && ! is_loopback_url "$OUTPOST_SERVER"; then
      die "refusing plain http:// server $OUTPOST_SERVER: the enrollment key, the agent bundle and its checksum would cross the network unencrypted. Use https://, or set OUTPOST_ALLOW_INSECURE_HTTP=1 to accept that risk"
    fi
    ;;
esac

if [ -z "$ROOT" ] && [ "$(id -u)" != 0 ]; then
  die "run as root (e.g. curl -fsSL $OUTPOST_SERVER/install.sh | sudo ENROLLMENT_KEY=... sh)"
fi

ENV_FILE="$ROOT/etc/outpost-agent/env"
KEY="${ENROLLMENT_KEY:-}"
if [ -n "$KEY" ]; then
  # A base64 blob; anything else could inject lines into the environment file.
  case "$KEY" in
    *[!A-Za-z0-9+/=_-]*) die "ENROLLMENT_KEY does not look like an enrollment key (base64)" ;;
  esac
elif [ ! -f "$ENV_FILE" ]; then
  die "ENROLLMENT_KEY is required (create a key in Outpost and pass ENROLLMENT_KEY=...)"
fi

NODE="${OUTPOST_NODE:-$(command -v node || true)}"
[ -n "$NODE" ] || die "Node.js >= 20 is required (node not found on PATH; or set OUTPOST_NODE)"
NODE_MAJOR="$("$NODE" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
[ "$NODE_MAJOR" -ge 20 ] 2>/dev/null || die "Node.js >= 20 is required ($NODE is version $NODE_MAJOR)"

if command -v curl >/dev/null 2>&1; then
  fetch() { curl -fsSL --retry 3 -o "$2" "$1"; }
elif command -v wget >/dev/null 2>&1; then
  fetch() { wget -q -O "$2" "$1"; }
else
  die "curl or wget is required"
fi
if command -v sha256sum >/dev/null 2>&1; then
  sha256() { sha256sum "$1" | cut -d' ' -f1; }
elif command -v shasum >/dev/null 2>&1; then
  sha256() { shasum -a 256 "$1" | cut -d' ' -f1; }
else
  die "sha256sum (or shasum) is required"
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

RELEASE_URL="$OUTPOST_SERVER/agent/v1/releases/latest"
fetch "$RELEASE_URL" "$TMP/release.json" || die "cannot fetch $RELEASE_URL"
# No jq on most hosts: pull the fields out of the one-object JSON with sed.
RELEASE="$(tr -d '\n\r' <"$TMP/release.json")"
EXPECTED="$(printf '%s' "$RELEASE" | sed -n 's/.*"sha256"[[:space:]]*:[[:space:]]*"\([0-9a-fA-F]\{64\}\)".*/\1/p' | tr 'A-F' 'a-f')"
VERSION="$(printf '%s' "$RELEASE" | sed -n 's/.*"version"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p')"
[ -n "$EXPECTED" ] || die "the release record at $RELEASE_URL has no sha256"

BUNDLE_URL="$OUTPOST_SERVER/agent/v1/releases/latest/outpost-agent.mjs"
fetch "$BUNDLE_URL" "$TMP/outpost-agent.mjs" || die "cannot download $BUNDLE_URL"
ACTUAL="$(sha256 "$TMP/outpost-agent.mjs")"
if [ "$ACTUAL" != "$EXPECTED" ]; then
  die "checksum mismatch for $BUNDLE_URL: expected $EXPECTED, got $ACTUAL; nothing was installed"
fi
say "downloaded outpost-agent ${VERSION:-?} (sha256 $ACTUAL)"

LIB_DIR="$ROOT/usr/local/lib/outpost-agent"
mkdir -p "$LIB_DIR" "$ROOT/usr/local/bin" "$ROOT/etc/outpost-agent"
chmod 0700 "$ROOT/etc/outpost-agent"

# Rename into place so a running agent never sees half a file.
cp "$TMP/outpost-agent.mjs" "$LIB_DIR/outpost-agent.mjs.new"
chmod 0755 "$LIB_DIR/outpost-agent.mjs.new"
mv -f "$LIB_DIR/outpost-agent.mjs.new" "$LIB_DIR/outpost-agent.mjs"

# The wrapper carries the plain-http opt-in, so sshd's key and password lookups (run with a clean
# environment) follow it as well as the service.
INSECURE_LINE=""
if [ "$ALLOW_INSECURE_HTTP" = 1 ]; then INSECURE_LINE="export OUTPOST_ALLOW_INSECURE_HTTP=1"; fi
# V8 sized for a small daemon, chosen by measurement (docs/agent-footprint.md). On the command line,
# not NODE_OPTIONS: the commands the agent runs inherit its environment.
# --expose-gc and --bytecode-old-age=1: the agent runs two full GCs after each burst of work
# (agent/memory-release.ts); --no-icu-timezone-data: local time from libc, not ICU's zone tables.
NODE_FLAGS="--max-semi-space-size=1 --max-old-space-size=64 --single-threaded-gc --lite-mode --expose-gc --bytecode-old-age=1 --no-icu-timezone-data"
cat >"$ROOT/usr/local/bin/outpost-agent.new" <<EOF
#!/bin/sh
# Installed by the Outpost agent installer.
# One malloc arena: libuv's threads would each grow their own (~1 MB less resident, measured).
# Freed memory back to the system at once, not kept at the heap's top for the next burst (~1 MB
# less idle, measured), and buffers of 64 KiB and more in mappings of their own that free unmaps.
# The agent removes these from the environment of the commands it runs.
export MALLOC_ARENA_MAX=1
export MALLOC_TRIM_THRESHOLD_=0
export MALLOC_MMAP_THRESHOLD_=65536
$INSECURE_LINE
exec "$NODE" $NODE_FLAGS /usr/local/lib/outpost-agent/outpost-agent.mjs "\$@"
EOF
chmod 0755 "$ROOT/usr/local/bin/outpost-agent.new"
mv -f "$ROOT/usr/local/bin/outpost-agent.new" "$ROOT/usr/local/bin/outpost-agent"

if [ -n "$KEY" ]; then
  # Keep any other settings an operator added; replace only the key.
  (
    umask 077
    {
      if [ -f "$ENV_FILE" ]; then grep -v '^ENROLLMENT_KEY=' "$ENV_FILE" || true; fi
      printf 'ENROLLMENT_KEY=%s\n' "$KEY"
    } >"$ENV_FILE.new"
  )
  chmod 0600 "$ENV_FILE.new"
  mv -f "$ENV_FILE.new" "$ENV_FILE"
fi

INIT_KIND="$(detect_init)"
[ "$NO_SYSTEMD" = 1 ] && INIT_KIND=none

# The service did not stay up: say so with its last log lines, and fail.
not_running() {
  say "error: the outpost-agent service $1. The agent is installed but not running. Last log lines:"
  shift
  "$@" >&2 2>/dev/null || true
  exit 1
}

# Type=simple (and OpenRC) count a process that dies a second later as started: watch it a while.
stays_up() {
  i=0
  while [ "$i" -lt "$START_WAIT" ]; do
    sleep 1
    "$@" >/dev/null 2>&1 || return 1
    i=$((i + 1))
  done
  "$@" >/dev/null 2>&1
}

case "$INIT_KIND" in
  systemd)
    mkdir -p "$ROOT/etc/systemd/system"
    cat >"$ROOT/etc/systemd/system/outpost-agent.service" <<'EOF'
[Unit]
Description=Outpost agent
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
ExecStart=/usr/local/bin/outpost-agent run
EnvironmentFile=/etc/outpost-agent/env
Environment=OUTPOST_STATE_DIR=/var/lib/outpost-agent
# The agent removes ENROLLMENT_KEY from this file once it has enrolled.
Environment=OUTPOST_ENV_FILE=/etc/outpost-agent/env
StateDirectory=outpost-agent
StateDirectoryMode=0700
Restart=always
RestartSec=5
# 2 bad config, 3 key refused, 4 node deleted, 5 token revoked: a restart cannot help.
RestartPreventExitStatus=2 3 4 5 6
# SIGTERM to the agent only; it stops its commands' process groups itself and records them.
KillMode=mixed
TimeoutStopSec=30
# The agent idles near 47 MB and peaks near 65 MB (docs/agent-footprint.md); commands it runs
# share this cgroup. Reclaim above MemoryHigh, OOM-kill (then Restart) above MemoryMax.
MemoryHigh=96M
MemoryMax=128M

[Install]
WantedBy=multi-user.target
EOF
    chmod 0644 "$ROOT/etc/systemd/system/outpost-agent.service"
    WAS_ACTIVE=0
    systemctl is-active --quiet outpost-agent 2>/dev/null && WAS_ACTIVE=1
    systemctl daemon-reload || not_running "could not be loaded (systemctl daemon-reload failed)" true
    systemctl enable --now outpost-agent ||
      not_running "could not be started" journalctl -u outpost-agent -n 20 --no-pager
    # An upgrade: enable --now leaves a running agent on the old bundle.
    if [ "$WAS_ACTIVE" = 1 ]; then systemctl restart outpost-agent; fi
    stays_up systemctl is-active --quiet outpost-agent ||
      not_running "did not stay running ($(systemctl is-active outpost-agent 2>/dev/null || true))" \
        journalctl -u outpost-agent -n 20 --no-pager
    say "installed and started (systemd); check with: sudo outpost-agent status"
    ;;
  openrc)
    mkdir -p "$ROOT/etc/init.d"
    cat >"$ROOT/etc/init.d/outpost-agent" <<'EOF'
#!/sbin/openrc-run
# Installed by the Outpost agent installer.
description="Outpost agent"
supervisor=supervise-daemon
command=/usr/local/bin/outpost-agent
command_args=run
respawn_delay=5
output_log=/var/log/outpost-agent.log
error_log=/var/log/outpost-agent.log

depend() {
  need net
}

start_pre() {
  checkpath -d -m 0700 /var/lib/outpost-agent
  set -a
  . /etc/outpost-agent/env
  set +a
  export OUTPOST_STATE_DIR=/var/lib/outpost-agent OUTPOST_ENV_FILE=/etc/outpost-agent/env
}
EOF
    chmod 0755 "$ROOT/etc/init.d/outpost-agent"
    rc-update add outpost-agent default >/dev/null || not_running "could not be enabled (rc-update failed)" true
    # An upgrade restarts a running agent onto the new bundle.
    if rc-service outpost-agent status >/dev/null 2>&1; then OP=restart; else OP=start; fi
    rc-service outpost-agent "$OP" ||
      not_running "could not be started" tail -n 20 "$ROOT/var/log/outpost-agent.log"
    stays_up rc-service outpost-agent status ||
      not_running "did not stay running" tail -n 20 "$ROOT/var/log/outpost-agent.log"
    say "installed and started (OpenRC); check with: sudo outpost-agent status"
    ;;
  none)
    if [ "$NO_SYSTEMD" = 1 ]; then
      say "installed; no service was set up (--no-systemd). Run the agent under your supervisor with:"
      printf '%s\n' "$SUPERVISOR_COMMAND"
      exit 0
    fi
    say "error: neither systemd nor OpenRC runs on this host, so the agent was installed but not started."
    say "Run it under your supervisor (runit, s6, supervisord, a container's entrypoint) with:"
    printf '%s\n' "$SUPERVISOR_COMMAND"
    say "(re-run with --no-systemd to make this the expected outcome)"
    exit 1
    ;;
esac
