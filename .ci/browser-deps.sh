#!/usr/bin/env bash
# Headless Chromium and its driver for the reader tests: Debian packages chromium and
# chromium-driver, installed when missing and we are root. Another apt run holding the
# package manager's lock is waited for (up to APT_WAIT seconds, default 900), not taken as
# failure: a lock held by someone else must not quietly skip every browser test.
# Under CI=true a browser that cannot be installed fails the run.
# (BROWSER_BIN, DRIVER_BIN, APT_GET and APT_POLL exist for tests/test_browser.py.)
set -u
BROWSER_BIN=${BROWSER_BIN:-chromium}
DRIVER_BIN=${DRIVER_BIN:-chromedriver}
APT_GET=${APT_GET:-apt-get}
have() { command -v "$BROWSER_BIN" >/dev/null 2>&1 && command -v "$DRIVER_BIN" >/dev/null 2>&1; }
ci() { case "${CI:-}" in 1|true|TRUE|yes) return 0;; *) return 1;; esac; }
give_up() {
  echo "chromium/chromium-driver mangler: $1 (installer Debian-pakkene chromium og chromium-driver)" >&2
  if ci; then exit 1; fi
  exit 0
}
have && exit 0
[ "$(id -u)" = 0 ] || give_up "ikke root"
command -v "$APT_GET" >/dev/null 2>&1 || give_up "apt-get finnes ikke"
deadline=$(( $(date +%s) + ${APT_WAIT:-900} ))

# Run an apt-get command; while it fails because another process holds a lock, wait and retry.
apt_wait() {
  local out rc
  while :; do
    out=$(DEBIAN_FRONTEND=noninteractive "$@" 2>&1); rc=$?
    [ $rc = 0 ] && return 0
    if printf '%s' "$out" | grep -qiE 'could not get lock|unable to acquire|is held by process|lock-frontend'; then
      if [ "$(date +%s)" -ge "$deadline" ]; then printf '%s\n' "$out" >&2; return $rc; fi
      echo "venter på pakkebehandlerens lås (en annen apt-kjøring pågår) …" >&2
      sleep "${APT_POLL:-5}"
      continue
    fi
    printf '%s\n' "$out" >&2
    return $rc
  done
}
apt_wait "$APT_GET" -o DPkg::Lock::Timeout=60 update -qq || give_up "apt-get update feilet"
apt_wait "$APT_GET" -o DPkg::Lock::Timeout=60 install -y -qq chromium chromium-driver || give_up "apt-get install feilet"
have || give_up "installert, men chromium eller chromedriver er ikke på PATH"
