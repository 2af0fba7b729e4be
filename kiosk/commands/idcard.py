"""`kiosk demo-cards DIR`: the demo customers' ID cards as PNG files, to print (at 85.6 × 54 mm) or show
on a phone to the kiosk's camera (README, "Trying the camera")."""

from __future__ import annotations

from pathlib import Path

import click


def register(group: click.Group) -> None:
    @group.command("demo-cards")
    @click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
    def demo_cards(directory: Path) -> None:
        """Write a specimen of every demo customer's ID card to DIRECTORY (PNG, at the card's size when printed)."""
        from kiosk.commands import load_settings
        from kiosk.idcard.specimen import DPI, FontMissing, card_png, demo_faces

        if not load_settings().is_demo:
            raise click.ClickException("demo cards are for demo mode (KIOSK_MODE=demo)")
        directory.mkdir(parents=True, exist_ok=True)
        try:
            for face in demo_faces():
                path = directory / f"{face.name}-{face.kind}.png"
                path.write_bytes(card_png(face))
                click.echo(f"{path}  ({face.kind}, {face.name}; print at {DPI} dpi: 85.6 × 54 mm)")
        except FontMissing as exc:
            raise click.ClickException(str(exc)) from exc
