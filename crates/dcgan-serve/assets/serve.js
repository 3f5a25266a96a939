// `dcgan serve`'s page: each run's newest sample grid (older ones on a slider), its curves from
// log.jsonl, and a link to the explorer on its newest checkpoint, all kept up to date by asking
// the server every POLL_MS for what is new (the log from the byte where the last answer ended).
//
// For scripts and tests: window.dcganServe = { ready, runs() }, where runs() lists per run the
// records loaded, the grids known, the grid shown, the curves' last drawn step and their panels.

'use strict';

const POLL_MS = 1000;
const $ = (id) => document.getElementById(id);
const enc = encodeURIComponent;

async function getJson(url) {
  const r = await fetch(url, { cache: 'no-store' });
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.json();
}

// The curves' panels: what each draws, with its colour. A panel shows once a record has one of
// its fields (FID and KID only when the run evaluates).
const PANELS = [
  { title: 'losses', series: [['loss_d', '#c33', 'D'], ['loss_g', '#36c', 'G']] },
  {
    title: 'D(x) and D(G(z))',
    series: [['d_real', '#2a2', 'D(x)'], ['d_fake', '#c33', 'D(G(z)) D step'], ['d_fake_after', '#f90', 'D(G(z)) G step']],
  },
  { title: 'FID', series: [['fid', '#939', 'FID']] },
  { title: 'KID', series: [['kid', '#399', 'KID']] },
  {
    title: 'precision, recall, density, coverage',
    series: [['precision', '#1bc', 'precision'], ['recall', '#bb2', 'recall'], ['density', '#fb7', 'density'], ['coverage', '#e7c', 'coverage']],
  },
];

// A record's `prdc` array as the four fields the panels draw.
function withPrdc(r) {
  if (Array.isArray(r.prdc)) [r.precision, r.recall, r.density, r.coverage] = r.prdc;
  return r;
}

class Run {
  constructor(info) {
    this.info = info;
    this.records = [];
    this.logFrom = 0;
    this.logId = '';
    this.samples = [];
    this.follow = true; // the slider at its end follows new grids
    this.drawnStep = null;
    this.panels = [];
    const box = document.createElement('div');
    box.className = 'run';
    box.innerHTML = `
      <h2></h2><div class="meta"></div><div class="warning" hidden></div>
      <img alt="newest sample grid">
      <div class="history"><input type="range" min="0" max="0" value="0"><span></span></div>
      <canvas class="curves" width="520" height="300"></canvas>`;
    box.querySelector('h2').textContent = info.name;
    box.querySelector('.meta').textContent = info.dir ?? '';
    this.box = box;
    this.img = box.querySelector('img');
    this.slider = box.querySelector('input');
    this.label = box.querySelector('.history span');
    this.canvas = box.querySelector('canvas');
    this.slider.addEventListener('input', () => {
      this.follow = Number(this.slider.value) === this.samples.length - 1;
      this.showSample();
    });
    $('runs').appendChild(box);
  }

  async poll() {
    await Promise.all([this.pollLog(), this.pollSamples()]);
  }

  async pollLog() {
    let grew = false;
    for (;;) {
      const url = `api/runs/${enc(this.info.name)}/log?from=${this.logFrom}&id=${enc(this.logId)}`;
      const c = await getJson(url);
      if (c.id !== this.logId || c.reset) {
        this.records = [];
        grew = true;
      }
      this.logId = c.id;
      this.logFrom = c.next;
      if (c.records.length) {
        this.records.push(...c.records.map(withPrdc));
        grew = true;
      }
      if (c.next >= c.size || !c.records.length) break;
    }
    if (grew) this.drawCurves();
  }

  async pollSamples() {
    const list = await getJson(`api/runs/${enc(this.info.name)}/samples`);
    const changed =
      list.length !== this.samples.length ||
      list.some((s, i) => s.path !== this.samples[i].path);
    if (!changed) return;
    this.samples = list;
    this.slider.max = String(Math.max(0, list.length - 1));
    if (this.follow) this.slider.value = this.slider.max;
    this.showSample();
  }

  showSample() {
    const s = this.samples[Number(this.slider.value)];
    if (!s) {
      this.label.textContent = 'no grid yet';
      return;
    }
    // The grid files are rewritten in place only when a run is resumed: the step keys the URL.
    const src = `runs/${enc(this.info.name)}/${s.path.split('/').map(enc).join('/')}`;
    if (this.img.getAttribute('src') !== src) this.img.src = src;
    const at = s.step != null ? `step ${s.step}` : s.epoch != null ? `end of epoch ${s.epoch}` : s.path;
    this.label.textContent = `${at} (${Number(this.slider.value) + 1} of ${this.samples.length})`;
  }

  updateMeta(info) {
    this.info = info;
    const last = this.records[this.records.length - 1];
    const parts = [];
    if (info.image_size) parts.push(`${info.image_size}×${info.image_size}×${info.channels}`);
    if (info.recipe) parts.push(info.recipe.length ? info.recipe.join(', ') : "the paper's recipe");
    if (last) parts.push(`step ${last.step}, epoch ${last.epoch + 1}, ${Math.round(last.images_per_second)} images/s`);
    // The newest warning about the scores (recall or coverage falling), until a later
    // evaluation comes without one.
    const evaluated = this.records.filter((r) => r.fid != null || r.eval_error != null);
    const newest = evaluated[evaluated.length - 1];
    const warning = this.box.querySelector('.warning');
    warning.hidden = !newest?.eval_warning;
    warning.textContent = newest?.eval_warning ?? '';
    const meta = this.box.querySelector('.meta');
    meta.textContent = info.dir ? `${parts.join(' · ')} — ${info.dir} ` : `${parts.join(' · ')} `;
    if (info.explorer) {
      const a = document.createElement('a');
      a.href = `explore/${enc(info.name)}/`;
      a.textContent = `explore step ${info.checkpoint_step}`;
      a.target = '_blank';
      meta.appendChild(a);
    } else if (info.checkpoint_step == null) {
      meta.append('(explorer: no checkpoint yet)');
    } else {
      meta.append('(explorer: build it with bash scripts/build-web.sh)');
    }
  }

