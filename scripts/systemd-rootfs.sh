#!/bin/sh
# A Debian 12 rootfs with systemd, for the system-container tests (test/priv/systemd.ts),
# made once with debootstrap from the Debian mirror in this machine's apt sources and cached
# outside the checkout: later runs and CI reuse it instead of fetching ~240 MB again.
#
#   scripts/systemd-rootfs.sh            # prints the rootfs path, building it if needed
#
# The cache entry is keyed by what goes into it (suite, variant, package list, architecture,
# mirror): change one and a new entry is built beside the old. It is built in a temp dir next
# to its final place and renamed into place when debootstrap has finished, under a lock, so a
# half-made rootfs is never used and two runs never build it twice at once. RUNT_TEST_CACHE
# moves the cache (default /var/cache/runt-test). Needs root and debootstrap.
set -eu
cache=${RUNT_TEST_CACHE:-/var/cache/runt-test}
suite=bookworm
variant=minbase
include=systemd,systemd-sysv
arch=$(dpkg --print-architecture)

# The first Debian mirror (not the security archive) in the apt sources: deb822 .sources
# files (URIs:/Suites:) or one-line "deb URI SUITE ..." entries.
mirror=$(
  {
    for f in /etc/apt/sources.list.d/*.sources; do
      [ -f "$f" ] || continue
      awk -v s="$suite" '
        /^[ \t]*$/ { if (u != "" && su ~ "(^| )" s "( |$)") { print u; exit } u = ""; su = ""; next }
        /^URIs:/ { u = $2 }
        /^Suites:/ { $1 = ""; su = substr($0, 2) }
        END { if (u != "" && su ~ "(^| )" s "( |$)") print u }' "$f"
    done
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      awk -v s="$suite" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) while ($i !~ /\]$/) i++; if ($2 ~ /^\[/) i++; if ($(i + 1) == s) print $i }'
  } | head -n 1
)
[ -n "$mirror" ] || { echo "systemd-rootfs: no $suite mirror in the apt sources" >&2; exit 1; }

key=$(printf '%s\n' "$suite" "$variant" "$include" "$arch" "$mirror" | sha256sum | cut -c1-16)
dest=$cache/debian-$suite-systemd-$key
if [ -f "$dest/.complete" ]; then echo "$dest"; exit 0; fi
command -v debootstrap >/dev/null || { echo "systemd-rootfs: needs debootstrap (apt-get install debootstrap)" >&2; exit 1; }

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [ ! -f "$dest/.complete" ]; then
  tmp=$(mktemp -d "$cache/.build-XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  echo "systemd-rootfs: debootstrap --variant=$variant --include=$include $suite from $mirror (once, cached in $dest)" >&2
  if ! debootstrap --variant="$variant" --include="$include" --arch="$arch" "$suite" "$tmp/rootfs" "$mirror" >"$tmp/log" 2>&1; then
    tail -n 20 "$tmp/log" >&2
    exit 1
  fi
  # What went in, for whoever wonders which versions a run used.
  chroot "$tmp/rootfs" dpkg-query -W >"$tmp/rootfs/.packages" 2>/dev/null || true
  printf 'suite=%s\nvariant=%s\ninclude=%s\narch=%s\nmirror=%s\n' "$suite" "$variant" "$include" "$arch" "$mirror" \
    >"$tmp/rootfs/.complete"
  rm -rf "$dest"
  mv "$tmp/rootfs" "$dest"
fi
echo "$dest"
