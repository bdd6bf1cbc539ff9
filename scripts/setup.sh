#!/bin/sh
# Install what runt needs to build and test on Debian 12, as root: Debian packages, then the
# npm dependencies from package-lock.json. Safe to run again.
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then echo "run as root" >&2; exit 1; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# busybox-static: the test and demo rootfs. runc: side-by-side comparisons. python3: test peers.
apt-get install -y -qq --no-install-recommends busybox-static runc python3 procps ca-certificates >/dev/null
npm ci --no-audit --no-fund
