#!/bin/sh
# The appliance's base root filesystem (Debian 12, everything the kiosk's package depends on, a kernel),
# as a tarball cached under $CERT_KIOSK_CACHE keyed by the hash of this recipe: built once per machine.
# usage: appliance/build-base.sh  → prints the tarball's path
# Archive lines: the host's own apt sources (/etc/apt/sources.list.d/*.sources or *.list), never a mirror
# written here. Needs root and mmdebstrap; no loop devices, no mounts.
set -eu
cd "$(dirname "$0")/.."
CACHE=${CERT_KIOSK_CACHE:-/var/cache/cert-kiosk-ci}
SUITE=bookworm

packages() { sed -e 's/#.*//' -e 's/(.*)//' "$@" | awk 'NF {print $1}' | sort -u | paste -sd, -; }
sources() {
    for file in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list /etc/apt/sources.list; do
        [ -f "$file" ] && echo "$file"
    done
}
INCLUDE=$(packages packaging/depends appliance/base-packages)
key=$( { cat appliance/build-base.sh; echo "$INCLUDE"; for f in $(sources); do cat "$f"; done; } \
       | sha256sum | cut -c1-16)
out="$CACHE/base-$key"
if [ -s "$out/rootfs.tar" ]; then
    echo "$out/rootfs.tar"
    exit 0
fi
mkdir -p "$out"
echo "appliance: building the base root filesystem in $out (several minutes, once)" >&2
start=$(date +%s)
# shellcheck disable=SC2046
mmdebstrap --variant=apt --mode=root --format=tar --include="$INCLUDE" \
    --customize-hook='chroot "$1" apt-get clean' \
    "$SUITE" "$out/rootfs.tar.part" $(sources) >&2
mv "$out/rootfs.tar.part" "$out/rootfs.tar"
echo "appliance: base built in $(( $(date +%s) - start )) s" >&2
echo "$out/rootfs.tar"
