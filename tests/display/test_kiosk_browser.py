"""issue 19: the kiosk page in a real browser — headless Chromium from Debian driven by Selenium.

Upload a PNG of a green code → the green card with the masked name; an expired and an untrusted code → the
red card with the reason in the chosen language; a photo-like picture (rotated, blurred, noisy, JPEG) → read
and verified; a pasted code; and the camera path through Chromium's fake camera fed a Y4M video of a code.
Each test saves a screenshot of the page (in its tmp_path).
"""

from __future__ import annotations

import io
import os
import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageFilter

from healthpass import qr

from ._kiosk import Setup, fixed_clock, kiosk_module, serve

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=600,1000")

webdriver = pytest.importorskip("selenium.webdriver")
if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
    pytest.skip("Debian chromium and chromium-driver are not installed (scripts/setup.sh installs them)",
                allow_module_level=True)


def browser(profile_dir: Path, *extra: str) -> Any:
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager look for a driver online
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, *extra, f"--user-data-dir={profile_dir}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    return driver


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Setup, Path]]:
    base = tmp_path_factory.mktemp("kiosk")
    setup = Setup(base)
    with serve(kiosk_module().create_app(setup.dir, clock=fixed_clock())) as url:
        yield url, setup, base


@pytest.fixture(scope="module")
def driver(kiosk: tuple[str, Setup, Path]) -> Iterator[Any]:
    _, _, base = kiosk
    chrome = browser(base / "chromium-profile")
    try:
        yield chrome
    finally:
        chrome.quit()


def wait_for_card(driver: Any, seq: int) -> Any:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "card").get_attribute("data-seq") == str(seq))
    return driver.find_element(By.CSS_SELECTOR, "#card section.hp-card")


def upload(driver: Any, path: Path, language: str) -> Any:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element(By.ID, "lang")).select_by_value(language)
    seq = int(driver.find_element(By.ID, "card").get_attribute("data-seq"))
    driver.find_element(By.ID, "file").send_keys(str(path))
    return wait_for_card(driver, seq + 1)


def screenshot(driver: Any, path: Path) -> Image.Image:
    assert driver.save_screenshot(str(path))
    return Image.open(path).convert("RGB")


def has_colour(image: Image.Image, hex_colour: str, at_least: int = 500) -> bool:
    rgb = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    counts = {colour: count for count, colour in image.getcolors(maxcolors=1 << 24) or []}
    return counts.get(rgb, 0) >= at_least


