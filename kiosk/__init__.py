"""cert-kiosk: the post-office kiosk that issues 공동인증서 to a customer's own USB drive.

The package itself is empty on purpose: `kiosk.web` is the Flask app, every other part imports no Flask."""
