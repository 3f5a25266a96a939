// Load a site written by `dcgan export-web` in headless Chromium (Debian's chromium, driven by
// playwright-core) and check it:
//
//   node web/test/check-page.mjs SITE LATENTS.npy EXPECTED.npy [CLASS EXPECTED_CLASS.npy]
//
// - G in the page on LATENTS against EXPECTED (`dcgan generate --out EXPECTED.npy` on the same
//   latents): largest |difference|;
// - time from navigation to the first drawn sample, and one image's time (median of 10);
// - a walk between two clicked samples renders 10 frames that start and end at them;
// - vector arithmetic on clicked exemplars: the grid's centre is G(mean A − mean B + mean C);
// - the direction slider at t = 1 draws G(base + mean(end) − mean(start));
// - a class-conditional generator (CLASS given): the page shows its class picker, and after
//   CLASS is picked there G draws EXPECTED_CLASS (`dcgan generate --labels`, every latent of
//   CLASS); an unconditional one: no picker;
// - the console shows no error.
//
// Prints one JSON object; exits 1 when a check fails. CHROMIUM overrides /usr/bin/chromium.

import { readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { chromium } from 'playwright-core';

const [site, latentsPath, expectedPath, pickClass, expectedClassPath] = process.argv.slice(2);
if (!expectedPath) {
  console.error('usage: node web/test/check-page.mjs SITE LATENTS.npy EXPECTED.npy');
  process.exit(2);
}

// A float32 little-endian C-order .npy: its shape and values.
function readNpy(path) {
  const b = readFileSync(path);
  const major = b[6];
  const len = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = b.toString('latin1', start, start + len);
  if (!header.includes("'<f4'")) throw new Error(`${path}: not float32 (${header})`);
  const shape = header.match(/\(([^)]*)\)/)[1].split(',').filter((s) => s.trim()).map(Number);
  const data = b.subarray(start + len);
  const values = new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length));
  return { shape, values };
}

