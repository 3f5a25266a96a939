// The DCGAN explorer: the generator runs in this page, in WebAssembly (dcgan_web.js).
//
// For scripts and tests: window.dcgan = { ready, info: {nz, nc, size, step, classes},
// generate(z, n), setClass(k), timings, latent(k) },
// where generate takes n·nz latent values and resolves to n·nc·size·size values in [-1, 1]
// (channel planes, rows, columns: the layout of `dcgan generate --out x.npy`), of the class
// chosen last for a class-conditional generator (`dcgan train --conditional`; classes lists
// its class names, empty otherwise).

import init, { WebGenerator } from './dcgan_web.js';

const $ = (id) => document.getElementById(id);

// Milliseconds since navigation began at which each stage ended (for window.dcgan.timings).
const timings = {};
const mark = (stage) => { timings[stage] = Math.round(performance.now()); };

async function load() {
  mark('script');
  const [, modelText] = await Promise.all([
    init().then(() => mark('wasm')),
    fetch('model.json').then((r) => r.text()),
  ]);
  const model = JSON.parse(modelText);
  const response = await fetch(model.weights);
  if (!response.ok) throw new Error(`${model.weights}: HTTP ${response.status}`);
  const weights = new Uint8Array(await response.arrayBuffer());
  mark('weights');
  const g = new WebGenerator(modelText, weights);
  mark('generator');
  return g;
}

const generator = load();
const api = {
  info: null,
  timings,
  ready: generator.then((g) => {
    api.info = { nz: g.nz(), nc: g.nc(), size: g.size(), step: Number(g.step()), classes: g.classes() };
  }),
  async setClass(k) {
    (await generator).setClass(k);
  },
  async generate(z, n) {
    return (await generator).generate(z instanceof Float32Array ? z : Float32Array.from(z), n);
  },
  // The latent of the grid's sample k (nz values).
  latent: (k) => Float32Array.from(latent(k)),
};
window.dcgan = api;

// Seeded normal latents (mulberry32 + Box–Muller), so a grid can be drawn again.
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function normals(count, seed) {
  const u = rng(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - u()));
    const a = 2 * Math.PI * u();
    out[i] = r * Math.cos(a);
    if (i + 1 < count) out[i + 1] = r * Math.sin(a);
  }
  return out;
}

// One image (values of image `k` in `data`) onto a canvas.
function draw(canvas, data, k, { nc, size }) {
  canvas.width = size;
  canvas.height = size;
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(size, size);
  const plane = size * size;
  const base = k * nc * plane;
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      const v = data[base + (nc === 1 ? 0 : c) * plane + p];
      img.data[4 * p + c] = Math.round(Math.min(1, Math.max(-1, v)) * 127.5 + 127.5);
    }
    img.data[4 * p + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

function lerp(a, b, t) {
  return a.map((x, i) => (1 - t) * x + t * b[i]);
}
function slerp(a, b, t) {
  const dot = a.reduce((s, x, i) => s + x * b[i], 0);
  const na = Math.hypot(...a);
  const nb = Math.hypot(...b);
  const omega = Math.acos(Math.min(1, Math.max(-1, dot / (na * nb))));
  if (omega < 1e-6) return lerp(a, b, t);
  const s = Math.sin(omega);
  return a.map((x, i) => (Math.sin((1 - t) * omega) / s) * x + (Math.sin(t * omega) / s) * b[i]);
}

function download(name, blob) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

// A float32 .npy of shape (n, nz), as `dcgan generate --latent` reads.
function npy(values, n, nz) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${n}, ${nz}), }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const head = new Uint8Array(10 + header.length);
  head.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 255, header.length >> 8]);
  for (let i = 0; i < header.length; i++) head[10 + i] = header.charCodeAt(i);
  return new Blob([head, new Float32Array(values).buffer], { type: 'application/octet-stream' });
}

// Several canvases side by side as one PNG.
function sheet(canvases, perRow) {
  const w = canvases[0].width;
  const rows = Math.ceil(canvases.length / perRow);
  const out = document.createElement('canvas');
  out.width = perRow * (w + 2) - 2;
  out.height = rows * (w + 2) - 2;
  const ctx = out.getContext('2d');
  canvases.forEach((c, i) => ctx.drawImage(c, (i % perRow) * (w + 2), Math.floor(i / perRow) * (w + 2)));
  return out;
}

const GRID = 32;
const STEPS = 10;
let latents = null;
let picked = [];
let walkFrames = [];

