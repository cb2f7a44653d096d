"""The operator's page in headless Chromium, for bench/screen_pop.py: op1 logged in, a
MutationObserver that reports when a pop's card (`.pop[data-linkedid]`, made by pops.js) and
a bare message are in the DOM and the next frame after, and a second WebSocket, to the
bench's `/bench/ws`, whose handler parses each message and appends a div (the baseline).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]  # fmt: skip

PAGE_SCRIPT = """
() => new Promise((resolve, reject) => {
  const record = (kind, key) => {
    const dom = performance.now();
    requestAnimationFrame(() => window.benchSeen(kind, key, dom, performance.now()));
  };
  const seen = new Set();
  new MutationObserver((changes) => {
    for (const change of changes) for (const node of change.addedNodes) {
      if (node.nodeType !== 1 || !node.matches(".pop[data-linkedid]")) continue;
      const id = node.dataset.linkedid;
      if (!seen.has(id)) { seen.add(id); record("pop", id); }
    }
  }).observe(document.getElementById("pops"), { childList: true });
  const box = document.createElement("div");
  box.id = "bench-bare";
  document.body.appendChild(box);
  new MutationObserver((changes) => {
    for (const change of changes) for (const node of change.addedNodes) {
      if (node.nodeType === 1) record("bare", node.dataset.seq);
    }
  }).observe(box, { childList: true });
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const bare = new WebSocket(scheme + "//" + location.host + "/bench/ws");
  bare.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    const div = document.createElement("div");
    div.dataset.seq = String(message.seq);
    div.textContent = "bare message " + message.seq;
    box.replaceChildren(div);
  });
  bare.addEventListener("open", () => resolve(true));
  bare.addEventListener("error", () => reject(new Error("baseline socket failed")));
})
"""


@contextlib.asynccontextmanager
async def operator_page(
    base: str, password: str, seen: Callable[[str, str, float, float], None], timeout: float
) -> AsyncIterator[Any]:
    """Chromium, the operator page of op1 logged in, the bench's observer and baseline
    socket in it: `seen(kind, key, in the DOM, next frame)` for each pop card and bare
    message drawn (performance.now(), ms); `timeout` s for each step of the page."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = await browser.new_context(
                locale="pl-PL", timezone_id="Europe/Warsaw", viewport={"width": 1280, "height": 900}
            )
            page = await context.new_page()
            page.set_default_timeout(timeout * 1000)
            await page.expose_function("benchSeen", seen)
            await page.goto(base + "/login")
            await page.fill('input[name="username"]', "op1")
            await page.fill('input[name="password"]', password)
            await page.click('button[type="submit"]')
            await page.wait_for_url(base + "/")
            await page.wait_for_selector('#link-state[data-state="open"]')
            await page.evaluate(PAGE_SCRIPT)
            yield page
        finally:
            await browser.close()


async def page_clock(page: Any, readings: list[tuple[float, float]]) -> None:
    """Five readings of the page's clock: (CLOCK_MONOTONIC before minus performance.now(),
    CLOCK_MONOTONIC after minus performance.now()), in s: the offset lies between."""
    for _ in range(5):
        before = time.monotonic()
        now_s = await page.evaluate("performance.now()") / 1000
        readings.append((before - now_s, time.monotonic() - now_s))
