"""Debian's Chromium, headless, driven over the DevTools protocol: load a page, read its DOM, take screenshots.

What a person sees of a served Textual app is drawn on a canvas, so the text is read back from screenshots with
tesseract (OCR).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import aiohttp
from PIL import Image, ImageOps

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium_binary() -> str:
    found = shutil.which("chromium")
    assert found, "Debian's chromium is missing: run scripts/ensure-system-packages.sh"
    return found


def ocr(png: Path) -> str:
    """The text in a screenshot, read twice: light text on dark (equalised, so dim text counts, and inverted) and
    dark text on light bars (as it is); padded and enlarged. The terminal font's zero has a dot, which OCR may read as 8 or @."""
    assert shutil.which("tesseract"), "tesseract is missing: run scripts/ensure-system-packages.sh"
    grey = ImageOps.grayscale(Image.open(png))
    texts = []
    for name, image in (("light", ImageOps.invert(ImageOps.equalize(grey))), ("dark", grey)):
        clean = png.with_suffix(f".ocr-{name}.png")
        background = image.getpixel((image.width - 1, image.height // 2))  # text touching the edge is lost to OCR
        padded = ImageOps.expand(image, border=16, fill=int(background) if isinstance(background, float | int) else 0)
        padded.resize((padded.width * 2, padded.height * 2)).save(clean)
        out = subprocess.run(["tesseract", str(clean), "stdout", "--psm", "6"], capture_output=True, check=True)
        texts.append(out.stdout.decode("utf-8", "replace"))
    return "\n".join(texts)


class Chromium:
    """One headless browser with one page, on a fresh profile."""

    def __init__(self, profile: Path, size: tuple[int, int] = (1280, 800)) -> None:
        self.profile = profile
        self.size = size
        self.proc: asyncio.subprocess.Process | None = None
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ids = itertools.count(1)
        self._shots = itertools.count()

    async def __aenter__(self) -> Chromium:
        self.proc = await asyncio.create_subprocess_exec(
            chromium_binary(), *FLAGS, f"--user-data-dir={self.profile}", "--remote-debugging-port=0",
            f"--window-size={self.size[0]},{self.size[1]}", "about:blank",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert self.proc.stderr is not None
        async with asyncio.timeout(60):
            while True:
                line = (await self.proc.stderr.readline()).decode()
                assert line, "chromium ended before it listened"
                if match := re.search(r"DevTools listening on (ws://\S+)", line):
                    browser_url = match.group(1)
                    break
        port = browser_url.split(":")[2].split("/")[0]
        asyncio.create_task(self._drain())  # noqa: RUF006 - ends with the process
        self._session = aiohttp.ClientSession()
        async with self._session.get(f"http://127.0.0.1:{port}/json/list") as response:
            targets = await response.json()
        page = next(t for t in targets if t["type"] == "page")
        self._ws = await self._session.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0)
        return self

    async def _drain(self) -> None:
        assert self.proc is not None
        assert self.proc.stderr is not None
        while await self.proc.stderr.read(65536):
            pass

    async def __aexit__(self, *exc: object) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._session is not None:
            await self._session.close()
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            try:
                async with asyncio.timeout(10):
                    await self.proc.wait()
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        assert self._ws is not None
        ident = next(self._ids)
        await self._ws.send_str(json.dumps({"id": ident, "method": method, "params": params}))
        async with asyncio.timeout(60):
            async for message in self._ws:
                data = json.loads(message.data)
                if data.get("id") == ident:
                    if "error" in data:
                        raise AssertionError(f"{method}: {data['error']}")
                    result: dict[str, Any] = data["result"]
                    return result
        raise AssertionError(f"{method}: the browser closed the connection")

    async def open(self, url: str) -> None:
        await self.call("Page.enable")
        await self.call("Page.navigate", url=url)

    async def evaluate(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    async def wait_for_class(self, name: str, within_s: float = 60.0) -> None:
        """Until the page's body has the class ``name`` (a promise in the page resolves when it does)."""
        script = (
            "new Promise(resolve => { const check = () => document.body && document.body.classList.contains("
            + json.dumps(name)
            + ") ? resolve(true) : setTimeout(check, 50); check(); })"
        )
        result = await self.call(
            "Runtime.evaluate", expression=script, awaitPromise=True, returnByValue=True, timeout=within_s * 1000
        )
        assert result["result"].get("value") is True, result

    async def screenshot(self, path: Path) -> Path:
        shot = await self.call("Page.captureScreenshot", format="png")
        await asyncio.to_thread(path.write_bytes, base64.b64decode(shot["data"]))
        return path

    async def wait_for_text(self, patterns: list[str], shots: Path, within_s: float = 90.0) -> str:
        """Screenshots until every pattern (a regular expression) is found in one (OCR); returns that text. Each
        shot is kept in ``shots``."""
        text = ""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within_s):
                while True:
                    png = await self.screenshot(shots / f"shot-{next(self._shots):03d}.png")
                    text = await asyncio.to_thread(ocr, png)
                    if all(re.search(pattern, text) for pattern in patterns):
                        return text
                    await asyncio.sleep(0.5)  # the next frame: the canvas has no event to await
        raise AssertionError(f"never read {patterns} on the page; last read:\n{text}")
