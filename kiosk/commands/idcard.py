"""`kiosk demo-cards DIR`: the demo customers' ID cards as PNG files, to print (at 85.6 × 54 mm) or show
on a phone to the kiosk's camera (README, "Trying the camera"); with `--fake-camera`, each also as a
camera's view for Chromium to play where there is no camera (the lab appliance's browser plays one)."""

from __future__ import annotations

from pathlib import Path

import click


def register(group: click.Group) -> None:
    @group.command("demo-cards")
    @click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
    @click.option("--fake-camera", is_flag=True,
                  help="Also write NAME-KIND.mjpeg: the card held up to a camera, for Chromium's "
                       "--use-file-for-fake-video-capture.")
    def demo_cards(directory: Path, fake_camera: bool) -> None:
        """Write a specimen of every demo customer's ID card to DIRECTORY (PNG, at the card's size when printed)."""
        from kiosk.commands import load_settings
        from kiosk.idcard.specimen import (
            DPI,
            FontMissing,
            camera_frame,
            card_png,
            demo_faces,
            fake_camera_mjpeg,
        )

        if not load_settings().is_demo:
            raise click.ClickException("demo cards are for demo mode (KIOSK_MODE=demo)")
        directory.mkdir(parents=True, exist_ok=True)
        try:
            for face in demo_faces():
                path = directory / f"{face.name}-{face.kind}.png"
                path.write_bytes(card_png(face))
                click.echo(f"{path}  ({face.kind}, {face.name}; print at {DPI} dpi: 85.6 × 54 mm)")
                if fake_camera:
                    camera = path.with_suffix(".mjpeg")
                    camera.write_bytes(fake_camera_mjpeg(camera_frame(face)))
                    click.echo(f"{camera}  (--use-file-for-fake-video-capture={camera})")
        except FontMissing as exc:
            raise click.ClickException(str(exc)) from exc
