#!/bin/sh
# `make uninstall`: stop and remove what `make install` put in place (same DESTDIR= rule).
# Kept on purpose: /etc/cert-kiosk/kiosk.env (the secrets) and /var/lib/cert-kiosk (the database, the CA
# and the registry of issued certificates), and the two system users, who may still own files there.
set -eu
cd "$(dirname "$0")/.."
. scripts/layout.sh
DESTDIR=${DESTDIR:-}

if [ -z "$DESTDIR" ]; then
    [ "$(id -u)" -eq 0 ] || { echo "make uninstall needs root (or DESTDIR=folder)" >&2; exit 1; }
    systemctl disable --now $UNITS || true
fi
echo "$FILES" | while read -r source target mode; do
    [ -n "$source" ] || continue
    rm -f "$DESTDIR$target"
done
rm -rf "${DESTDIR}${PREFIX_DIR:?}"
rmdir "$DESTDIR$CONFIG_DIR" 2>/dev/null || echo "uninstall: kept $DESTDIR$CONFIG_DIR (your kiosk.env)"
if [ -z "$DESTDIR" ]; then
    systemctl daemon-reload
    echo "uninstall: kept /var/lib/cert-kiosk (database, CA, issued certificates); remove it by hand if meant"
fi
