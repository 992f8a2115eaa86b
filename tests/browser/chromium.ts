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

export const CHROMIUM = '/usr/bin/chromium';

/** The flags from the machine notes, plus WebGPU (which `--disable-gpu` leaves to SwiftShader). */
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
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

/** Launches Chromium; fails (never skips) with what to install when it is missing. */
export async function launchChromium(viewport = { width: 1400, height: 900 }, extraArgs: readonly string[] = []): Promise<Chromium> {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: the browser tests need Debian's chromium. ` +
    "`.ci/run` must install it (apt-get install -y chromium); never let playwright download a browser");
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, ...extraArgs] });
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
    const { processInfo } = await cdp.send('SystemInfo.getProcessInfo') as { processInfo: { type: string; id: number }[] };
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
