// A picture of an exported site for the docs: open it in headless Chromium, click two samples
// (a walk between them), and save the page as a PNG.
//
//   node web/test/screenshot.mjs SITE OUT.png [FIRST SECOND]
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
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
const page = await browser.newPage({ viewport: { width: 900, height: 760 } });
await page.goto(`http://127.0.0.1:${server.address().port}/`);
await page.waitForFunction(() => document.querySelectorAll('#grid canvas').length === 32);
await page.locator('#grid canvas').nth(Number(first)).click();
await page.locator('#grid canvas').nth(Number(second)).click();
await page.waitForFunction(() => document.querySelectorAll('#walk canvas').length === 10);
await page.screenshot({ path: out, fullPage: true });
await browser.close();
server.close();
console.log(`wrote ${out}`);