// The grid: the first sample alone (it shows at once), then the others in one batch.
async function newGrid(seed) {
  const { nz } = api.info;
  latents = normals(GRID * nz, seed);
  const grid = $('grid');
  grid.replaceChildren();
  picked = [];
  const cells = [];
  for (let k = 0; k < GRID; k++) {
    const c = document.createElement('canvas');
    c.title = `sample ${k}`;
    c.addEventListener('click', () => clicked(k, c));
    cells.push(c);
  }
  draw(cells[0], await api.generate(latents.subarray(0, nz), 1), 0, api.info);
  grid.appendChild(cells[0]);
  if (!timings.first_sample) mark('first_sample');
  const rest = await api.generate(latents.subarray(nz), GRID - 1);
  for (let k = 1; k < GRID; k++) {
    draw(cells[k], rest, k - 1, api.info);
    grid.appendChild(cells[k]);
  }
}

function latent(k) {
  const { nz } = api.info;
  return Array.from(latents.subarray(k * nz, (k + 1) * nz));
}

// A grid sample was clicked: a walk's end, or an exemplar for one of the sets (the mode menu).
function clicked(k, canvas) {
  const mode = $('mode').value;
  if (mode === 'walk') {
    base = latent(k);
    pick(k);
    direction();
  } else {
    const thumb = document.createElement('canvas');
    thumb.width = canvas.width;
    thumb.height = canvas.height;
    thumb.getContext('2d').drawImage(canvas, 0, 0);
    sets[mode].push({ z: latent(k), thumb });
    showSet(mode);
  }
}

async function pick(k) {
  picked = picked.length >= 2 ? [k] : [...picked, k];
  [...$('grid').children].forEach((c, i) => {
    c.classList.toggle('a', i === picked[0]);
    c.classList.toggle('b', i === picked[1]);
  });
  if (picked.length === 2) await walk();
}

async function walk() {
  if (picked.length !== 2) return;
  const [a, b] = picked.map(latent);
  const f = $('interp').value === 'slerp' ? slerp : lerp;
  const z = [];
  for (let i = 0; i < STEPS; i++) z.push(...f(a, b, i / (STEPS - 1)));
  const images = await api.generate(z, STEPS);
  const strip = $('walk');
  strip.replaceChildren();
  walkFrames = [];
  for (let i = 0; i < STEPS; i++) {
    const c = document.createElement('canvas');
    draw(c, images, i, api.info);
    strip.appendChild(c);
    walkFrames.push(c);
  }
  const anim = $('anim');
  anim.width = walkFrames[0].width;
  anim.height = walkFrames[0].height;
  anim.getContext('2d').drawImage(walkFrames[0], 0, 0);
}

// Exemplar sets: A − B + C, and a direction from L to R. Each keeps its exemplars' latents, so
// they survive a new grid.
const sets = { A: [], B: [], C: [], L: [], R: [] };
let base = null; // the latent the direction slider moves
let arithLatents = null;
let dirFrames = [];

function showSet(name) {
  const box = $(`set-${name}`);
  [...box.querySelectorAll('canvas')].forEach((c) => c.remove());
  sets[name].forEach((e, i) => {
    e.thumb.title = 'click to take it out';
    e.thumb.onclick = () => {
      sets[name].splice(i, 1);
      showSet(name);
    };
    box.appendChild(e.thumb);
  });
  if ('ABC'.includes(name)) arithmetic();
  else direction();
}

function mean(set) {
  const out = new Array(api.info.nz).fill(0);
  for (const e of set) e.z.forEach((v, i) => { out[i] += v / set.length; });
  return out;
}

// Draw `images` (n of them) into fresh canvases appended to the element `id`.
function fill(id, images, n, from = 0) {
  const box = $(id);
  box.replaceChildren();
  const out = [];
  for (let i = 0; i < n; i++) {
    const c = document.createElement('canvas');
    draw(c, images, from + i, api.info);
    box.appendChild(c);
    out.push(c);
  }
  return out;
}