def photo_like(text: str) -> bytes:
    """The code as a phone sees a printout: a sheet rotated 13° on a noisy grey desk, lit unevenly (a
    gradient from dim to bright), out of focus, with sensor noise, saved as a JPEG at quality 55."""
    code = Image.open(io.BytesIO(qr.render_png(text, scale=5))).convert("L")
    sheet = Image.new("L", (code.width + 60, code.height + 60), 235)
    sheet.paste(code, (30, 30))
    mask = Image.new("L", sheet.size, 255).rotate(13, expand=True)
    sheet = sheet.rotate(13, expand=True, resample=Image.Resampling.BICUBIC)
    size = (1200, 900)
    rng = random.Random(19)
    desk = Image.effect_noise(size, 40).point(lambda v: 70 + v // 3)
    desk.paste(sheet, (rng.randint(150, 300), rng.randint(80, 160)), mask)
    light = Image.linear_gradient("L").rotate(90).resize(size).point(lambda v: 140 + v * 115 // 255)
    photo = ImageChops.multiply(desk, light).filter(ImageFilter.GaussianBlur(1.4))
    photo = ImageChops.add(photo, Image.effect_noise(size, 12), scale=1.0, offset=-128)
    out = io.BytesIO()
    photo.convert("RGB").save(out, "JPEG", quality=55)
    return out.getvalue()


def test_issue19_browser_green_upload_shows_masked_name(driver: Any, kiosk: tuple[str, Setup, Path],
                                                        tmp_path: Path) -> None:
    url, setup, base = kiosk
    driver.get(url + "/")
    card = upload(driver, setup.png(setup.green, base / "green.png"), "zh-Hans")
    assert (card.get_attribute("data-verdict"), card.get_attribute("data-colour")) == ("pass", "green")
    assert "通过" in card.text and "张*三" in card.text and "张小三" not in driver.page_source
    shot = screenshot(driver, tmp_path / "kiosk-green.png")
    assert has_colour(shot, "#1b873f")  # the large green block is on screen


@pytest.mark.parametrize(("which", "language", "reason"), [
    ("expired", "en", "Code expired"),
    ("expired", "zh-Hant", "碼已過期"),
    ("untrusted", "zh-Hans", "签发机构不受信任"),
])
def test_issue19_browser_rejected_code_red_in_language(driver: Any, kiosk: tuple[str, Setup, Path],
                                                       tmp_path: Path, which: str, language: str,
                                                       reason: str) -> None:
    url, setup, base = kiosk
    driver.get(url + "/")
    card = upload(driver, setup.png(getattr(setup, which), base / f"{which}.png"), language)
    assert (card.get_attribute("data-verdict"), card.get_attribute("data-colour")) == ("fail", "red")
    assert card.get_attribute("lang") == language and reason in card.text
    shot = screenshot(driver, tmp_path / f"kiosk-{which}-{language}.png")
    assert has_colour(shot, "#c62828")


def test_issue19_browser_photo_like_image_read_and_verified(driver: Any, kiosk: tuple[str, Setup, Path],
                                                            tmp_path: Path) -> None:
    url, setup, base = kiosk
    photo = base / "photo.jpg"
    photo.write_bytes(photo_like(setup.green))
    driver.get(url + "/")
    card = upload(driver, photo, "en")
    assert card.get_attribute("data-verdict") == "pass" and "Z*** S**" in card.text
    shot = screenshot(driver, tmp_path / "kiosk-photo.png")
    assert has_colour(shot, "#1b873f")


def test_issue19_browser_pasted_code(driver: Any, kiosk: tuple[str, Setup, Path], tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    url, setup, _ = kiosk
    driver.get(url + "/")
    driver.find_element(By.ID, "text").send_keys(setup.green)
    driver.find_element(By.ID, "verify-text").click()
    card = wait_for_card(driver, 1)
    assert card.get_attribute("data-verdict") == "pass"
    screenshot(driver, tmp_path / "kiosk-pasted.png")


def write_y4m(text: str, path: Path, *, frames: int = 6) -> Path:
    """A Y4M video (4:2:0) of a code on a white frame, for Chromium's fake camera."""
    width, height = 640, 480
    code = Image.open(io.BytesIO(qr.render_png(text, scale=4))).convert("RGB")
    side = min(height - 40, code.width)
    frame = Image.new("RGB", (width, height), "white")
    frame.paste(code.resize((side, side), Image.Resampling.NEAREST), ((width - side) // 2, (height - side) // 2))
    y, cb, cr = frame.convert("YCbCr").split()
    half = (width // 2, height // 2)
    body = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + body)
    return path


def test_issue19_browser_fake_camera_reads_the_code(kiosk: tuple[str, Setup, Path], tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    url, setup, base = kiosk
    video = write_y4m(setup.green, base / "camera.y4m")
    chrome = browser(tmp_path / "camera-profile", "--use-fake-device-for-media-stream",
                     "--use-fake-ui-for-media-stream", f"--use-file-for-fake-video-capture={video}",
                     "--accept-lang=zh-CN,zh")  # the page starts in the browser's language: the Chinese name shows
    try:
        chrome.get(url + "/")
        chrome.find_element(By.ID, "camera").click()
        card = wait_for_card(chrome, 1)
        assert card.get_attribute("data-verdict") == "pass" and "张*三" in card.text
        assert chrome.find_element(By.TAG_NAME, "body").get_attribute("data-camera") == "off"  # stopped once read
        screenshot(chrome, tmp_path / "kiosk-camera.png")
    finally:
        chrome.quit()


# ------------------------------------------- hleft item 3: the language the page starts in


def page_language(driver: Any, url: str) -> str:
    """Load the page; the language it starts in, checked to agree in the picker, on <html> and on the first card."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver.get(url + "/")
    chosen = Select(driver.find_element(By.ID, "lang")).first_selected_option.get_attribute("value")
    assert driver.execute_script("return document.documentElement.lang") == chosen
    return str(chosen)


def paste(driver: Any, text: str) -> Any:
    from selenium.webdriver.common.by import By

    seq = int(driver.find_element(By.ID, "card").get_attribute("data-seq"))
    box = driver.find_element(By.ID, "text")
    box.clear()
    box.send_keys(text)
    driver.find_element(By.ID, "verify-text").click()
    return wait_for_card(driver, seq + 1)


def prefer(driver: Any, accept_language: str) -> None:
    """Make the browser prefer these languages (navigator.languages and Accept-Language), as its settings do."""
    agent = driver.execute_script("return navigator.userAgent")
    driver.execute_cdp_cmd("Emulation.setUserAgentOverride", {"userAgent": agent, "acceptLanguage": accept_language})


EXPIRED = {"zh-Hans": "码已过期", "zh-Hant": "碼已過期", "en": "Code expired"}


@pytest.mark.parametrize(("accept", "expected"), [
    ("zh-TW,zh;q=0.9,en;q=0.8", "zh-Hant"),
    ("zh-HK", "zh-Hant"),
    ("zh-Hant-MO", "zh-Hant"),
    ("zh-CN,en", "zh-Hans"),
    ("zh-SG", "zh-Hans"),
    ("zh", "zh-Hans"),
    ("en-GB,zh-TW", "en"),
    ("fr-FR,de,zh-TW,en", "zh-Hant"),  # the first language the cards speak, in the browser's order
    ("fr-FR,de", "zh-Hans"),  # none: simplified Chinese
    ("yue-HK,ja", "zh-Hans"),
])
def test_hleft_item3_browser_page_starts_in_the_browser_language(driver: Any, kiosk: tuple[str, Setup, Path],
                                                                 tmp_path: Path, accept: str, expected: str) -> None:
    url, setup, _ = kiosk  # kiosk.json sets no language
    prefer(driver, accept)
    try:
        first = accept.partition(",")[0].partition(";")[0]
        assert driver.execute_script("return navigator.languages[0]") == first  # the browser prefers it now
        assert page_language(driver, url) == expected
        card = paste(driver, setup.expired)  # the first card speaks it too
        assert card.get_attribute("lang") == expected and EXPIRED[expected] in card.text
        screenshot(driver, tmp_path / f"kiosk-start-{expected}.png")
    finally:
        prefer(driver, "en-US,en")  # the other tests' browser, as Chromium starts here


def test_hleft_item3_browser_page_starts_in_the_configured_language(tmp_path: Path) -> None:
    """kiosk.json's language wins over the browser's (a checkpoint's tablet set up in English still shows the
    card in the region's language); a change to it applies at the next page load; a language the cards do not
    speak is ignored and the browser's is used. The guard can still switch with the picker."""
    import json

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    setup = Setup(tmp_path, language="zh-Hant")
    with serve(kiosk_module().create_app(setup.dir, clock=fixed_clock())) as url:
        chrome = browser(tmp_path / "profile", "--accept-lang=en-US,en")  # the browser's own setting, no override
        try:
            assert chrome.execute_script("return navigator.language") == "en-US"
            assert page_language(chrome, url) == "zh-Hant"
            card = paste(chrome, setup.expired)
            assert card.get_attribute("lang") == "zh-Hant" and EXPIRED["zh-Hant"] in card.text
            screenshot(chrome, tmp_path / "kiosk-configured-zh-Hant.png")
            Select(chrome.find_element(By.ID, "lang")).select_by_value("en")  # the picker still switches
            assert chrome.execute_script("return document.documentElement.lang") == "en"
            card = paste(chrome, setup.expired)
            assert card.get_attribute("lang") == "en" and EXPIRED["en"] in card.text
            (setup.dir / "kiosk.json").write_text(json.dumps({"language": "zh-Hans", "profile": "clinic"}), "utf-8")
            assert page_language(chrome, url) == "zh-Hans"
            (setup.dir / "kiosk.json").write_text(json.dumps({"language": "de"}), "utf-8")
            assert page_language(chrome, url) == "en"  # not a card language: the browser's
            (setup.dir / "kiosk.json").unlink()
            assert page_language(chrome, url) == "en"
        finally:
            chrome.quit()
        chrome = browser(tmp_path / "profile-tw", "--accept-lang=zh-TW,en")  # no override: Chromium's own setting
        try:
            assert page_language(chrome, url) == "zh-Hant"
            card = paste(chrome, setup.green)
            assert card.get_attribute("lang") == "zh-Hant" and card.get_attribute("data-verdict") == "pass"
            assert "通過" in card.text and "张*三" in card.text  # the name as issued, masked
        finally:
            chrome.quit()
