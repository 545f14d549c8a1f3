// Attention (DAAM and Dump U-Net's attention view, live) over a generation dump with attention probabilities:
// per word the DAAM heat map over the image, aggregated over the chosen blocks, heads and steps; per block, head and
// step the raw cross-attention maps; for a self-attention, a click on the image shows where that position looks.
// Every picture is drawn on the server by the viz module; this page only navigates.
import { json, picture, el, query, status, ApiError } from './api.js';

const SIDE = 256;

/** A token label as the pictures show it (viz Tokens.display). */
function display(t) {
  if (t === '<|startoftext|>') return '[SOT]';
  if (t === '<|endoftext|>') return '[EOT]';
  return t.endsWith('</w>') ? t.slice(0, -4) : t;
}

const special = t => t === '<|startoftext|>' || t === '<|endoftext|>';

export async function attentionPage(main, params) {
  if (!params.run) {
    main.append(el('h1', {}, 'Attention'), el('p', {}, 'Open a generation dump with attention probabilities (extract --prompt … --at "…attn2:probs, …attn1:probs") from ', el('a', { href: '#/runs' }, 'Runs'), '.'));
    return;
  }
  const meta = await json('/api/attention', { run: params.run });
  main.append(el('h1', {}, 'Attention ', el('small', {}, `${params.run} · “${meta.prompt}”`)));
  const grid = el('div', { class: 'attn' });
  main.append(grid);
  const cross = meta.modules.filter(m => m.kind === 'cross');
  const self = meta.modules.filter(m => m.kind === 'self');
  if (cross.length) grid.append(wordsPanel(params.run, meta, cross));
  if (self.length) grid.append(selfPanel(params.run, meta, self));
  if (cross.length) main.append(mapsPanel(params.run, meta, cross));
  status(`${cross.length} cross- and ${self.length} self-attention modules`);
}

const field = (label, input, name) => el('label', { 'data-field': name }, label, input);

/** Shows an API error at its field (the label whose data-field it names) and in the panel's error line. */
function fieldError(form, e) {
  form.querySelectorAll('[data-field]').forEach(l => l.classList.toggle('bad', e instanceof ApiError && l.dataset.field === e.field));
  form.querySelector('.field-error').textContent = e.message;
  status(e.message, true);
}

function clearError(form) {
  form.querySelectorAll('[data-field]').forEach(l => l.classList.remove('bad'));
  form.querySelector('.field-error').textContent = '';
}

async function show(img, path, params) {
  const pic = await picture(path, params);
  if (img.src) URL.revokeObjectURL(img.src);
  img.src = pic.url;
  return pic.fields;
}

function wordsPanel(run, meta, cross) {
  const s = { token: null, heads: '', steps: '', normalize: true };
  const modules = el('select', { name: 'modules', multiple: true, size: Math.min(4, cross.length), onchange: () => draw() },
    cross.map(m => el('option', { value: m.module, selected: meta.daam.includes(m.module) }, m.module)));
  const text = (name, placeholder) => el('input', { name, size: 8, placeholder, onchange: e => { s[name] = e.target.value; draw(); } });
  const form = el('form', { class: 'controls', onsubmit: e => e.preventDefault() },
    field('blocks (DAAM’s by default)', modules, 'modules'), field('heads', text('heads', 'all'), 'heads'),
    field('steps', text('steps', 'all'), 'steps'),
    field('normalise over tokens', el('input', { type: 'checkbox', name: 'normalize', checked: true, onchange: e => { s.normalize = e.target.checked; draw(); } }), 'normalize'),
    el('p', { class: 'field-error' }));
  const tokens = el('div', { class: 'tokens', id: 'tokens' }, meta.tokens.map((t, i) => el('button', {
    type: 'button', class: `token ${special(t) ? 'special' : ''}`, 'data-token': i, title: `token ${i}: ${t}`,
    onclick: () => { s.token = i; draw(); },
  }, display(t))));
  const img = el('img', { class: 'pic', id: 'heat', alt: 'DAAM heat map' });
  const hint = el('p', { class: 'muted' }, 'Pick a word of the prompt.');

  async function draw() {
    tokens.querySelectorAll('button').forEach(b => b.classList.toggle('on', +b.dataset.token === s.token));
    if (s.token === null) return;
    clearError(form);
    const chosen = [...modules.selectedOptions].map(o => o.value);
    try {
      const fields = await show(img, '/api/attention/heat.png', {
        run, token: s.token, modules: chosen.join(','), heads: s.heads, steps: s.steps, normalize: s.normalize,
      });
      img.dataset.token = s.token;
      hint.textContent = `${display(meta.tokens[s.token])}: ${fields.maps} maps of ${fields.modules.length} blocks, heads ${fields.heads.join(',')}, steps ${fields.steps.join(',')}`;
    } catch (e) {
      fieldError(form, e);
    }
  }
  return el('section', { class: 'panel', id: 'words' }, el('h2', {}, 'Words: DAAM heat maps'), form, tokens, hint, img);
}

