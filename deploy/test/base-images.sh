#!/usr/bin/env bash
# Make the base images deploy/Dockerfile and deploy/compose.yaml name, from Debian's own
# packages, for machines that reach Debian's mirror but no image registry. Each is built
# once and kept (docker images); a registry-connected machine needs none of this.
#
#   debian:bookworm-slim   debootstrap --variant=minbase bookworm
#   rust:1-bookworm        the same, with gcc and this machine's stable Rust toolchain
#   postgres:16-bookworm   the same, with Debian's PostgreSQL and a small entrypoint that
#                          honours the official image's POSTGRES_* variables used here
#
# Usage: deploy/test/base-images.sh  (as root; needs debootstrap and a running dockerd)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="${PLINTH_BASE_WORK:-/var/cache/plinth-base}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
mkdir -p "$work"

have() { docker image inspect "$1" >/dev/null 2>&1; }

rootfs="$work/rootfs"
if [ ! -x "$rootfs/bin/bash" ]; then
  echo "debootstrap bookworm into $rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log"
fi

# A copy of the base with `apt-get install $2...` run in it, imported as $1.
derive() {
  local tag="$1"; shift
  local dir="$work/$(echo "$tag" | tr ':/' '__')"
  rm -rf "$dir" && cp -a "$rootfs" "$dir"
  if [ "$#" -gt 0 ]; then
    cp /etc/resolv.conf "$dir/etc/resolv.conf"
    chroot "$dir" apt-get install -y -qq --no-install-recommends "$@" >/dev/null
    chroot "$dir" apt-get clean
  fi
  echo "$dir"
}

if ! have debian:bookworm-slim; then
  tar -C "$rootfs" -c . | docker import - debian:bookworm-slim >/dev/null
  echo "made debian:bookworm-slim"
fi

if ! have rust:1-bookworm; then
  dir=$(derive rust:1-bookworm gcc libc6-dev pkg-config ca-certificates)
  # This machine's own trust anchors (an egress proxy's CA, say), so the build stage reaches
  # crates.io the way this machine does.
  if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$dir/usr/local/share/ca-certificates/"
    chroot "$dir" update-ca-certificates >/dev/null
  fi
  toolchain="$(rustc --print sysroot)"
  mkdir -p "$dir/usr/local/rust" "$dir/usr/local/cargo"
  cp -a "$toolchain/bin" "$toolchain/lib" "$dir/usr/local/rust/"
  tar -C "$dir" -c . | docker import \
    --change 'ENV PATH=/usr/local/rust/bin:/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV CARGO_HOME=/usr/local/cargo' \
    - rust:1-bookworm >/dev/null
  rm -rf "$dir"
  echo "made rust:1-bookworm"
fi

if ! have postgres:16-bookworm; then
  dir=$(derive postgres:16-bookworm postgresql-15)
  install -m 0755 "$here/postgres-entrypoint.sh" "$dir/usr/local/bin/docker-entrypoint.sh"
  tar -C "$dir" -c . | docker import \
    --change 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
    --change 'ENV PGDATA=/var/lib/postgresql/data' \
    --change 'EXPOSE 5432' \
    - postgres:16-bookworm >/dev/null
  rm -rf "$dir"
  echo "made postgres:16-bookworm (Debian's PostgreSQL 15 under the official image's name)"
fi
