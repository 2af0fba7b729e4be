"""Reading the customer's ID card (주민등록증, 운전면허증) from a camera capture, on the kiosk, offline
(issue 25). No Flask here: the identity view hands `CardReader.read` the capture's bytes and shows the
`CardReading` on the confirm screen, or the keyboard form when it raises `CardNotRead`.

- kiosk.idcard.reading: CardReading, CardNotRead, the bounds, text → field values (no image libraries);
- kiosk.idcard.layout: where each field sits on each kind of card (the drawer's and the reader's table);
- kiosk.idcard.reader: CardReader (OpenCV finds and straightens the card, Tesseract reads the fields);
- kiosk.idcard.specimen: card specimens for demos, tests and the benchmark (`kiosk demo-cards DIR`).
"""

from kiosk.idcard.reader import CardReader  # its image libraries load at the first read (or warm())
from kiosk.idcard.reading import MAX_CAPTURE_BYTES, MAX_CAPTURE_PIXELS, CardNotRead, CardReading

__all__ = ["MAX_CAPTURE_BYTES", "MAX_CAPTURE_PIXELS", "CardNotRead", "CardReader", "CardReading"]
