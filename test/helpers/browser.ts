import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's chromium: installed by .ci/run, never a browser downloaded by playwright. */
export const CHROMIUM = process.env.TASKOPS_CHROMIUM ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  // As root (CI containers) Chromium refuses its sandbox; the pages are our own, on loopback.
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
}

// The committed docs/dashboard/*.png are refreshed on request (TASKOPS_SCREENSHOTS=1 npm test), so an
// ordinary test run leaves the working tree clean; otherwise they go to a temp folder.
const SHOTS = process.env.TASKOPS_SCREENSHOTS
  ? path.resolve('docs/dashboard')
  : path.join(tmpdir(), 'taskops-screenshots');

/** A screenshot for docs/dashboard.md, taken by the test that shows the page. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** Bytes a page load transferred: every response's headers and body, as the browser counted them. */
export function countTransfer(page: Page): () => number {
  let bytes = 0;
  page.on('requestfinished', (request) => {
    void request.sizes().then((s) => (bytes += s.responseHeadersSize + s.responseBodySize));
  });
  return () => bytes;
}
