# Where `make install` puts each file: sourced by install.sh and uninstall.sh so that the two agree.
# One line per file: source in the repository, destination, mode.
PREFIX_DIR=/opt/cert-kiosk
CONFIG_DIR=/etc/cert-kiosk
UNITS="cert-kiosk-ca.service cert-kiosk.service cert-kiosk-browser.service cert-kiosk-screen.timer"
FILES="
systemd/cert-kiosk.service          /etc/systemd/system/cert-kiosk.service          0644
systemd/cert-kiosk-ca.service       /etc/systemd/system/cert-kiosk-ca.service       0644
systemd/cert-kiosk-browser.service  /etc/systemd/system/cert-kiosk-browser.service  0644
systemd/cert-kiosk-screen.service   /etc/systemd/system/cert-kiosk-screen.service   0644
systemd/cert-kiosk-screen.timer     /etc/systemd/system/cert-kiosk-screen.timer     0644
systemd/50-cert-kiosk.rules         /etc/polkit-1/rules.d/50-cert-kiosk.rules       0644
systemd/cert-kiosk.sysusers         /etc/sysusers.d/cert-kiosk.conf                 0644
systemd/cert-kiosk.tmpfiles         /etc/tmpfiles.d/cert-kiosk.conf                 0644
systemd/cert-kiosk-browser.pam      /etc/pam.d/cert-kiosk-browser                   0644
systemd/kiosk.env.example           /etc/cert-kiosk/kiosk.env.example               0644
systemd/chromium-policy.json        /etc/chromium/policies/managed/cert-kiosk.json  0644
systemd/cert-kiosk.xkb              /etc/xkb/symbols/cert-kiosk                     0644
systemd/cert-kiosk-keys.hwdb        /etc/udev/hwdb.d/60-cert-kiosk-keys.hwdb        0644
systemd/usbguard-rules.conf         /etc/usbguard/rules.d/50-cert-kiosk.conf        0600
systemd/usbguard-daemon.conf        /etc/usbguard/cert-kiosk-daemon.conf            0600
systemd/usbguard-local.conf         /etc/usbguard/cert-kiosk-local.conf             0600
systemd/usbguard-cert-kiosk.conf    /etc/systemd/system/usbguard.service.d/cert-kiosk.conf 0644
"
# What the kiosk needs from Debian on the machine itself (the tests need more: DEB_TEST in the Makefile).
DEB_KIOSK="python3-venv udisks2 polkitd dbus seatd cage xwayland chromium fonts-noto-cjk usbguard espeak-ng tesseract-ocr tesseract-ocr-kor"
# The parts of the repository that run (tests, bench and CI stay behind).
PAYLOAD="kiosk hardware templates static docs systemd pyproject.toml constraints.txt README.md babel.cfg"
# The git commit the payload was last changed in (with "+dirty" while the checkout's payload differs from
# it): written into the installed tree as REVISION, read by kiosk/metrics.py's revision(), because an
# installed kiosk has no .git to ask. "unknown" outside a git checkout (a release tarball).
payload_revision() {
    # shellcheck disable=SC2086
    commit=$(git log -1 --format=%h --abbrev=12 -- $PAYLOAD 2>/dev/null) || commit=""
    [ -n "$commit" ] || { echo unknown; return; }
    # shellcheck disable=SC2086
    if [ -n "$(git status --porcelain --untracked-files=no -- $PAYLOAD 2>/dev/null)" ]; then
        echo "$commit+dirty"
    else
        echo "$commit"
    fi
}
