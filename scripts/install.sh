#!/bin/sh
# `make install`: the kiosk into /opt/cert-kiosk with its own venv, the systemd units, the polkit rule,
# sysusers/tmpfiles and PAM snippets, and an example /etc/cert-kiosk/kiosk.env (docs/install.md).
# DESTDIR=/some/dir stages everything under that folder instead, touching nothing of the running system:
# no users, no systemctl, and the venv's paths rewritten to where the files will finally live.
set -eu
cd "$(dirname "$0")/.."
. scripts/layout.sh
DESTDIR=${DESTDIR:-}
PYTHON=${PYTHON:-python3}
prefix="$DESTDIR$PREFIX_DIR"

say() { echo "install: $*"; }

if [ -z "$DESTDIR" ]; then
    [ "$(id -u)" -eq 0 ] || { echo "make install needs root (or DESTDIR=folder for a staged install)" >&2; exit 1; }
    sh scripts/debian-packages.sh $DEB_KIOSK
fi

say "project into $prefix"
mkdir -p "$prefix"
for item in $PAYLOAD; do
    [ -e "$item" ] || continue
    rm -rf "${prefix:?}/$item"
    tar -cf - --exclude=__pycache__ --exclude='*.pyc' "$item" | tar -xf - -C "$prefix"
done
payload_revision > "$prefix/REVISION"
chmod -R u=rwX,go=rX "$prefix"

say "venv in $prefix/.venv"
[ -x "$prefix/.venv/bin/python" ] || "$PYTHON" -m venv "$prefix/.venv"
# through the venv's python, not its scripts: a staged venv's scripts already name the final path
venv_python="$prefix/.venv/bin/python"
"$venv_python" -m pip install -q --disable-pip-version-check -c "$prefix/constraints.txt" -e "$prefix"
"$venv_python" -m babel.messages.frontend -q compile -d "$prefix/kiosk/translations"
if [ -n "$DESTDIR" ]; then
    # scripts, .pth files and the editable finder hold the staged path: make them name the final one
    grep -rlIF "$DESTDIR" "$prefix/.venv" | while IFS= read -r file; do
        sed -i "s|$DESTDIR$PREFIX_DIR|$PREFIX_DIR|g" "$file"
    done
fi

echo "$FILES" | while read -r source target mode; do
    [ -n "$source" ] || continue
    say "$DESTDIR$target"
    install -D -m "$mode" "$source" "$DESTDIR$target"
done
if [ ! -e "$DESTDIR$CONFIG_DIR/kiosk.env" ]; then
    # holds the production secrets: root only (systemd reads it before dropping privileges)
    install -m 0600 systemd/kiosk.env.example "$DESTDIR$CONFIG_DIR/kiosk.env"
    say "$DESTDIR$CONFIG_DIR/kiosk.env (edit it: docs/install.md)"
fi

if [ -z "$DESTDIR" ]; then
    systemd-sysusers /etc/sysusers.d/cert-kiosk.conf
    systemd-tmpfiles --create /etc/tmpfiles.d/cert-kiosk.conf
    systemctl daemon-reload
    systemd-hwdb update && udevadm trigger --subsystem-match=input --action=change
    systemctl enable $UNITS
    say "done: edit $CONFIG_DIR/kiosk.env, then: systemctl start cert-kiosk cert-kiosk-browser"
fi