  drawCurves() {
    const panels = PANELS.filter((p) => this.records.some((r) => p.series.some(([k]) => r[k] != null)));
    const c = this.canvas;
    const h = 150 * Math.max(1, panels.length);
    if (c.height !== h) c.height = h;
    const ctx = c.getContext('2d');
    ctx.clearRect(0, 0, c.width, c.height);
    ctx.font = '11px system-ui, sans-serif';
    panels.forEach((p, i) => this.drawPanel(ctx, p, 0, i * 150, c.width, 150));
    this.panels = panels.map((p) => p.title);
    const last = this.records[this.records.length - 1];
    this.drawnStep = last ? last.step : null;
  }

  // One panel: its series against the step, each averaged over the records that share a pixel
  // column, so a long log draws as fast as a short one.
  drawPanel(ctx, panel, x0, y0, w, h) {
    const left = x0 + 52;
    const right = x0 + w - 8;
    const top = y0 + 18;
    const bottom = y0 + h - 18;
    const rs = this.records;
    const steps = rs.map((r) => r.step);
    const s0 = Math.min(...steps);
    const s1 = Math.max(s0 + 1, ...steps);
    let lo = Infinity;
    let hi = -Infinity;
    for (const r of rs) {
      for (const [k] of panel.series) {
        const v = r[k];
        if (v != null && Number.isFinite(v)) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
      }
    }
    if (!(hi > lo)) {
      hi = lo + 1;
      lo -= 1;
    }
    const px = (s) => left + ((s - s0) / (s1 - s0)) * (right - left);
    const py = (v) => bottom - ((v - lo) / (hi - lo)) * (bottom - top);
    ctx.strokeStyle = '#bbb';
    ctx.strokeRect(left, top, right - left, bottom - top);
    ctx.fillStyle = '#444';
    ctx.textAlign = 'right';
    const label = (v) => (v !== 0 && Math.abs(v) < 0.01 ? v.toExponential(1) : v.toPrecision(3));
    ctx.fillText(label(hi), left - 3, top + 8);
    ctx.fillText(label(lo), left - 3, bottom);
    ctx.textAlign = 'left';
    ctx.fillText(`step ${s0}`, left, bottom + 13);
    ctx.textAlign = 'right';
    ctx.fillText(`step ${s1}`, right, bottom + 13);
    ctx.textAlign = 'left';
    ctx.fillStyle = '#222';
    ctx.fillText(panel.title, x0 + 4, y0 + 11);
    let lx = x0 + 8 + ctx.measureText(panel.title).width + 10;
    for (const [k, colour, name] of panel.series) {
      const cols = new Map();
      for (const r of rs) {
        const v = r[k];
        if (v == null || !Number.isFinite(v)) continue;
        const col = Math.round(px(r.step));
        const a = cols.get(col) ?? [0, 0];
        a[0] += v;
        a[1] += 1;
        cols.set(col, a);
      }
      if (!cols.size) continue;
      ctx.strokeStyle = colour;
      ctx.fillStyle = colour;
      ctx.beginPath();
      let first = true;
      for (const [col, [sum, n]] of [...cols].sort((a, b) => a[0] - b[0])) {
        const y = py(sum / n);
        if (first) ctx.moveTo(col, y);
        else ctx.lineTo(col, y);
        first = false;
      }
      if (cols.size === 1) {
        const [[col, [sum, n]]] = [...cols];
        ctx.fillRect(col - 2, py(sum / n) - 2, 4, 4);
      }
      ctx.stroke();
      ctx.fillText(name, lx, y0 + 11);
      lx += ctx.measureText(name).width + 10;
    }
  }

  state() {
    return {
      name: this.info.name,
      records: this.records.length,
      samples: this.samples.length,
      shown: this.img.getAttribute('src'),
      shown_loaded: this.img.complete && this.img.naturalWidth > 0,
      drawn_step: this.drawnStep,
      panels: this.panels,
      warning: this.box.querySelector('.warning').hidden ? null : this.box.querySelector('.warning').textContent,
      explorer: this.info.explorer,
    };
  }
}

const runs = [];

async function refresh() {
  const infos = await getJson('api/runs');
  await Promise.all(runs.map((r) => r.poll()));
  infos.forEach((info, i) => runs[i].updateMeta(info));
}

async function start() {
  const infos = await getJson('api/runs');
  for (const info of infos) runs.push(new Run(info));
  await refresh();
  const loop = async () => {
    try {
      await refresh();
      $('status').textContent = `${runs.length} run${runs.length === 1 ? '' : 's'}, updated ${new Date().toLocaleTimeString()}`;
    } catch (e) {
      $('status').textContent = `cannot reach dcgan serve (${e.message}); retrying`;
    }
    setTimeout(loop, POLL_MS);
  };
  setTimeout(loop, POLL_MS);
  $('status').textContent = `${runs.length} run${runs.length === 1 ? '' : 's'}`;
}

const ready = start().catch((e) => {
  $('status').textContent = `could not load the runs: ${e.message}`;
  console.error(e);
  throw e;
});
window.dcganServe = { ready, runs: () => runs.map((r) => r.state()) };
