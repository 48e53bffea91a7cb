#!/usr/bin/env bash
# Removes what scripts/install.sh installed: stops and disables the service, deletes the unit
# and /opt/smtp-sensor. The configuration, the spool (/var/lib/smtp-sensor) and the logs
# (/var/log/smtp-sensor) are kept unless --purge. Safe to run again.
#
#   scripts/uninstall.sh [--purge]
#
# DESTDIR and PREFIX as for install.sh.
set -euo pipefail

destdir="${DESTDIR:-}"
prefix="${PREFIX:-/opt/smtp-sensor}"
unit="$destdir/etc/systemd/system/smtp-sensor.service"
purge=no
for argument in "$@"; do
  case "$argument" in
    --purge) purge=yes ;;
    *) echo "uninstall: unknown option $argument (expected --purge)" >&2; exit 2 ;;
  esac
done

if [ -z "$destdir" ] && [ -d /run/systemd/system ]; then
  systemctl disable --now smtp-sensor.service 2>/dev/null || true
fi
rm -f "$unit"
if [ -z "$destdir" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
rm -rf "$destdir$prefix" "$destdir$prefix.new" "$destdir$prefix.old"

if [ "$purge" = yes ]; then
  rm -rf "$destdir/etc/smtp-sensor" "$destdir/var/lib/smtp-sensor" "$destdir/var/log/smtp-sensor"
  echo "uninstall: removed smtp-sensor, its configuration, spool and logs"
else
  echo "uninstall: removed smtp-sensor; kept /etc/smtp-sensor, /var/lib/smtp-sensor and"
  echo "uninstall: /var/log/smtp-sensor (--purge removes them)"
fi
