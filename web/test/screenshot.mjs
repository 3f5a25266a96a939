// A picture of an exported site for the docs: open it in headless Chromium, click two samples
// (a walk between them), three sets of exemplars (A − B + C) and two (a direction, slider at 1.5),
// and save the page as a PNG. With a URL instead of a folder (`dcgan serve`'s page), wait until
// every run's grid and curves are drawn and save that.
//
//   node web/test/screenshot.mjs SITE|URL OUT.png [FIRST SECOND]
//
// CHROMIUM overrides /usr/bin/chromium.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { chromium } from 'playwright-core';

const [site, out, first = '0', second = '9'] = process.argv.slice(2);
if (!out) {
  console.error('usage: node web/test/screenshot.mjs SITE OUT.png [FIRST SECOND]');
  process.exit(2);
}
const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };
const server = createServer((req, res) => {
  const rel = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^\/+/, '');
  try {
    const file = join(site, rel || 'index.html');
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  } catch {
    res.writeHead(404).end();
  }
});
const remote = site.startsWith('http://');
if (!remote) await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
const page = await browser.newPage({ viewport: { width: remote ? 1200 : 900, height: 760 } });
if (remote) {
  const t0 = Date.now();
  await page.goto(site);
  await page.evaluate(() => window.dcganServe.ready);
  await page.waitForFunction(() =>
    window.dcganServe.runs().every((r) => r.shown_loaded && r.drawn_step !== null), null, { timeout: 120000 });
  const ms = Date.now() - t0;
  const records = (await page.evaluate(() => window.dcganServe.runs())).map((r) => r.records);
  await page.screenshot({ path: out, fullPage: true });
  await browser.close();
  console.log(`wrote ${out}; every run drawn ${ms} ms after page.goto (records: ${records})`);
  process.exit(0);
}
await page.goto(`http://127.0.0.1:${server.address().port}/`);
await page.waitForFunction(() => document.querySelectorAll('#grid canvas').length === 32);
await page.locator('#grid canvas').nth(Number(first)).click();
await page.locator('#grid canvas').nth(Number(second)).click();
await page.waitForFunction(() => document.querySelectorAll('#walk canvas').length === 10);
for (const [set, ks] of [['A', [1, 2, 3]], ['B', [4, 5, 6]], ['C', [7, 8, 10]], ['L', [11]], ['R', [12]]]) {
  await page.selectOption('#mode', set);
  for (const k of ks) await page.locator('#grid canvas').nth(k).click();
}
await page.waitForFunction(() => document.querySelectorAll('#arith canvas').length === 9);
await page.$eval('#dir-t', (el) => {
  el.value = '1.5';
  el.dispatchEvent(new Event('input'));
});
await page.waitForFunction(() => document.querySelectorAll('#dir-strip canvas').length === 9);
await page.waitForTimeout(300);
await page.screenshot({ path: out, fullPage: true });
await browser.close();
server.close();
console.log(`wrote ${out}`);
