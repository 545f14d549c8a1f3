// Feature explorer (Dump U-Net's panel, live): a U-Net diagram of the dumped blocks to pick a module, a step slider
// (generation dumps) or image and sample pickers (image dumps), the channel grid drawn by the viz module with its
// colorizations and transforms, averaged maps, and a click on a tile to open that channel large with its values.
import { json, picture, float16, el, query, status, ApiError } from './api.js';

const COLORS = ['viridis', 'magma', 'white-black', 'red-blue', 'custom'];
const TRANSFORMS = [['', 'auto (by colour)'], ['auto01', 'Auto [0,1]'], ['auto11', 'Auto [-1,1]'],
  ['linear', 'Linear (min, max)'], ['sigmoid', 'Sigmoid (gain, offset)']];

export async function featuresPage(main, params) {
  if (!params.run) {
    main.append(el('h1', {}, 'Features'), el('p', {}, 'Open a run with feature maps from ', el('a', { href: '#/runs' }, 'Runs'), '.'));
    return;
  }
  const meta = await json('/api/features', { run: params.run });
  if (!meta.modules.length) {
    main.append(el('h1', {}, 'Features'), el('p', {}, `Run ${params.run} has no feature maps.`));
    return;
  }
  const state = {
    run: params.run,
    module: params.module || meta.modules[0].module,
    step: params.step ? +params.step : null, image: params.image || null, row: +(params.row || 0),
    color: params.color || 'viridis', transform: params.transform || '', a: '', b: '',
    rgb: params.rgb || '', hsl: params.hsl || '', scope: params.scope || 'shared', reduce: params.reduce || '',
    page: 1,
  };
  const view = new FeatureView(main, meta, state);
  await view.show();
}

class FeatureView {
  constructor(main, meta, state) {
    this.meta = meta;
    this.state = state;
    this.diagram = el('nav', { class: 'unet', 'aria-label': 'U-Net blocks' });
    this.controls = el('form', { class: 'controls', onsubmit: e => e.preventDefault() });
    this.grid = el('img', { class: 'grid', alt: 'channel grid', id: 'grid' });
    this.gridBox = el('div', { class: 'gridbox' }, this.grid);
    this.large = el('aside', { class: 'large', id: 'large', hidden: true });
    main.append(el('h1', {}, 'Features ', el('small', {}, state.run)),
      el('div', { class: 'explorer' }, this.diagram, el('div', { class: 'work' }, this.controls, this.gridBox), this.large));
    this.grid.addEventListener('click', e => this.clickTile(e));
    this.drawDiagram();
  }

  module() {
    return this.meta.modules.find(m => m.module === this.state.module) || this.meta.modules[0];
  }

  drawDiagram() {
    const side = m => (m.block || '').startsWith('IN') ? 'down' : (m.block || '').startsWith('OUT') ? 'up' : 'mid';
    const box = m => el('button', {
      type: 'button', class: `block ${m.module === this.state.module ? 'on' : ''}`, 'data-module': m.module,
      title: m.module, onclick: () => { this.state.module = m.module; this.state.page = 1; this.show(); },
    }, el('b', {}, m.block || '·'), el('span', {}, m.module), el('i', {}, `${m.shape[0]}×${m.shape[1]}×${m.shape[2]}`));
    const mods = this.meta.modules;
    this.diagram.replaceChildren(
      el('div', { class: 'col down' }, el('h3', {}, 'down'), mods.filter(m => side(m) === 'down').map(box)),
      el('div', { class: 'col mid' }, el('h3', {}, 'mid'), mods.filter(m => side(m) === 'mid').map(box)),
      el('div', { class: 'col up' }, el('h3', {}, 'up'), mods.filter(m => side(m) === 'up').reverse().map(box)));
  }

  drawControls() {
    const s = this.state;
    const m = this.module();
    const field = (label, input, name) => el('label', { 'data-field': name }, label, input);
    const parts = [];
    if (m.steps.length) {
      if (!m.steps.some(x => x.step === s.step)) s.step = m.steps[0].step;
      const i = m.steps.findIndex(x => x.step === s.step);
      const t = m.steps[i].timestep;
      parts.push(field(`step ${s.step} (t = ${t})`, el('input', {
        type: 'range', name: 'step', min: 0, max: m.steps.length - 1, value: i, id: 'step',
        oninput: e => { s.step = m.steps[+e.target.value].step; this.show(); },
      }), 'step'));
    }
    if (m.images.length) {
      if (!m.images.includes(s.image)) s.image = m.images[0];
      parts.push(field('image', el('select', { name: 'image', onchange: e => { s.image = e.target.value; this.show(); } },
        m.images.map(x => el('option', { value: x, selected: x === s.image }, x))), 'image'));
    }
    if (m.rows > 1) {
      parts.push(field(`sample (of ${m.rows})`, el('input', {
        type: 'number', name: 'row', min: 0, max: m.rows - 1, value: s.row,
        onchange: e => { s.row = +e.target.value; this.show(); },
      }), 'row'));
    }
    const sel = (name, options) => el('select', { name, onchange: e => { s[name] = e.target.value; this.show(); } },
      options.map(([v, t]) => el('option', { value: v, selected: v === s[name] }, t)));
    parts.push(field('colour', sel('color', COLORS.map(c => [c, c])), 'color'));
    parts.push(field('transform', sel('transform', TRANSFORMS), 'transform'));
    if (s.transform === 'linear' || s.transform === 'sigmoid') {
      const num = (k, ph) => el('input', { name: k, size: 6, placeholder: ph, value: s[k], onchange: e => { s[k] = e.target.value; this.show(); } });
      parts.push(field(s.transform === 'linear' ? 'min, max' : 'gain, offset',
        el('span', {}, num('a', s.transform === 'linear' ? '-1' : '1'), num('b', s.transform === 'linear' ? '1' : '0')), 'transform'));
    }
    if (s.color === 'custom') {
      const text = k => el('input', { name: k, size: 22, value: s[k], placeholder: k === 'rgb' ? 'v;0;-v' : '0.6-0.6*v;1;0.5',
        onchange: e => { s[k] = e.target.value; this.show(); } });
      parts.push(field('RGB', text('rgb'), 'rgb'), field('or HSL', text('hsl'), 'hsl'));
    }
    parts.push(field('scale', sel('scope', [['shared', 'one scale'], ['tile', 'per tile']]), 'scope'));
    parts.push(field('map', sel('reduce', [['', 'all channels'], ['mean', 'mean (sum / C)'], ['l1', '1-norm'], ['l2', '2-norm']]), 'reduce'));
    this.controls.replaceChildren(...parts, el('p', { class: 'field-error', id: 'field-error' }));
  }

