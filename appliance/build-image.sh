#!/bin/sh
# `make image`: the lab appliance as a whole disk, the way a kiosk's SSD holds it, so that it can be
# updated A/B with RAUC (docs/operations.md "System updates", issue 29). GPT, made without loop devices
# or mounts (sfdisk on a sparse file, every filesystem built from a directory and placed by offset):
#   1 esp       64 MiB  FAT: GRUB as EFI/BOOT/BOOTX64.EFI (grub-mkstandalone, appliance/boot/grub.cfg
#                       inside) and EFI/BOOT/grubenv, the slot order and attempts RAUC and GRUB share
#   2 rootfs-A   3 GiB  ext4: Debian 12 with dist's cert-kiosk .deb and the lab configuration
#   3 rootfs-B   3 GiB  empty until the first update writes it
#   4 data       3 GiB  ext4 at /data: what every update keeps (bind-mounted where the system expects it)
#                       /var/lib/cert-kiosk, /var/lib/cert-kiosk-ca, /var/log/journal, RAUC's /data/rauc
#                       and a network update's download (/data/updates: one bundle at a time)
# Booted by UEFI firmware (OVMF under QEMU). Layers, each cached under $CERT_KIOSK_CACHE and reused while
# its inputs are unchanged: the base root filesystem (appliance/build-base.sh), the .deb
# (packaging/build-deb.sh), the lab's signing certificate (appliance/signing-key.sh), then this.
# APPLIANCE_VERSION (default: the package's version) is the image's IMAGE_VERSION in /etc/os-release and
# a bundle's version (appliance/build-bundle.sh): a test sets it to make "the next version".
# usage: appliance/build-image.sh [--dir]
# Prints the directory holding disk.img (the whole disk) and rootfs.ext4 (slot A's filesystem, what a
# bundle carries). Needs root (chroot); no loop devices, no mounts.
set -eu
cd "$(dirname "$0")/.."
CACHE=${CERT_KIOSK_CACHE:-/var/cache/cert-kiosk-ci}
VERSION=${APPLIANCE_VERSION:-$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)}
# APPLIANCE_FAULT=kiosk-exits-at-start builds a deliberately broken system, for the update tests only:
# its cert-kiosk.service exits at every start (what the health gate must refuse, tests/system/test_update.py)
FAULT=${APPLIANCE_FAULT:-}
case "$FAULT" in
    ""|kiosk-exits-at-start) ;;
    *) echo "appliance: unknown APPLIANCE_FAULT=$FAULT" >&2; exit 2 ;;
esac
# partition table, in MiB: offsets and sizes (the data partition ends 1 MiB before the disk's end, for
# GPT's backup header)
ESP_AT=1 ESP_MIB=64
A_AT=65 SLOT_MIB=3072
B_AT=3137
DATA_AT=6209 DATA_MIB=3072
DISK_MIB=9282
# GPT partition UUIDs and the ESP's volume id are fixed: appliance/boot/grub.cfg names them
A_UUID=a0a0a0a0-29a0-4c1e-9d1a-000000000002
B_UUID=b0b0b0b0-29b0-4c1e-9d1a-000000000003
ESP_ID=4B10C1E5

base=$(sh appliance/build-base.sh)
mkdir -p "$CACHE/dist"
deb=$(sh packaging/build-deb.sh "$CACHE/dist")
signing=$(sh appliance/signing-key.sh)
key=$( { echo "$base"; sha256sum "$deb" | cut -d' ' -f1; echo "$VERSION $FAULT"; cat appliance/build-image.sh;
         sha256sum "$signing/cert.pem" | cut -d' ' -f1;
         find appliance/lab appliance/boot appliance/rauc appliance/system -type f | LC_ALL=C sort | xargs cat; } \
       | sha256sum | cut -c1-16)
out="$CACHE/image-$key"
# --dir: where this recipe's image is (or would be), without building it (appliance/build-bundle.sh)
if [ "${1:-}" = "--dir" ]; then
    echo "$out"
    exit 0
fi
if [ -s "$out/disk.img" ] && [ -s "$out/rootfs.ext4" ]; then
    echo "$out"
    exit 0
fi
start=$(date +%s)
work=$(mktemp -d "$CACHE/.image-XXXXXX")
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"
data="$work/data"
mkdir "$root" "$data"
echo "appliance: unpacking the base into $root" >&2
tar -C "$root" --numeric-owner --xattrs --xattrs-include='*' -xpf "$base"