// Y = mean(A) − mean(B) + mean(C) amid 8 neighbours Y + U(−0.25, 0.25) (seeded, so the same
// exemplars draw the same grid); the concept means drawn beside it.
async function arithmetic() {
  if (!sets.A.length || !sets.B.length || !sets.C.length) {
    $('arith').replaceChildren();
    $('arith-means').replaceChildren();
    arithLatents = null;
    return;
  }
  const [a, b, c] = [mean(sets.A), mean(sets.B), mean(sets.C)];
  const y = a.map((v, i) => v - b[i] + c[i]);
  const u = rng(7);
  const grid = [];
  for (let k = 0; k < 9; k++) grid.push(...(k === 4 ? y : y.map((v) => v + (u() * 2 - 1) * 0.25)));
  const images = await api.generate([...a, ...b, ...c, ...grid], 12);
  fill('arith-means', images, 3);
  fill('arith', images, 9, 3);
  arithLatents = Float32Array.from(grid);
}

// The slider and the strip along mean(R) − mean(L) (from the start set to the end set) from
// `base`.
let dirToken = 0;
async function direction() {
  if (!sets.L.length || !sets.R.length || !api.info) {
    $('dir-strip').replaceChildren();
    dirFrames = [];
    return;
  }
  const from = base ?? latent(0);
  const [l, r] = [mean(sets.L), mean(sets.R)];
  const d = r.map((v, i) => v - l[i]);
  const at = (t) => from.map((v, i) => v + t * d[i]);
  const t = Number($('dir-t').value);
  $('dir-t-label').textContent = `t = ${t.toFixed(1)}`;
  const token = ++dirToken;
  const one = await api.generate(at(t), 1);
  if (token !== dirToken) return; // a newer slider position is on its way
  draw($('dir-img'), one, 0, api.info);
  const ts = [-2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2];
  const strip = await api.generate(ts.flatMap(at), ts.length);
  if (token === dirToken) dirFrames = fill('dir-strip', strip, ts.length);
}

let animating = null;
function animate() {
  if (animating) {
    clearInterval(animating);
    animating = null;
    return;
  }
  if (!walkFrames.length) return;
  const anim = $('anim');
  let i = 0;
  let dir = 1;
  animating = setInterval(() => {
    anim.getContext('2d').drawImage(walkFrames[i], 0, 0);
    if (i + dir < 0 || i + dir >= walkFrames.length) dir = -dir;
    i += dir;
  }, 120);
}

api.ready
  .then(async () => {
    const { nz, nc, size, step } = api.info;
    const t0 = performance.now();
    await newGrid(1);
    $('status').textContent =
      `${size}×${size} ${nc === 1 ? 'grey' : 'RGB'} generator, latent size ${nz}, ` +
      (api.info.classes.length ? `class-conditional (${api.info.classes.length} classes), ` : '') +
      `trained ${step} steps; ${GRID} samples drawn in ${(performance.now() - t0).toFixed(0)} ms`;
    let seed = 1;
    if (api.info.classes.length) {
      // A class-conditional generator: every image is of the class picked here.
      const pick = $('class');
      api.info.classes.forEach((name, k) => pick.add(new Option(`${k}: ${name}`, String(k))));
      $('class-picker').hidden = false;
      pick.addEventListener('change', async () => {
        await api.setClass(Number(pick.value));
        await newGrid(seed);
      });
    }
    $('new').addEventListener('click', () => newGrid(++seed));
    $('png').addEventListener('click', () =>
      sheet([...$('grid').children], 8).toBlob((b) => download('samples.png', b)));
    $('npy').addEventListener('click', () => download('latents.npy', npy(latents, GRID, nz)));
    $('interp').addEventListener('change', walk);
    $('animate').addEventListener('click', animate);
    $('walkpng').addEventListener('click', () =>
      walkFrames.length && sheet(walkFrames, STEPS).toBlob((b) => download('walk.png', b)));
    $('arith-clear').addEventListener('click', () => {
      for (const k of 'ABC') {
        sets[k] = [];
        showSet(k);
      }
    });
    $('arith-png').addEventListener('click', () =>
      arithLatents && sheet([...$('arith').children], 3).toBlob((b) => download('arithmetic.png', b)));
    $('arith-npy').addEventListener('click', () =>
      arithLatents && download('arithmetic.npy', npy(arithLatents, 9, nz)));
    $('dir-t').addEventListener('input', direction);
    $('dir-clear').addEventListener('click', () => {
      sets.L = [];
      sets.R = [];
      showSet('L');
      showSet('R');
    });
    $('dir-png').addEventListener('click', () =>
      dirFrames.length && sheet(dirFrames, dirFrames.length).toBlob((b) => download('direction.png', b)));
  })
  .catch((e) => {
    $('status').textContent = `could not load the generator: ${e}`;
    console.error(e);
  });
