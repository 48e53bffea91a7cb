#!/usr/bin/env bash
# Installs smtp-sensor from this built checkout as a systemd service: the agent under
# /opt/smtp-sensor, the unit in /etc/systemd/system, a default /etc/smtp-sensor/config.yaml
# (an existing one is kept). Safe to run again: that is how to upgrade.
#
#   scripts/install.sh [--enable] [--start]
#
# DESTDIR installs under another root (for packaging and the tests); systemctl is then not
# called. PREFIX changes /opt/smtp-sensor.
set -euo pipefail
cd "$(dirname "$0")/.."

destdir="${DESTDIR:-}"
prefix="${PREFIX:-/opt/smtp-sensor}"
unit_dir="/etc/systemd/system"
enable=no
start=no
for argument in "$@"; do
  case "$argument" in
    --enable) enable=yes ;;
    --start) start=yes ;;
    *) echo "install: unknown option $argument (expected --enable or --start)" >&2; exit 2 ;;
  esac
done

node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ "$node_major" -lt 20 ]; then
  echo "install: Node.js 20 or later is needed at $(command -v node || echo 'PATH: none')" >&2
  exit 1
fi
if [ ! -f dist/agent/main.js ] || [ ! -d node_modules ]; then
  echo "install: build first (bash scripts/setup-debian.sh, or npm ci && npm run build)" >&2
  exit 1
fi

# The new tree is assembled beside the old one and swapped in with two renames, so a failed
# copy never leaves a half-installed agent.
target="$destdir$prefix"
install -d -m 0755 "$(dirname "$target")"
rm -rf "$target.new"
install -d -m 0755 "$target.new"
cp -a agent dist native package.json package-lock.json README.md docs systemd "$target.new/"
cp -a node_modules "$target.new/"
# Compiled tests and benchmarks are not part of the agent.
rm -rf "$target.new/dist/test" "$target.new/dist/bench"
(cd "$target.new" && npm prune --omit=dev --no-audit --no-fund >/dev/null 2>&1) || true
if [ -d "$target" ]; then mv "$target" "$target.old"; fi
mv "$target.new" "$target"
rm -rf "$target.old"

install -d -m 0755 "$destdir$unit_dir"
sed "s#/opt/smtp-sensor#$prefix#g" systemd/smtp-sensor.service \
  > "$destdir$unit_dir/smtp-sensor.service"
chmod 0644 "$destdir$unit_dir/smtp-sensor.service"

install -d -m 0755 "$destdir/etc/smtp-sensor"
if [ ! -e "$destdir/etc/smtp-sensor/config.yaml" ]; then
  install -m 0644 systemd/config.yaml "$destdir/etc/smtp-sensor/config.yaml"
  echo "install: wrote the default $destdir/etc/smtp-sensor/config.yaml"
else
  echo "install: kept the existing $destdir/etc/smtp-sensor/config.yaml"
fi

if [ -z "$destdir" ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  if [ "$enable" = yes ]; then systemctl enable smtp-sensor.service; fi
  if [ "$start" = yes ]; then systemctl restart smtp-sensor.service; fi
elif [ "$enable" = yes ] || [ "$start" = yes ]; then
  echo "install: systemd is not running here; --enable and --start were not applied" >&2
fi
echo "install: smtp-sensor installed in $target"