echo "appliance: installing $(basename "$deb")" >&2
cp "$deb" "$root/tmp/cert-kiosk.deb"
chroot "$root" dpkg -i /tmp/cert-kiosk.deb >&2
rm "$root/tmp/cert-kiosk.deb"

echo "appliance: lab configuration, version $VERSION" >&2
echo cert-kiosk-lab > "$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tcert-kiosk-lab\n' > "$root/etc/hosts"
install -m 0600 appliance/lab/kiosk.env "$root/etc/cert-kiosk/kiosk.env"
install -m 0600 appliance/lab/browser.env "$root/etc/cert-kiosk/browser.env"
# the lab has no camera: its browser plays 홍길동's demo 주민등록증 held still (browser.env), drawn by the
# installed kiosk itself
chroot "$root" env KIOSK_MODE=demo KIOSK_DATA_DIR=/tmp/demo-cards/data \
    /opt/cert-kiosk/.venv/bin/kiosk demo-cards --fake-camera /tmp/demo-cards >&2
install -D -m 0644 "$root/tmp/demo-cards/홍길동-resident_card.mjpeg" "$root/usr/share/cert-kiosk-lab/camera.mjpeg"
rm -rf "$root/tmp/demo-cards"
install -D -m 0644 appliance/lab/cert-kiosk-lab.conf "$root/etc/systemd/system/cert-kiosk.service.d/lab.conf"
if [ "$FAULT" = kiosk-exits-at-start ]; then
    mkdir -p "$root/etc/systemd/system/cert-kiosk.service.d"
    printf '[Service]\nExecStart=\nExecStart=/bin/sh -c "echo cert-kiosk: APPLIANCE_FAULT=%s, a deliberately broken build >&2; exit 1"\n' \
        "$FAULT" > "$root/etc/systemd/system/cert-kiosk.service.d/zz-fault.conf"
fi
install -D -m 0644 appliance/lab/cert-kiosk-ca-lab.conf "$root/etc/systemd/system/cert-kiosk-ca.service.d/lab.conf"
install -D -m 0644 appliance/lab/20-wired.network "$root/etc/systemd/network/20-wired.network"
install -m 0600 appliance/lab/usbguard-devices.conf "$root/etc/usbguard/rules.d/60-lab-devices.conf"
install -D -m 0644 appliance/system/watchdog.conf "$root/etc/systemd/system.conf.d/watchdog.conf"
chroot "$root" systemctl enable systemd-networkd.service >&2
chroot "$root" systemctl set-default graphical.target >&2
# nothing in the background that the lab does not need (and no waiting for a network that is there);
# dpkg's daily backup of its database would write /var/backups on the read-only slot, whose database
# changes only when a new slot is built
chroot "$root" systemctl mask apt-daily.timer apt-daily-upgrade.timer man-db.timer e2scrub_all.timer \
    fstrim.timer dpkg-db-backup.timer systemd-networkd-wait-online.service >&2
# which build this slot holds: hostnamectl, the fleet and the tests read it (os-release(5) IMAGE_*)
printf 'IMAGE_ID=cert-kiosk-lab\nIMAGE_VERSION=%s\n' "$VERSION" >> "$root/usr/lib/os-release"

echo "appliance: RAUC (slots, keyring, the unit that marks a slot good)" >&2
install -D -m 0644 appliance/rauc/system.conf "$root/etc/rauc/system.conf"
install -m 0644 "$signing/cert.pem" "$root/etc/rauc/keyring.pem"
install -D -m 0755 appliance/rauc/post-install "$root/usr/lib/cert-kiosk-appliance/rauc-post-install"
install -m 0755 appliance/rauc/pre-install "$root/usr/lib/cert-kiosk-appliance/rauc-pre-install"
install -m 0755 appliance/rauc/same-owners "$root/usr/lib/cert-kiosk-appliance/same-owners"
install -m 0755 appliance/rauc/health-gate "$root/usr/lib/cert-kiosk-appliance/health-gate"
install -m 0644 appliance/rauc/cert-kiosk-update-good.service "$root/etc/systemd/system/"
install -m 0644 appliance/rauc/cert-kiosk-update-fetch.service appliance/rauc/cert-kiosk-update-fetch.timer \
    "$root/etc/systemd/system/"