const types = {
  '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm',
  '.json': 'application/json', '.safetensors': 'application/octet-stream',
};
const server = createServer((req, res) => {
  const rel = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^\/+/, '');
  const file = join(site, rel === '' ? 'index.html' : rel);
  try {
    const body = readFileSync(file);
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
    res.end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const url = `http://127.0.0.1:${server.address().port}/`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
const result = { console_errors: [] };
let failed = [];
try {
  const page = await browser.newPage();
  page.on('console', (m) => m.type() === 'error' && result.console_errors.push(m.text()));
  page.on('pageerror', (e) => result.console_errors.push(String(e)));

  const t0 = Date.now();
  await page.goto(url);
  await page.waitForFunction(() => document.querySelectorAll('#grid canvas').length > 0, null, {
    timeout: 60000,
  });
  result.first_picture_ms = Date.now() - t0;
  result.page_timings = await page.evaluate(() => window.dcgan.timings);
  result.info = await page.evaluate(() => window.dcgan.info);

  const z = readNpy(latentsPath);
  const want = readNpy(expectedPath);
  const n = z.shape[0];
  const got = await page.evaluate(
    async ([zs, count]) => Array.from(await window.dcgan.generate(Float32Array.from(zs), count)),
    [Array.from(z.values), n],
  );
  if (got.length !== want.values.length) {
    failed.push(`${got.length} values from the page, ${want.values.length} expected`);
  }
  result.max_abs_diff = got.reduce((m, v, i) => Math.max(m, Math.abs(v - want.values[i])), 0);
  if (!(result.max_abs_diff <= 1e-4)) failed.push(`max |diff| ${result.max_abs_diff} > 1e-4`);

  result.one_image_ms = await page.evaluate(async (nz) => {
    const z = new Float32Array(nz).fill(0.3);
    const times = [];
    for (let i = 0; i < 11; i++) {
      const t = performance.now();
      await window.dcgan.generate(z, 1);
      times.push(performance.now() - t);
    }
    times.shift(); // the first call warms up
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)];
  }, result.info.nz);

  const cells = page.locator('#grid canvas');
  await cells.nth(0).click();
  await cells.nth(5).click();
  await page.waitForFunction(() => document.querySelectorAll('#walk canvas').length === 10, null, {
    timeout: 30000,
  });
  // The walk's ends are the two picked samples: their pixels, within rounding.
  result.walk = await page.evaluate(() => {
    const pixels = (c) => c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const differ = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
    const frames = [...document.querySelectorAll('#walk canvas')].map(pixels);
    const grid = [...document.querySelectorAll('#grid canvas')].map(pixels);
    return {
      frames: frames.length,
      first_vs_picked: differ(frames[0], grid[0]),
      last_vs_picked: differ(frames[frames.length - 1], grid[5]),
      opaque: frames.every((f) => f.every((v, i) => i % 4 !== 3 || v === 255)),
    };
  });
  const w = result.walk;
  if (!(w.frames === 10 && w.first_vs_picked <= 1 && w.last_vs_picked <= 1 && w.opaque)) {
    failed.push(`the walk: ${JSON.stringify(w)}`);
  }

  // Vector arithmetic: A = {1, 2}, B = {3}, C = {4, 6}.
  for (const [set, ks] of [['A', [1, 2]], ['B', [3]], ['C', [4, 6]]]) {
    await page.selectOption('#mode', set);
    for (const k of ks) await cells.nth(k).click();
  }
  await page.waitForFunction(() => document.querySelectorAll('#arith canvas').length === 9, null, {
    timeout: 30000,
  });
  // The direction: start = {7}, end = {8}; the base is the walk's last pick (sample 5).
  await page.selectOption('#mode', 'L');
  await cells.nth(7).click();
  await page.selectOption('#mode', 'R');
  await cells.nth(8).click();
  await page.$eval('#dir-t', (el) => {
    el.value = '1';
    el.dispatchEvent(new Event('input'));
  });
  result.arithmetic = await page.evaluate(async () => {
    const { nz } = window.dcgan.info;
    const z = (k) => window.dcgan.latent(k);
    const avg = (ks) => Array.from({ length: nz }, (_, i) => ks.reduce((s, k) => s + z(k)[i], 0) / ks.length);
    const [a, b, c] = [avg([1, 2]), avg([3]), avg([4, 6])];
    const y = a.map((v, i) => v - b[i] + c[i]);
    const d = avg([8]).map((v, i) => v - avg([7])[i]);
    const moved = z(5).map((v, i) => v + d[i]);
    const byte = (v) => Math.round(Math.min(1, Math.max(-1, v)) * 127.5 + 127.5);
    // Largest difference between a canvas's RGB and G's image of latent `w`.
    const against = async (canvas, w) => {
      const { nc, size } = window.dcgan.info;
      const g = await window.dcgan.generate(Float32Array.from(w), 1);
      const px = canvas.getContext('2d').getImageData(0, 0, size, size).data;
      let m = 0;
      for (let p = 0; p < size * size; p++) {
        for (let ch = 0; ch < 3; ch++) {
          m = Math.max(m, Math.abs(px[4 * p + ch] - byte(g[(nc === 1 ? 0 : ch) * size * size + p])));
        }
      }
      return m;
    };
    const centre = document.querySelectorAll('#arith canvas')[4];
    const out = {
      cells: document.querySelectorAll('#arith canvas').length,
      means: document.querySelectorAll('#arith-means canvas').length,
      centre_vs_y: await against(centre, y),
      mean_a_vs_g: await against(document.querySelectorAll('#arith-means canvas')[0], a),
    };
    // The slider's picture lands once its generation resolves: wait for it (10 s at most).
    for (let i = 0; i < 100; i++) {
      out.slider_vs_expected = await against(document.getElementById('dir-img'), moved);
      if (out.slider_vs_expected <= 1 && document.querySelectorAll('#dir-strip canvas').length === 9) break;
      await new Promise((ok) => setTimeout(ok, 100));
    }
    out.strip = document.querySelectorAll('#dir-strip canvas').length;
    out.label = document.getElementById('dir-t-label').textContent;
    return out;
  });
  const ar = result.arithmetic;
  if (!(ar.cells === 9 && ar.means === 3 && ar.centre_vs_y <= 1 && ar.mean_a_vs_g <= 1)) {
    failed.push(`the arithmetic: ${JSON.stringify(ar)}`);
  }
  if (!(ar.slider_vs_expected <= 1 && ar.strip === 9 && ar.label === 't = 1.0')) {
    failed.push(`the direction slider: ${JSON.stringify(ar)}`);
  }
  result.class_picker_shown = await page.evaluate(() => !document.getElementById('class-picker').hidden);
  if (result.class_picker_shown !== (pickClass !== undefined)) {
    failed.push(`class picker shown: ${result.class_picker_shown}`);
  }
  if (pickClass !== undefined) {
    await page.selectOption('#class', pickClass);
    const wantClass = readNpy(expectedClassPath);
    // The picker's handler sets the class before it redraws; wait for the new grid.
    await page.waitForTimeout(500);
    const gotClass = await page.evaluate(
      async ([zs, count]) => Array.from(await window.dcgan.generate(Float32Array.from(zs), count)),
      [Array.from(z.values), n],
    );
    result.class_max_abs_diff = gotClass.reduce((m, v, i) => Math.max(m, Math.abs(v - wantClass.values[i])), 0);
    if (!(result.class_max_abs_diff <= 1e-4)) {
      failed.push(`class ${pickClass}: max |diff| ${result.class_max_abs_diff} > 1e-4`);
    }
  }
  result.status = await page.textContent('#status');
  result.wasm_bytes = statSync(join(site, 'dcgan_web_bg.wasm')).size;
  if (result.console_errors.length) failed.push(`console errors: ${result.console_errors}`);
} catch (e) {
  failed.push(String(e));
} finally {
  await browser.close();
  server.close();
}
result.failed = failed;
console.log(JSON.stringify(result));
process.exit(failed.length ? 1 : 0);
