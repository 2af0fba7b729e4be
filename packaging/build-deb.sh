#!/bin/sh
# `make deb`: dist/cert-kiosk_<version>_amd64.deb, built with dpkg-deb from a staged tree (no debhelper).
# The app and its pinned dependencies (constraints.txt) go into a private venv under /opt/cert-kiosk made by
# scripts/install.sh with DESTDIR, using Debian's own Python (/usr/bin/python3, 3.11 on Debian 12) so that
# it runs on a real Debian 12. Units, sysusers, tmpfiles and polkit go where Debian packages put them.
# A deb built from the same inputs is reused from $CERT_KIOSK_CACHE/deb-<hash>/ (CI, the image, the tests).
# usage: packaging/build-deb.sh [OUTDIR]   → prints the .deb's path; needs root for nothing.
set -eu
cd "$(dirname "$0")/.."
. scripts/layout.sh
OUTDIR=${1:-dist}
CACHE=${CERT_KIOSK_CACHE:-/var/cache/cert-kiosk-ci}
PYTHON=${DEB_PYTHON:-/usr/bin/python3}
NAME=cert-kiosk
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)

# everything the package is made of; .mo and caches are built from these
inputs_hash() {
    find $PAYLOAD packaging scripts/install.sh scripts/layout.sh -type f \
        ! -path '*/__pycache__/*' ! -name '*.pyc' ! -name '*.mo' | LC_ALL=C sort | xargs sha256sum \
        | { cat; "$PYTHON" --version; payload_revision; } | sha256sum | cut -c1-16
}
key=$(inputs_hash)
deb="${NAME}_${VERSION}_amd64.deb"
cached="$CACHE/deb-$key/$deb"
mkdir -p "$OUTDIR"
if [ ! -s "$cached" ]; then
    "$PYTHON" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' \
        || { echo "build-deb: $PYTHON must be Debian 12's Python 3.11" >&2; exit 1; }
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    root="$work/root"
    echo "build-deb: staging into $root" >&2
    DESTDIR="$root" PYTHON="$PYTHON" sh scripts/install.sh >&2
    # Debian's places (install.sh puts the admin's copies under /etc for `make install`)
    mkdir -p "$root/lib/systemd/system" "$root/usr/lib/sysusers.d" "$root/usr/lib/tmpfiles.d" \
        "$root/usr/share/polkit-1/rules.d" "$root/usr/share/doc/$NAME" "$root/usr/share/lintian/overrides"
    mv "$root"/etc/systemd/system/*.service "$root"/etc/systemd/system/*.timer "$root/lib/systemd/system/"
    mv "$root/etc/systemd/system/usbguard.service.d" "$root/lib/systemd/system/"
    mv "$root/etc/sysusers.d/cert-kiosk.conf" "$root/usr/lib/sysusers.d/cert-kiosk.conf"
    mv "$root/etc/tmpfiles.d/cert-kiosk.conf" "$root/usr/lib/tmpfiles.d/cert-kiosk.conf"
    mv "$root/etc/polkit-1/rules.d/50-cert-kiosk.rules" "$root/usr/share/polkit-1/rules.d/"
    # udev's dpkg trigger on /lib/udev/hwdb.d runs `systemd-hwdb update`
    mkdir -p "$root/lib/udev/hwdb.d" && mv "$root"/etc/udev/hwdb.d/*.hwdb "$root/lib/udev/hwdb.d/"
    rm -rf "$root/etc/systemd" "$root/etc/sysusers.d" "$root/etc/tmpfiles.d" "$root/etc/polkit-1" "$root/etc/udev"
    # pip and setuptools only built the venv; shared objects from wheels carry their debug symbols
    "$root/opt/cert-kiosk/.venv/bin/python" -m pip uninstall -q -y pip setuptools >&2
    find "$root" \( -name __pycache__ -o -name '*.pyc' \) -prune -exec rm -rf {} +
    # wheels vendor shared libraries as name.so.X.Y (Pillow's pillow.libs/), some of them executable.
    # What auditwheel vendored (*.libs/) was rewritten by patchelf: binutils' strip breaks those files
    # ("ELF load command address/offset not page-aligned": numpy's OpenBLAS), so they ship as the wheel has them.
    find "$root/opt" \( -name '*.so' -o -name '*.so.*' \) -exec chmod 0644 {} +
    find "$root/opt" -path '*.libs/*' -prune -o \( -name '*.so' -o -name '*.so.*' \) -print \
        | xargs -r strip --strip-unneeded --remove-section=.comment --remove-section=.note
    # python-barcode (python-escpos') installs an empty top-level tests/ folder of its own
    rm -rf "$root"/opt/cert-kiosk/.venv/lib/python3*/site-packages/tests
    rm -f "$root/opt/cert-kiosk/.venv/bin/activate.csh" "$root/opt/cert-kiosk/.venv/bin/activate.fish"
    cp packaging/debian/copyright "$root/usr/share/doc/$NAME/copyright"
    printf '%s (%s) bookworm; urgency=medium\n\n  * Built from the repository (git %s).\n\n -- cert-kiosk maintainers <cert-kiosk@example.go.kr>  %s\n' \
        "$NAME" "$VERSION" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" "$(date -R)" \
        | gzip -9n > "$root/usr/share/doc/$NAME/changelog.gz"
    install -m 0644 packaging/debian/lintian-overrides "$root/usr/share/lintian/overrides/$NAME"
    chmod 0600 "$root/etc/cert-kiosk/kiosk.env"
    # usbguard reads only rule files and folders no one else can read (Debian's own rules.d is 0700)
    chmod 0700 "$root/etc/usbguard/rules.d"
    mkdir -p "$root/DEBIAN"
    depends=$(sed -e 's/#.*//' packaging/depends | awk 'NF' | paste -sd, - | sed 's/,/, /g')
    size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
    sed -e "s/@VERSION@/$VERSION/" -e "s/@SIZE@/$size/" -e "s/@DEPENDS@/$depends, libc6 (>= 2.28), libgcc-s1, init-system-helpers (>= 1.54~)/" \
        packaging/debian/control > "$root/DEBIAN/control"
    cp packaging/debian/conffiles "$root/DEBIAN/conffiles"
    for script in postinst prerm postrm; do
        install -m 0755 "packaging/debian/$script" "$root/DEBIAN/$script"
    done
    (cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z \
        | xargs -0 md5sum > DEBIAN/md5sums)
    mkdir -p "$CACHE/deb-$key"
    dpkg-deb --root-owner-group -Zxz --build "$root" "$cached.part" >&2
    mv "$cached.part" "$cached"
fi
cp "$cached" "$OUTDIR/$deb"
echo "$OUTDIR/$deb"
