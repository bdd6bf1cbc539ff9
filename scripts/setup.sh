#!/bin/sh
# Install what runt needs to build and test on Debian 12, as root: Debian packages, then the
# npm dependencies from package-lock.json. Safe to run again.
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then echo "run as root" >&2; exit 1; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# busybox-static: the test and demo rootfs. runc: side-by-side comparisons. python3: test peers.
# gcc and libc6-dev: the escape tests build a static ptrace probe. time: GNU time, the
# benchmark's peak RSS column. uidmap: newuidmap/newgidmap for the rootless tests'
# subordinate ranges (test/priv/rootless.ts). criu: checkpoint and restore
# (test/priv/checkpoint.ts). Bun, which builds the binary, comes from npm.
apt-get install -y -qq --no-install-recommends busybox-static runc python3 procps ca-certificates \
  gcc libc6-dev libseccomp2 time uidmap criu >/dev/null
# The engines the end-to-end tests drive through runt (test/priv/engines). Their services are
# not started here: each test runs its own private daemon. policy-rc.d keeps apt from
# starting them where an init system would.
if [ "${RUNT_SKIP_ENGINES:-}" != 1 ]; then
  made_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  status=0
  # docker-compose: test/priv/engines/compose.ts. debootstrap: the systemd rootfs of
  # test/priv/systemd.ts (scripts/systemd-rootfs.sh, below).
  apt-get install -y -qq --no-install-recommends containerd docker.io tini podman buildah conmon \
    catatonit containernetworking-plugins fuse-overlayfs slirp4netns uidmap \
    golang-github-containers-common docker-compose debootstrap >/dev/null || status=$?
  [ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d
  [ "$status" = 0 ] || exit "$status"
  # A Debian rootfs with systemd for the system-container tests, fetched once from the apt
  # mirror and cached in /var/cache/runt-test (a few minutes the first time, nothing after).
  # Not fatal here: without it the test tries again and says why it cannot run.
  scripts/systemd-rootfs.sh >/dev/null || echo "setup: no systemd rootfs (see above)" >&2
fi
npm ci --no-audit --no-fund
