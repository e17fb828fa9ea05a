"""The counter takes a voucher by pointing the phone camera at the member's QR code.

Chromium's fake camera plays a video of the member's screen; on Linux there is no
BarcodeDetector, so this exercises the vendored jsQR decoder.
"""

import io
import re
import shutil

import pytest
from PIL import Image

from marketplace.db import db
from marketplace.ledger.models import Account
from marketplace.partners.models import PartnerEnterprise
from marketplace.shop.models import Offer
from tests.browser.conftest import PHONE
from tests.browser.test_journeys import log_in


def _video_of(picture: Image.Image, path) -> None:
    """An MJPEG 'camera' that keeps showing the picture on a grey desk."""
    frame = Image.new("RGB", (640, 480), (120, 120, 120))
    picture = picture.convert("RGB")
    picture.thumbnail((400, 400))
    frame.paste(picture, ((640 - picture.width) // 2, (480 - picture.height) // 2))
    data = io.BytesIO()
    frame.save(data, "JPEG", quality=90)
    path.write_bytes(data.getvalue() * 60)


@pytest.fixture
def camera_browser(browser, tmp_path):
    """A second chromium (same Playwright) whose camera films the given picture."""
    video = tmp_path / "camera.mjpeg"
    browsers = []

    def launch(picture):
        _video_of(picture, video)
        camera = browser.browser_type.launch(
            executable_path=shutil.which("chromium"), headless=True,
            args=["--no-sandbox", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                  f"--use-file-for-fake-video-capture={video}"],
        )
        browsers.append(camera)
        return camera

    yield launch
    for camera in browsers:
        camera.close()


def test_the_counter_scans_the_members_voucher_with_the_camera(app, live_server, browser, camera_browser, screenshot):
    with app.app_context():
        db.connect(reuse_if_open=True)
        offer_id = Offer.get(Offer.title.startswith("免费磨刀")).id
    member = browser.new_context(locale="zh-CN", base_url=live_server, **PHONE).new_page()
    log_in(member, "resident")
    member.goto(f"/shop/offers/{offer_id}")
    member.locator(f"form[action='/shop/offers/{offer_id}/redeem'] button").click()
    qr_picture = Image.open(io.BytesIO(member.locator(".qr-box svg").screenshot()))

    counter = camera_browser(qr_picture).new_context(locale="zh-CN", base_url=live_server, **PHONE).new_page()
    log_in(counter, "partner_staff")
    counter.goto("/shop/scan")
    counter.locator("[data-scanner-start]").click()
    counter.locator(".flash.success").wait_for(timeout=20_000)  # decoded, filled in and sent by itself
    screenshot(counter, "zh", "counter-after-camera-scan")
    assert re.search(r"20", counter.locator(".flash.success").inner_text())
    with app.app_context():
        shop = PartnerEnterprise.get(PartnerEnterprise.name == "北苑五金维修店")
        assert Account.get(Account.partner == shop.id).balance == 20
