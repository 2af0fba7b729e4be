#!/bin/sh
# `make image`: the lab appliance, a bootable Debian 12 ext4 image (no partitions, no bootloader: QEMU
# boots its kernel and initrd directly) with dist's cert-kiosk .deb installed and the lab configuration
# (appliance/lab/). Layers, each cached under $CERT_KIOSK_CACHE and reused while its inputs are unchanged:
# the base root filesystem (appliance/build-base.sh), the .deb (packaging/build-deb.sh), then this.
# Prints the directory holding image.ext4, vmlinuz and initrd.img. Needs root; no loop devices, no mounts.
set -eu
cd "$(dirname "$0")/.."
CACHE=${CERT_KIOSK_CACHE:-/var/cache/cert-kiosk-ci}
SIZE=${APPLIANCE_IMAGE_SIZE:-4G}

base=$(sh appliance/build-base.sh)
mkdir -p "$CACHE/dist"
deb=$(sh packaging/build-deb.sh "$CACHE/dist")
key=$( { echo "$base"; sha256sum "$deb" | cut -d' ' -f1; echo "$SIZE"; cat appliance/build-image.sh;
         find appliance/lab -type f | LC_ALL=C sort | xargs cat; } | sha256sum | cut -c1-16)
out="$CACHE/image-$key"
if [ -s "$out/image.ext4" ] && [ -s "$out/vmlinuz" ] && [ -s "$out/initrd.img" ]; then
    echo "$out"
    exit 0
fi
start=$(date +%s)
work=$(mktemp -d "$CACHE/.image-XXXXXX")
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"
mkdir "$root"
echo "appliance: unpacking the base into $root" >&2
tar -C "$root" --numeric-owner --xattrs --xattrs-include='*' -xpf "$base"

echo "appliance: installing $(basename "$deb")" >&2
cp "$deb" "$root/tmp/cert-kiosk.deb"
chroot "$root" dpkg -i /tmp/cert-kiosk.deb >&2
rm "$root/tmp/cert-kiosk.deb"

echo "appliance: lab configuration" >&2
echo cert-kiosk-lab > "$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tcert-kiosk-lab\n' > "$root/etc/hosts"
printf '/dev/vda\t/\text4\trw,errors=remount-ro\t0\t1\n' > "$root/etc/fstab"
install -m 0600 appliance/lab/kiosk.env "$root/etc/cert-kiosk/kiosk.env"
install -m 0600 appliance/lab/browser.env "$root/etc/cert-kiosk/browser.env"
install -D -m 0644 appliance/lab/cert-kiosk-lab.conf "$root/etc/systemd/system/cert-kiosk.service.d/lab.conf"
install -D -m 0644 appliance/lab/cert-kiosk-ca-lab.conf "$root/etc/systemd/system/cert-kiosk-ca.service.d/lab.conf"
install -D -m 0644 appliance/lab/20-wired.network "$root/etc/systemd/network/20-wired.network"
install -m 0600 appliance/lab/usbguard-devices.conf "$root/etc/usbguard/rules.d/60-lab-devices.conf"
chroot "$root" systemctl enable systemd-networkd.service >&2
chroot "$root" systemctl set-default graphical.target >&2
# nothing in the background that the lab does not need (and no waiting for a network that is there)
chroot "$root" systemctl mask apt-daily.timer apt-daily-upgrade.timer man-db.timer e2scrub_all.timer \
    fstrim.timer systemd-networkd-wait-online.service >&2
cp -L "$root/vmlinuz" "$work/vmlinuz"
cp -L "$root/initrd.img" "$work/initrd.img"

echo "appliance: image.ext4 ($SIZE, sparse)" >&2
mkfs.ext4 -q -L kioskroot -d "$root" "$work/image.ext4" "$SIZE"
rm -rf "$root"
mkdir -p "$out"
mv "$work/vmlinuz" "$work/initrd.img" "$out/"
mv "$work/image.ext4" "$out/image.ext4"
# the images of earlier recipes: 1-2 GB each on disk, and every change of the package makes a new one
# (a VM still running one keeps its open file)
for old in "$CACHE"/image-*; do
    [ "$old" = "$out" ] || rm -rf "$old"
done
echo "appliance: image built in $(( $(date +%s) - start )) s" >&2
echo "$out"