chroot "$root" systemctl enable cert-kiosk-update-good.service cert-kiosk-update-fetch.timer >&2
install -D -m 0644 appliance/system/rauc-policy.conf "$root/etc/dbus-1/system.d/cert-kiosk-rauc.conf"
install -D -m 0644 appliance/system/60-cert-kiosk-update.rules "$root/usr/share/polkit-1/rules.d/60-cert-kiosk-update.rules"

# The root slot is replaced whole by an update, and read-only while it runs (grub.cfg boots it `ro`):
# what must outlive an update, and what the running system writes, moves to the data partition and is
# bind-mounted back (fstab): this kiosk's configuration (/etc/cert-kiosk, usbguard's rule file), its
# state (/var/lib/cert-kiosk, the lab CA), the logs (the journal, usbguard's audit log, wtmp), the
# persistent timers' stamps and the random seed. /tmp, /var/tmp and /media (where udisks2 makes the
# mount points of the customers' sticks) are in memory. The slot's own fstab names no root: GRUB's
# root=PARTUUID= says which slot. /etc/machine-id stays empty in the image: the first boot makes it
# (cert-kiosk-machine-id-commit.service writes it into the slot), and each update carries it into the
# new slot (appliance/rauc/post-install).
echo "appliance: the data partition's first contents" >&2
install -m 0755 appliance/system/machine-id-commit "$root/usr/lib/cert-kiosk-appliance/machine-id-commit"
install -m 0644 appliance/system/cert-kiosk-machine-id-commit.service "$root/etc/systemd/system/"
chroot "$root" systemctl enable cert-kiosk-machine-id-commit.service >&2
# what systemd would otherwise make at the first boot, on a writable root: tmpfiles.d's files, links and
# directories (/var/log/wtmp, /var/lib/dbus/machine-id, ...), and the state directories of its own units
# that need nothing kept (logind's list of lingering users: none on a kiosk)
systemd-tmpfiles --root="$root" --create -E --exclude-prefix=/tmp --exclude-prefix=/var/tmp >&2
mkdir -p "$root/data" "$root/boot/efi" "$root/var/log/journal" "$root/var/lib/systemd/linger" \
    "$root/var/lib/udisks2"
