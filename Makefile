# The project's vocabulary: run, test, bench, install, uninstall, deb, image, bundle. See README.md.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

# what `make run` needs from Debian (python3 -m venv; the ID card reader's Korean model and the card
# specimens' font; espeak-ng, the voice guidance), and what the tests add (browser, udev mocks, FUSE FAT)
DEB_RUN  := python3-venv tesseract-ocr tesseract-ocr-kor fonts-noto-cjk espeak-ng
DEB_TEST := $(DEB_RUN) python3-dev gcc pkg-config chromium umockdev gir1.2-umockdev-1.0 \
            libgirepository1.0-dev libcairo2-dev fuse3 fusefat exfat-fuse dosfstools exfatprogs \
            systemd udev openssl cage nodejs prometheus systemd-journal-remote \
            lintian qemu-system-x86 qemu-utils mmdebstrap mtools fdisk e2fsprogs \
            ovmf grub-efi-amd64-bin grub-common rauc squashfs-tools

.PHONY: run test bench install uninstall deb image bundle translations lock lint clean

run: $(BIN)/.installed translations
	$(BIN)/kiosk init --demo
	$(BIN)/kiosk serve

test: debian-test $(BIN)/.installed-test translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(BIN)/.installed-test translations
	$(BIN)/python -m bench $(BENCH_ARGS)

lint: $(BIN)/.installed-test
	$(BIN)/ruff check kiosk hardware tests bench

debian-test:
	@sh scripts/debian-packages.sh $(DEB_TEST)

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { rm -rf $(VENV); \
	  sh scripts/debian-packages.sh $(DEB_RUN) && $(PYTHON) -m venv $(VENV); }

$(BIN)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt -e .
	@touch $@

$(BIN)/.installed-test: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt -e '.[test,umockdev]'
	@touch $@ $(BIN)/.installed

translations: $(BIN)/.installed
	@$(BIN)/pybabel compile -d kiosk/translations

# Maintainers: refresh the catalogs after changing strings, then translate kiosk/translations/en.
catalog: $(BIN)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -o kiosk/translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i kiosk/translations/messages.pot -d kiosk/translations --no-fuzzy-matching

# Maintainers: re-pin after changing dependencies (what CI installs is what is pinned here).
lock: $(BIN)/.installed-test
	$(BIN)/pip freeze --exclude-editable | grep -v '^cert-kiosk' > constraints.txt

install:
	sh scripts/install.sh

# dist/cert-kiosk_<version>_amd64.deb (packaging/build-deb.sh; reused from $$CERT_KIOSK_CACHE when unchanged)
deb:
	sh packaging/build-deb.sh dist

# the appliance: a bootable Debian 12 image with the .deb and a lab configuration, cached outside the
# checkout under $${CERT_KIOSK_CACHE:-/var/cache/cert-kiosk-ci}/image-<hash>/ (needs root; appliance/)
image:
	sh appliance/build-image.sh

# a signed RAUC update bundle of that image's root filesystem (APPLIANCE_VERSION=… for another version),
# signed with the lab's development key made once under the same cache (appliance/build-bundle.sh)
bundle:
	sh appliance/build-bundle.sh dist

uninstall:
	sh scripts/uninstall.sh

clean:
	rm -rf $(VENV) var tests/artifacts .pytest_cache dist
