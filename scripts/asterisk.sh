#!/usr/bin/env bash
# Asterisk 22 for a Debian 12 host: Debian sid's package in a debootstrap'ed chroot.
#
#   scripts/asterisk.sh install   create the chroot and install Asterisk (idempotent)
#   scripts/asterisk.sh start     render asterisk_conf/ into the chroot and start Asterisk
#   scripts/asterisk.sh stop      stop Asterisk, unmount /proc and /dev/pts
#   scripts/asterisk.sh status    print whether Asterisk runs, with its uptime
#   scripts/asterisk.sh cli CMD   run one Asterisk CLI command
#
# Environment: HOTLINE_ASTERISK_ROOT (chroot dir, default .run/asterisk-root),
# HOTLINE_ASTERISK_INSTANCE (default hotline: config, run, log and spool dirs are per instance, so
# the tests' Asterisk can run beside a developer's) and every
# HOTLINE_* setting the config templates use (see hotline/settings.py); the rendering itself is
# `hotline asterisk-config`, so the Python package must be installed for `start`.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
ROOT=${HOTLINE_ASTERISK_ROOT:-$REPO/.run/asterisk-root}
INSTANCE=${HOTLINE_ASTERISK_INSTANCE:-hotline}
CONF=/etc/asterisk-$INSTANCE/asterisk.conf
PIDFILE=$ROOT/run/asterisk-$INSTANCE/asterisk.pid
STAMP=$ROOT/.hotline-installed

log() { printf '[asterisk] %s\n' "$*" >&2; }

host_mirror() {
  # The mirror this host's apt already uses, so no host is hard-coded here.
  local uri
  uri=$(grep -hE '^\s*URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)
  if [[ -z $uri ]]; then
    uri=$(grep -hE '^\s*deb\s' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)
  fi
  [[ -n $uri ]] || { log "no Debian mirror found in the host's apt sources"; exit 1; }
  echo "$uri"
}

mount_fs() {
  mkdir -p "$ROOT/proc" "$ROOT/dev/pts"
  mountpoint -q "$ROOT/proc" || mount -t proc proc "$ROOT/proc"
  mountpoint -q "$ROOT/dev/pts" || mount -t devpts -o newinstance,ptmxmode=0666 devpts "$ROOT/dev/pts"
}

other_instances_running() {
  local pid
  for pidfile in "$ROOT"/run/asterisk-*/asterisk.pid; do
    [[ -f $pidfile && $pidfile != "$PIDFILE" ]] || continue
    pid=$(cat "$pidfile"); kill -0 "$pid" 2>/dev/null && return 0
  done
  return 1
}

umount_fs() {
  other_instances_running && return 0
  mountpoint -q "$ROOT/dev/pts" && umount "$ROOT/dev/pts" || true
  mountpoint -q "$ROOT/proc" && umount "$ROOT/proc" || true
}

install() {
  if [[ -f $STAMP ]]; then log "already installed in $ROOT"; return; fi
  command -v debootstrap >/dev/null || { apt-get update -qq; apt-get install -y -qq debootstrap >/dev/null; }
  local mirror; mirror=$(host_mirror)
  log "debootstrap sid from $mirror into $ROOT"
  mkdir -p "$ROOT"
  [[ -x $ROOT/usr/bin/apt-get ]] || debootstrap --variant=minbase sid "$ROOT" "$mirror" >"$ROOT.debootstrap.log" 2>&1 \
    || { tail -n 20 "$ROOT.debootstrap.log" >&2; exit 1; }
  echo 'Acquire::Check-Valid-Until "false";' >"$ROOT/etc/apt/apt.conf.d/99no-check-valid"
  printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"; chmod +x "$ROOT/usr/sbin/policy-rc.d"
  mount_fs
  trap umount_fs EXIT
  log "apt-get install asterisk"
  chroot "$ROOT" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive chroot "$ROOT" apt-get install -y -qq --no-install-recommends asterisk asterisk-core-sounds-en-gsm asterisk-moh-opsound-gsm >/dev/null
  umount_fs; trap - EXIT
  touch "$STAMP"
  log "installed: $(chroot "$ROOT" /usr/sbin/asterisk -V)"
}

asterisk_cli() { chroot "$ROOT" /usr/sbin/asterisk -C "$CONF" -rx "$1"; }

running() { [[ -f $PIDFILE ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

start() {
  [[ -f $STAMP ]] || install
  umask 077  # config with secrets, logs, spools and recordings: not for other users (not for install: the chroot's files stay readable)
  if running; then log "already running"; return; fi
  log "rendering asterisk_conf/ into $ROOT/etc/asterisk-$INSTANCE"
  rm -rf "$ROOT/etc/asterisk-$INSTANCE"
  "${HOTLINE_BIN:-$REPO/.venv/bin/hotline}" asterisk-config --root "$ROOT"
  mount_fs
  for dir in run/asterisk-$INSTANCE var/log/asterisk-$INSTANCE var/spool/asterisk-$INSTANCE var/lib/asterisk-$INSTANCE var/cache/asterisk-$INSTANCE; do
    mkdir -p "$ROOT/$dir"
  done
  chroot "$ROOT" /usr/sbin/asterisk -C "$CONF"
  for _ in $(seq 1 100); do
    if asterisk_cli 'core waitfullybooted' >/dev/null 2>&1; then log "running: $(asterisk_cli 'core show version')"; return; fi
    sleep 0.1
  done
  log "Asterisk did not boot; last log lines:"; tail -n 30 "$ROOT/var/log/asterisk-$INSTANCE/messages.log" >&2 || true
  exit 1
}

stop() {
  if running; then
    local pid; pid=$(cat "$PIDFILE")
    asterisk_cli 'core stop now' >/dev/null 2>&1 || kill "$pid" || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  umount_fs
  log "stopped"
}

status() {
  if running; then echo "running (pid $(cat "$PIDFILE")): $(asterisk_cli 'core show uptime seconds' | tr '\n' ' ')"
  else echo "stopped"; return 3; fi
}

case ${1:-} in
  install) install ;;
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) status ;;
  cli) shift; asterisk_cli "$*" ;;
  *) sed -n '2,12p' "$0"; exit 2 ;;
esac
