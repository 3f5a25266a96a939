// Load `dcgan serve`'s page in headless Chromium (Debian's chromium, driven by playwright-core)
// while the test grows a run, and check that the page follows:
//
//   node web/test/check-serve.mjs URL RUN_DIR [SCREENSHOT.png]
//
// - every run's newest sample grid is shown and loaded, its curves drawn to its last step;
// - records appended to RUN_DIR/log.jsonl reach the curves (the last with an evaluation, which
//   adds the FID and KID panels), and a new grid in RUN_DIR/samples becomes the one shown (the
//   slider follows the newest);
// - the first run's explorer (when the server has the web bundle) draws its grid on the run's
//   newest checkpoint;
// - the console shows no error.
//
// Prints one JSON object; exits 1 when a check fails. CHROMIUM overrides /usr/bin/chromium.

import { appendFileSync, copyFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [url, runDir, screenshot] = process.argv.slice(2);
if (!runDir) {
  console.error('usage: node web/test/check-serve.mjs URL RUN_DIR [SCREENSHOT.png]');
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
const result = { console_errors: [] };
const failed = [];
const until = (page, fn, arg, what) =>
  page.waitForFunction(fn, arg, { timeout: 20000, polling: 100 }).catch(() => {
    throw new Error(`timed out waiting for ${what}`);
  });
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  page.on('console', (m) => m.type() === 'error' && result.console_errors.push(m.text()));
  page.on('pageerror', (e) => result.console_errors.push(String(e)));
  await page.goto(url);
  await page.evaluate(() => window.dcganServe.ready);
  await until(
    page,
    () => window.dcganServe.runs().every((r) => r.shown_loaded && r.drawn_step !== null),
    null,
    'every run to show its grid and curves',
  );
  result.before = await page.evaluate(() => window.dcganServe.runs());

  // The run grows: five more log records and a new grid, as `dcgan train` would write them.
  const log = join(runDir, 'log.jsonl');
  const lines = readFileSync(log, 'utf8').trim().split('\n');
  const last = JSON.parse(lines[lines.length - 1]);
  const more = [1, 2, 3, 4, 5].map((k) =>
    JSON.stringify({
      ...last,
      step: last.step + k,
      loss_d: last.loss_d * (1 + 0.1 * k),
      ...(k === 5
        ? { fid: 321.5, kid: 0.25, prdc: [0.5, 0.2, 0.6, 0.3], eval_warning: 'step 11: recall fell at three evaluations in a row' }
        : {}),
    }));
  appendFileSync(log, `${more.join('\n')}\n`);
  const grids = readdirSync(join(runDir, 'samples')).filter((f) => f.endsWith('.png')).sort();
  const newest = `step-${String(last.step + 5).padStart(8, '0')}.png`;
  copyFileSync(join(runDir, 'samples', grids[0]), join(runDir, 'samples', newest));
  const want = { records: result.before[0].records + 5, step: last.step + 5, newest };
  await until(
    page,
    (w) => {
      const r = window.dcganServe.runs()[0];
      return r.records === w.records && r.drawn_step === w.step && r.shown.endsWith(w.newest) && r.shown_loaded;
    },
    want,
    `the page to show ${JSON.stringify(want)}`,
  );
  result.after = await page.evaluate(() => window.dcganServe.runs());
  result.slider = await page.evaluate(() => {
    const s = document.querySelector('.run input[type=range]');
    return { value: Number(s.value), max: Number(s.max) };
  });
  if (result.slider.value !== result.slider.max) failed.push(`slider not at the newest: ${JSON.stringify(result.slider)}`);
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });

  if (result.after[0].explorer) {
    const explore = await browser.newPage();
    explore.on('console', (m) => m.type() === 'error' && result.console_errors.push(`explorer: ${m.text()}`));
    explore.on('pageerror', (e) => result.console_errors.push(`explorer: ${e}`));
    const href = await page.getAttribute('.run a', 'href');
    await explore.goto(new URL(href, url).href);
    await until(explore, () => document.querySelectorAll('#grid canvas').length === 32, null, 'the explorer grid');
    result.explorer = await explore.evaluate(() => window.dcgan.info);
  }
  if (result.console_errors.length) failed.push(`console errors: ${result.console_errors}`);
} catch (e) {
  failed.push(String(e));
} finally {
  await browser.close();
}
result.failed = failed;
console.log(JSON.stringify(result));
process.exit(failed.length ? 1 : 0);