function mapsPanel(run, meta, cross) {
  const s = { module: cross[0].module, step: cross[0].steps.at(-1), heads: '', tokens: '', scope: 'shared' };
  const form = el('form', { class: 'controls', onsubmit: e => e.preventDefault() });
  const img = el('img', { class: 'pic wide', id: 'maps', alt: 'cross-attention maps' });
  function controls() {
    const m = cross.find(x => x.module === s.module);
    if (!m.steps.includes(s.step)) s.step = m.steps.at(-1);
    const text = (name, placeholder) => el('input', { name, size: 8, placeholder, value: s[name], onchange: e => { s[name] = e.target.value; draw(); } });
    form.replaceChildren(
      field('block', el('select', { name: 'module', onchange: e => { s.module = e.target.value; controls(); draw(); } },
        cross.map(x => el('option', { value: x.module, selected: x.module === s.module }, x.module))), 'module'),
      field(`step ${s.step}`, el('input', { type: 'range', name: 'step', id: 'maps-step', min: 0, max: m.steps.length - 1,
        value: m.steps.indexOf(s.step), oninput: e => { s.step = m.steps[+e.target.value]; controls(); draw(); } }), 'step'),
      field(`heads (of ${m.heads})`, text('heads', 'all'), 'heads'), field('tokens', text('tokens', 'prompt'), 'tokens'),
      field('scale', el('select', { name: 'scope', onchange: e => { s.scope = e.target.value; draw(); } },
        [['shared', 'one scale'], ['tile', 'per tile']].map(([v, t]) => el('option', { value: v, selected: v === s.scope }, t))), 'scope'),
      el('p', { class: 'field-error' }));
  }
  async function draw() {
    clearError(form);
    try {
      await show(img, '/api/attention/maps.png', { run, module: s.module, step: s.step, heads: s.heads, tokens: s.tokens, scope: s.scope });
      img.dataset.module = s.module;
      img.dataset.step = s.step;
    } catch (e) {
      fieldError(form, e);
    }
  }
  controls();
  draw();
  return el('section', { class: 'panel', id: 'raw' }, el('h2', {}, 'Cross-attention maps: heads × tokens'), form, img);
}

function selfPanel(run, meta, self) {
  const s = { module: self[0].module, step: self[0].steps.at(-1), heads: '', query: null };
  const form = el('form', { class: 'controls', onsubmit: e => e.preventDefault() });
  const canvas = el('canvas', { id: 'self-image', width: SIDE, height: SIDE, class: 'selfimg' });
  const img = el('img', { class: 'pic', id: 'self-map', alt: 'self-attention map' });
  let base = null;
  function controls() {
    const m = self.find(x => x.module === s.module);
    if (!m.steps.includes(s.step)) s.step = m.steps.at(-1);
    form.replaceChildren(
      field('block', el('select', { name: 'module', onchange: e => { s.module = e.target.value; s.query = null; controls(); paint(); img.removeAttribute('src'); } },
        self.map(x => el('option', { value: x.module, selected: x.module === s.module }, x.module))), 'module'),
      field(`step ${s.step}`, el('input', { type: 'range', name: 'step', min: 0, max: m.steps.length - 1, value: m.steps.indexOf(s.step),
        oninput: e => { s.step = m.steps[+e.target.value]; controls(); draw(); } }), 'step'),
      field(`heads (of ${m.heads})`, el('input', { name: 'heads', size: 8, placeholder: 'all', value: s.heads, onchange: e => { s.heads = e.target.value; draw(); } }), 'heads'),
      el('p', { class: 'field-error' }));
  }
  function paint() {
    const g = canvas.getContext('2d');
    g.fillStyle = '#333';
    g.fillRect(0, 0, SIDE, SIDE);
    if (base) g.drawImage(base, 0, 0, SIDE, SIDE);
    if (!s.query) return;
    const [h, w] = self.find(x => x.module === s.module).map;
    g.strokeStyle = '#0f0';
    g.lineWidth = 2;
    g.strokeRect(s.query[1] * SIDE / w, s.query[0] * SIDE / h, SIDE / w, SIDE / h);
  }
  async function draw() {
    if (!s.query) return;
    clearError(form);
    try {
      await show(img, '/api/attention/self.png', { run, module: s.module, step: s.step, heads: s.heads, y: s.query[0], x: s.query[1] });
      img.dataset.query = s.query.join(',');
    } catch (e) {
      fieldError(form, e);
    }
  }
  canvas.addEventListener('click', ev => {
    const [h, w] = self.find(x => x.module === s.module).map;
    s.query = [Math.min(h - 1, Math.floor(ev.offsetY / canvas.clientHeight * h)), Math.min(w - 1, Math.floor(ev.offsetX / canvas.clientWidth * w))];
    paint();
    draw();
  });
  if (meta.image) {
    fetch(`/api/file?${query({ run, path: meta.image })}`, { credentials: 'same-origin' })
      .then(r => (r.ok ? r.blob() : null)).then(b => (b ? createImageBitmap(b) : null))
      .then(b => { base = b; paint(); }).catch(() => paint());
  }
  controls();
  paint();
  return el('section', { class: 'panel', id: 'self' }, el('h2', {}, 'Self-attention: click a position'), form,
    el('div', { class: 'selfrow' }, el('figure', { class: 'simpanel' }, canvas, el('figcaption', {}, meta.image ? 'the image: click where to look from' : 'no image in this run: click a position')), img));
}
