#!/bin/sh
# `make bundle`: a signed RAUC update bundle (format=verity) of the appliance's root filesystem — the
# rootfs.ext4 of `make image` (appliance/build-image.sh) for APPLIANCE_VERSION — signed with the lab's
# development key (appliance/signing-key.sh), for an appliance whose compatible is cert-kiosk-lab.
# Cached under $CERT_KIOSK_CACHE/bundle-<hash>/ like the image; the image of a version other than the
# default is removed once bundled (its bundle is what is kept). The squashfs is zstd: an install under
# emulation reads it back at a few times the speed of xz.
# usage: [APPLIANCE_VERSION=…] appliance/build-bundle.sh [OUTDIR]  → prints the bundle's path
set -eu
cd "$(dirname "$0")/.."
CACHE=${CERT_KIOSK_CACHE:-/var/cache/cert-kiosk-ci}
COMPATIBLE=cert-kiosk-lab
image=$(sh appliance/build-image.sh --dir)
version=${APPLIANCE_VERSION:-$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)}
signing=$(sh appliance/signing-key.sh)
key=$( { echo "$image"; cat appliance/build-bundle.sh; sha256sum "$signing/cert.pem"; } | sha256sum | cut -c1-16)
name="cert-kiosk-lab_${version}.raucb"
out="$CACHE/bundle-$key"
if [ ! -s "$out/$name" ]; then
    start=$(date +%s)
    image=$(sh appliance/build-image.sh | tail -n1)
    work=$(mktemp -d "$CACHE/.bundle-XXXXXX")
    trap 'rm -rf "$work"' EXIT
    mkdir "$work/in"
    cat > "$work/in/manifest.raucm" <<MANIFEST
[update]
compatible=$COMPATIBLE
version=$version
description=cert-kiosk lab appliance $version

[bundle]
format=verity

[image.rootfs]
filename=rootfs.ext4
MANIFEST
    # a hard link, not a copy: the image's 2-3 GB stay where they are
    ln "$image/rootfs.ext4" "$work/in/rootfs.ext4" 2>/dev/null || cp "$image/rootfs.ext4" "$work/in/rootfs.ext4"
    echo "appliance: bundling version $version" >&2
    rauc bundle --cert="$signing/cert.pem" --key="$signing/key.pem" \
        --mksquashfs-args="-comp zstd -Xcompression-level 6" "$work/in" "$work/$name" >&2
    mkdir -p "$out"
    mv "$work/$name" "$out/$name"
    echo "$version" > "$out/version"
    for old in "$CACHE"/bundle-*; do
        [ "$old" = "$out" ] && continue
        if [ ! -e "$old/version" ] || [ "$(cat "$old/version")" = "$version" ]; then rm -rf "$old"; fi
    done
    default=$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
    [ "$version" = "$default" ] || rm -rf "$image"
    echo "appliance: bundle built in $(( $(date +%s) - start )) s" >&2
fi
if [ $# -gt 0 ]; then
    mkdir -p "$1"
    cp "$out/$name" "$1/$name"
    echo "$1/$name"
else
    echo "$out/$name"
fi
