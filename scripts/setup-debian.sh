#!/usr/bin/env bash
# Sets up a Debian 12 machine (as root, Node.js 20+ already installed) to build, run and test
# smtp-sensor: the Debian packages it and its tests use, then the npm dependencies (node_pcap
# is compiled against libpcap here), then the TypeScript build. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# libpcap-dev: node_pcap's native addon. clang and libbpf-dev: the kernel connect records
# (native/connect-owner: a BPF program compiled by clang, loaded by libbpf). The rest are
# what the tests run: tshark is the second opinion in conformance tests and benchmarks,
# tcpdump records captures, aiosmtpd, swaks, msmtp and curl are the real server and clients
# of the recorded fixtures and the attribution tests; iproute2 makes their network
# namespaces; rsyslog (with gnutls) is the real collector of the syslog sink tests, openssl
# makes their certificates, and systemd brings systemd-analyze for the unit file test;
# postfix's sendmail and smtp client are the real relay of the live attribution tests (they
# configure and stop it themselves).
packages=(libpcap-dev clang libbpf-dev tshark tcpdump python3-aiosmtpd swaks msmtp curl
  iproute2 rsyslog rsyslog-gnutls openssl systemd postfix)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' \
    || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # tshark asks whether non-root users may capture; the answer does not matter to root.
  echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections
  echo 'postfix postfix/main_mailer_type select Local only' | debconf-set-selections
  echo 'postfix postfix/mailname string smtp-sensor-test.invalid' | debconf-set-selections
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

npm ci --no-audit --no-fund
npm run build
