/**
 * The HTML report in a real headless browser (Debian's chromium driven by playwright-core): it loads with the
 * network off, and a person sees the overall status, the cell × check matrix, the failing check with its
 * evidence, the crash verdict and both latency charts. A screenshot is written for a human to look at.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { requireTestbed } from '../../harness/testing/testbed.ts';
import { matrix, run } from '../fixtures/cluster-report.ts';
import { renderHtml } from './html.ts';

const bed = await requireTestbed();

describe.runIf(bed)('the HTML report in headless chromium', () => {
  it('shows status, matrix, evidence, crash verdict and charts — without any network', { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mc-html-'));
    const file = path.join(dir, 'report.html');
    await writeFile(file, renderHtml(matrix(run('r-html', { fail: true, crash: true }))));
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    try {
      const context = await browser.newContext({ offline: true, viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(`file://${file}`);
      expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
      expect(await page.locator('h1').innerText()).toBe('meshcheck fail');
      const matrixTable = page.locator('table.matrix');
      expect(await matrixTable.locator('th').allInnerTexts()).toEqual(['check', 'kind-arm64-hybrid-istio-1.27.0\nfail', 'kind-amd64-native-istio-1.27.0\ninfra-error']);
      const splitRow = matrixTable.locator('tr', { hasText: 'traffic.weighted-split [gateway-api]' });
      expect(await splitRow.locator('td').allInnerTexts()).toEqual(['traffic.weighted-split [gateway-api]', 'fail', '—']);
      const failure = page.locator('details', { hasText: 'traffic.weighted-split' });
      expect(await failure.isVisible()).toBe(true);
      expect(await failure.innerText()).toMatch(/the split is off: v1: 420\/600 = 70\.0 %, expected 80\.0 %/);
      expect(await failure.innerText()).toMatch(/GET http:\/\/echo\.mc-1\.svc\.cluster\.local\/\s+200 v2/);
      expect(await page.locator('li', { hasText: 'istiod-1' }).innerText()).toMatch(/exec-format-error/);
      expect(await page.locator('svg[aria-label="latency percentiles per platform"]').isVisible()).toBe(true);
      expect(await page.locator('svg[aria-label="latency percentiles per platform"] text').allTextContents()).toEqual(expect.arrayContaining(['linux/amd64 native 100/s', 'linux/arm64 emulated 100/s']));
      expect(await page.locator('svg[aria-label="emulation ratio"] text').allTextContents()).toContain('2.80×');
      const shot = path.join(process.env.MESHCHECK_SCREENSHOT_DIR ?? dir, 'report.png');
      await page.screenshot({ path: shot, fullPage: true });
      console.log(`screenshot: ${shot}`);
    } finally {
      await browser.close();
    }
  });
});
