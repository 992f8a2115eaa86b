/**
 * Shared by the browser tests: Debian's Chromium driven by playwright-core (never a downloaded
 * browser), pages with their console collected for failure messages, screenshots into
 * dist/test-artefacts/, and the renderer's peak memory.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium; `SSD_EDGE_CHROMIUM` points elsewhere (the skip test uses a missing path). */
export const CHROMIUM = process.env.SSD_EDGE_CHROMIUM || '/usr/bin/chromium';

/**
 * Set (to 1) by `.ci/run`, which installs Chromium: a missing browser is then a failure, so CI can
 * never skip the browser suites silently.
 */
export const REQUIRE_BROWSER_ENV = 'SSD_EDGE_REQUIRE_BROWSER';

/** What to run to get the browser the suites drive. */
export const INSTALL_HINT = 'apt-get install chromium';

/**
 * The `skip` option of a browser suite: false when Chromium is installed; otherwise a one-line
 * reason saying what to install (the runner prints it on the suite's line, and the suite's
 * set-up never runs). With SSD_EDGE_REQUIRE_BROWSER=1 a missing browser throws instead, which
 * fails the file.
 */
export function skipWithoutChromium(): string | false {
  if (existsSync(CHROMIUM)) return false;
  const missing = `needs Chromium at ${CHROMIUM}: ${INSTALL_HINT}`;
  if (process.env[REQUIRE_BROWSER_ENV] === '1') {
    throw new Error(
      `${REQUIRE_BROWSER_ENV}=1 and the browser suite ${missing} (.ci/run installs it); it may not be skipped here`,
    );
  }
  return `skipped: ${missing}`;
}

/** The flags from the machine notes, plus WebGPU (which `--disable-gpu` leaves to SwiftShader). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-webgpu',
];

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..'); // from dist/tests/browser
export const artefactDir = path.join(repoRoot, 'dist/test-artefacts');

export interface Chromium {
  browser: Browser;
  context: BrowserContext;
  close(): Promise<void>;
}

/** A camera that plays Chromium's test pattern, granted without a prompt (for the demo's webcam path). */
export const FAKE_CAMERA_ARGS = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

/** Launches Chromium; fails with what to install when it is missing (suites skip first: skipWithoutChromium). */
export async function launchChromium(
  viewport = { width: 1400, height: 900 },
  extraArgs: readonly string[] = [],
): Promise<Chromium> {
  assert.ok(
    existsSync(CHROMIUM),
    `${CHROMIUM} is missing: the browser tests need Debian's chromium. ` +
      `\`.ci/run\` must install it (${INSTALL_HINT}); never let playwright download a browser`,
  );
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
  });
  const context = await browser.newContext({ viewport });
  await mkdir(artefactDir, { recursive: true });
  return { browser, context, close: () => browser.close() };
}

export interface OpenPage {
  page: Page;
  /** '[type] text' of every console message and page error so far. */
  consoleLines: string[];
}

/** A new page at `url`, its console collected. */
export async function openPage(context: BrowserContext, url: string): Promise<OpenPage> {
  const page = await context.newPage();
  const consoleLines: string[] = [];
  page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => consoleLines.push(`[pageerror] ${e.message}`));
  await page.goto(url);
  return { page, consoleLines };
}

/** A message with the page's last console lines, for failures inside the page. */
export function withConsole(lines: readonly string[], message: string): string {
  return lines.length ? `${message}\npage console (last 20 lines):\n${lines.slice(-20).join('\n')}` : message;
}

/** Saves a full-page screenshot as dist/test-artefacts/<name>.png; returns its path from the repo root. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const file = path.join(artefactDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return path.relative(repoRoot, file);
}

/**
 * Peak resident memory (VmHWM, MiB) of each renderer process of the browser: the page, its
 * workers and onnxruntime's threads and wasm heaps all live in the renderer. Read from /proc,
 * so Linux only; the process ids come from the DevTools protocol.
 */
export async function rendererPeakMemory(browser: Browser): Promise<number[]> {
  const cdp = await browser.newBrowserCDPSession();
  try {
    const { processInfo } = (await cdp.send('SystemInfo.getProcessInfo')) as {
      processInfo: { type: string; id: number }[];
    };
    const peaks: number[] = [];
    for (const { type, id } of processInfo) {
      if (type !== 'renderer') continue;
      const status = await readFile(`/proc/${id}/status`, 'utf8').catch(() => '');
      const match = /VmHWM:\s+(\d+) kB/.exec(status);
      if (match) peaks.push(Number(match[1]) / 1024);
    }
    return peaks;
  } finally {
    await cdp.detach();
  }
}
