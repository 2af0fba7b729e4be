#!/bin/sh
# The lab's development signing key and certificate for RAUC bundles, made once per machine and kept in
# $CERT_KIOSK_CACHE/rauc-dev-signing/ — never in the repository: a private key committed is a key every
# reader can sign updates with. The certificate is the lab image's keyring (/etc/rauc/keyring.pem), so
# the key must outlive the images built with it: it is not keyed by any recipe and no image build removes
# it. A fleet's key lives elsewhere (docs/operations.md, "Signing updates").
# usage: appliance/signing-key.sh  → prints the directory holding key.pem and cert.pem
set -eu
CACHE=${CERT_KIOSK_CACHE:-/var/cache/cert-kiosk-ci}
dir="$CACHE/rauc-dev-signing"
if [ -s "$dir/key.pem" ] && [ -s "$dir/cert.pem" ]; then
    echo "$dir"
    exit 0
fi
mkdir -p "$dir"
chmod 0700 "$dir"
work=$(mktemp -d "$dir/.new-XXXXXX")
trap 'rm -rf "$work"' EXIT
# EC P-256: small signatures, fast to verify under emulation; ten years, as lab images live long
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -keyout "$work/key.pem" -out "$work/cert.pem" \
    -subj "/O=cert-kiosk lab/CN=cert-kiosk lab development updates (not for a fleet)" 2>/dev/null
chmod 0600 "$work/key.pem"
mv "$work/key.pem" "$work/cert.pem" "$dir/"
echo "appliance: made the lab's development signing key in $dir" >&2
echo "$dir"