  params() {
    const s = this.state;
    const transform = s.transform === 'linear' || s.transform === 'sigmoid'
      ? `${s.transform}(${s.a || (s.transform === 'linear' ? -1 : 1)},${s.b || (s.transform === 'linear' ? 1 : 0)})` : s.transform;
    const m = this.module();
    return {
      run: s.run, module: s.module, step: m.steps.length ? s.step : null, image: m.images.length ? s.image : null,
      row: s.row, color: s.color, transform, rgb: s.color === 'custom' ? s.rgb : null,
      hsl: s.color === 'custom' ? s.hsl : null, scope: s.scope,
    };
  }

  async show() {
    this.drawDiagram();
    this.drawControls();
    const s = this.state;
    history.replaceState(null, '', `#/features?${query({ run: s.run, module: s.module, step: s.step, image: s.image, row: s.row || null })}`);
    try {
      const p = this.params();
      const pic = s.reduce ? await picture('/api/features/reduced.png', { ...p, reduce: s.reduce })
        : await picture('/api/features/grid.png', { ...p, page: s.page });
      if (this.grid.src) URL.revokeObjectURL(this.grid.src);
      this.fields = s.reduce ? null : pic.fields;
      this.grid.src = pic.url;
      this.grid.dataset.module = s.module;
      this.grid.dataset.step = s.step ?? '';
      this.grid.dataset.layout = this.fields ? JSON.stringify(this.fields.layout) : '';
      status(s.reduce ? `${s.module}: ${s.reduce} over channels` : `${s.module}: click a tile to open its channel`);
    } catch (e) {
      this.fieldError(e);
    }
  }

  fieldError(e) {
    const box = this.controls.querySelector('#field-error');
    this.controls.querySelectorAll('[data-field]').forEach(l => l.classList.toggle('bad', e instanceof ApiError && l.dataset.field === e.field));
    box.textContent = e.message;
    status(e.message, true);
  }

  /** The channel under a click, from the grid's layout (origin, tile, pitch, columns, in picture pixels). */
  clickTile(e) {
    if (!this.fields || !this.fields.layout) return;
    const L = this.fields.layout;
    const k = this.grid.naturalWidth / this.grid.clientWidth;
    const x = e.offsetX * k - L.origin[0];
    const y = e.offsetY * k - L.origin[1];
    const col = Math.floor(x / L.pitch[0]);
    const row = Math.floor(y / L.pitch[1]);
    if (x < 0 || y < 0 || col >= L.columns || x - col * L.pitch[0] >= L.tile[0] || y - row * L.pitch[1] >= L.tile[1]) return;
    const i = row * L.columns + col;
    const channels = this.fields.channelRange
      ? Array.from({ length: this.fields.channelRange[1] - this.fields.channelRange[0] + 1 }, (_, j) => this.fields.channelRange[0] + j)
      : this.fields.channels;
    if (i < channels.length) this.openChannel(channels[i]).catch(err => status(err.message, true));
  }

  async openChannel(c) {
    const p = this.params();
    const range = this.state.scope === 'shared' && this.fields && this.fields.range ? { lo: this.fields.range[0], hi: this.fields.range[1] } : {};
    const [pic, data] = await Promise.all([
      picture('/api/features/tile.png', { ...p, channel: c, size: 384, ...range }),
      float16('/api/features/values', { ...p, channel: c })]);
    const [h, w] = data.header.shape;
    const img = el('img', { class: 'channel', src: pic.url, alt: `channel ${c}`, id: 'channel' });
    const readout = el('output', { class: 'readout', id: 'readout' }, 'move over the map');
    img.addEventListener('mousemove', ev => {
      const col = Math.min(w - 1, Math.floor(ev.offsetX / img.clientWidth * w));
      const row = Math.min(h - 1, Math.floor(ev.offsetY / img.clientHeight * h));
      readout.textContent = `(${row}, ${col}) = ${data.values[row * w + col].toPrecision(4)}`;
    });
    this.large.hidden = false;
    this.large.replaceChildren(
      el('h2', {}, `channel ${c}`, el('button', { type: 'button', class: 'close', onclick: () => { this.large.hidden = true; } }, '×')),
      img, readout,
      el('p', { class: 'muted' }, `${h}×${w} · min ${data.header.min.toPrecision(4)} · max ${data.header.max.toPrecision(4)}`));
  }
}