chroot "$root" chgrp systemd-journal /var/log/journal
chmod 2755 "$root/var/log/journal"
bind="none  bind,x-systemd.requires-mounts-for=/data  0  0"
binds=""
# name on /data : directory in the slot (the journal before /var/log, which then carries its mount point)
for pair in config:etc/cert-kiosk cert-kiosk:var/lib/cert-kiosk cert-kiosk-ca:var/lib/cert-kiosk-ca \
        journal:var/log/journal log:var/log timers:var/lib/systemd/timers \
        backlight:var/lib/systemd/backlight rfkill:var/lib/systemd/rfkill; do
    name=${pair%%:*} path=${pair#*:}
    mkdir -p "$root/$path"
    cp -a "$root/$path" "$data/$name"
    find "$root/$path" -mindepth 1 -delete
    binds="$binds/data/$name  /$path  $bind
"
done
# a single file: a link into /data (a bind mount's mount point file would be "touched" on the read-only
# slot at every boot); the unit that reads it waits for /data (a drop-in)
install -m 0600 /dev/null "$data/random-seed"
ln -sf /data/random-seed "$root/var/lib/systemd/random-seed"
install -D -m 0644 appliance/system/random-seed-on-data.conf \
    "$root/etc/systemd/system/systemd-random-seed.service.d/on-data.conf"
# usbguard's rule file, this kiosk's own additions (a technician's keyboard: docs/operations.md), is the
# branch's: on /data
mkdir -m 0700 "$data/usbguard"
mv "$root/etc/usbguard/cert-kiosk-local.conf" "$data/usbguard/cert-kiosk-local.conf"
sed -i 's|^RuleFile=.*|RuleFile=/data/usbguard/cert-kiosk-local.conf|' "$root/etc/usbguard/cert-kiosk-daemon.conf"
install -D -m 0644 appliance/system/usbguard-on-data.conf "$root/etc/systemd/system/usbguard.service.d/on-data.conf"
mkdir -m 0700 "$data/rauc"
cat > "$root/etc/fstab" <<FSTAB
# the appliance's partitions (appliance/build-image.sh); / is the slot GRUB booted (root=PARTUUID=), ro
/dev/disk/by-partlabel/data  /data  ext4  defaults,nodev,nosuid  0  2
/dev/disk/by-partlabel/esp  /boot/efi  vfat  umask=0077,nodev,nosuid,noexec  0  2
tmpfs  /tmp  tmpfs  mode=1777,strictatime,nosuid,nodev,size=50%,nr_inodes=1m  0  0
tmpfs  /var/tmp  tmpfs  mode=1777,strictatime,nosuid,nodev,size=25%  0  0
tmpfs  /media  tmpfs  mode=0755,nosuid,nodev,noexec,size=1M  0  0
$binds
FSTAB

echo "appliance: rootfs.ext4, data.ext4" >&2
rm -rf "$root/tmp/"* "$root/var/tmp/"*
# a slot holds the filesystem just big enough for the system plus room to run (the partition is larger,
# for later versions): a bundle carries, and an install writes, only that much
used_mib=$(( $(du -sxm "$root" | cut -f1) ))
root_mib=$(( used_mib + used_mib / 10 + 512 ))
[ "$root_mib" -le "$SLOT_MIB" ] || { echo "appliance: the system ($used_mib MiB) outgrew a slot" >&2; exit 1; }
# inode tables and journal written out here: left lazy (mke2fs's default for a file), the kernel's
# ext4lazyinit thread would zero them in the background of the first boot of every new slot, writing
# tens of MiB to the kiosk's flash while the first customer after an update is served
ext4_whole="-E lazy_itable_init=0,lazy_journal_init=0"
mkfs.ext4 -q $ext4_whole -L kioskroot -d "$root" "$work/rootfs.ext4" "${root_mib}M" >&2
mkfs.ext4 -q $ext4_whole -L kioskdata -d "$data" "$work/data.ext4" "${DATA_MIB}M" >&2
rm -rf "$root" "$data"

echo "appliance: the ESP (GRUB for x86_64-efi)" >&2
mkdir -p "$work/grub"
grub-mkstandalone --format=x86_64-efi --output="$work/grub/BOOTX64.EFI" --locales= --fonts= --themes= \
    --install-modules="normal linux part_gpt ext2 fat search search_fs_uuid regexp loadenv test echo" \
    --modules="part_gpt fat ext2" "boot/grub/grub.cfg=appliance/boot/grub.cfg" >&2
# slot A as built is proven: the factory's image is what every kiosk falls back to
grub-editenv "$work/grub/grubenv" set ORDER="A B" A_OK=1 A_TRY=0 A_PROVEN=1 B_OK=0 B_TRY=0 B_PROVEN=0
mkfs.vfat -C -F 16 -n ESP -i "$ESP_ID" "$work/esp.img" $(( ESP_MIB * 1024 )) >&2
mmd -i "$work/esp.img" ::/EFI ::/EFI/BOOT
mcopy -i "$work/esp.img" "$work/grub/BOOTX64.EFI" "$work/grub/grubenv" ::/EFI/BOOT/

echo "appliance: disk.img (${DISK_MIB} MiB, sparse)" >&2
truncate -s "${DISK_MIB}M" "$work/disk.img"
sfdisk -q "$work/disk.img" >&2 <<TABLE
label: gpt
first-lba: 2048
start=${ESP_AT}MiB, size=${ESP_MIB}MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=esp
start=${A_AT}MiB, size=${SLOT_MIB}MiB, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, uuid=$A_UUID, name=rootfs-A
start=${B_AT}MiB, size=${SLOT_MIB}MiB, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, uuid=$B_UUID, name=rootfs-B
start=${DATA_AT}MiB, size=${DATA_MIB}MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=data
TABLE
place() { dd if="$1" of="$work/disk.img" bs=1M seek="$2" conv=notrunc,sparse status=none; }
place "$work/esp.img" "$ESP_AT"
place "$work/rootfs.ext4" "$A_AT"
place "$work/data.ext4" "$DATA_AT"
rm "$work/esp.img" "$work/data.ext4"
echo "$VERSION" > "$work/version"

mkdir -p "$out"
mv "$work/rootfs.ext4" "$work/version" "$out/"
mv "$work/disk.img" "$out/disk.img"
# earlier recipes of the same version: several GB each on disk, and every change of the package makes a
# new one (a VM still running one keeps its open file); other versions are other bundles' sources
for old in "$CACHE"/image-*; do
    [ "$old" = "$out" ] && continue
    if [ ! -e "$old/version" ] || [ "$(cat "$old/version")" = "$VERSION" ]; then rm -rf "$old"; fi
done
echo "appliance: image built in $(( $(date +%s) - start )) s" >&2
echo "$out"
