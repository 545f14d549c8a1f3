// Anomaly labeler (the paper's Flask tool, better): the norm map of each image of a dump beside the image; a left
// click marks the upper-left token of a 2×2 high-norm anomaly, a click on a mark removes it, a right click (or → / n)
// goes to the next image, ← / p to the previous. The detector's candidates (analyze anomalies' median + k·MAD
// patches) are pre-marked, dashed; a click on one accepts it as a label. Labels are saved (atomically, on the server)
// after every change; export and import the paper's .npy of (image, x, y), or JSON.
import { json, el, query, status } from './api.js';

const SIDE = 384;

export async function labelerPage(main, params) {
  if (!params.run) {
    main.append(el('h1', {}, 'Labeler'), el('p', {}, 'Open an image dump (extract --images) from ', el('a', { href: '#/runs' }, 'Runs'), '.'));
    return;
  }
  const meta = await json('/api/features', { run: params.run });
  const modules = meta.modules.filter(m => m.images.length);
  if (!modules.length) {
    main.append(el('h1', {}, 'Labeler'), el('p', {}, `Run ${params.run} is not an image dump.`));
    return;
  }
  const s = { run: params.run, module: params.module || modules[modules.length - 1].module, index: +(params.i || 0), k: params.k || '6' };
  let candidates = [];
  let asked = 0;
  let labels = (await json('/api/labels', { run: s.run })).labels.map(l => ({ image: l.image, x: l.x, y: l.y }));
  const images = modules[0].images;

  const moduleSel = el('select', { name: 'module', onchange: e => { s.module = e.target.value; show(); } },
    modules.map(m => el('option', { value: m.module, selected: m.module === s.module }, `${m.block || ''} ${m.module}`)));
  const position = el('span', { id: 'position' });
  const list = el('ol', { class: 'imagelist', id: 'imagelist' });
  const fileInput = el('input', { type: 'file', accept: '.npy', id: 'import', onchange: e => importNpy(e.target.files[0]) });
  const toolbar = el('div', { class: 'controls' },
    el('label', {}, 'module', moduleSel),
    el('button', { type: 'button', onclick: () => go(-1) }, '◀'), position, el('button', { type: 'button', onclick: () => go(1) }, '▶'),
    el('a', { class: 'view', href: `/api/labels.npy?${query({ run: s.run })}`, download: 'anomaly-labels.npy' }, 'export .npy'),
    el('a', { class: 'view', href: `/api/labels?${query({ run: s.run })}`, download: 'anomaly-labels.json' }, 'export JSON'),
    el('label', {}, 'import .npy', fileInput),
    el('label', { 'data-field': 'k' }, 'detector k (·MAD)', el('input', { name: 'k', type: 'number', min: 0.5, max: 100, step: 0.5, value: s.k, size: 4,
      onchange: e => { s.k = e.target.value; show(); } })),
    el('span', { id: 'candidate-count', class: 'muted' }));
  const image = el('img', { class: 'labelimg', alt: '' });
  const norm = el('img', { class: 'labelimg', alt: 'norm map' });
  const overlay = el('canvas', { id: 'marks', width: SIDE, height: SIDE, class: 'marks' });
  main.append(el('h1', {}, 'Anomaly labeler ', el('small', {}, s.run)), toolbar,
    el('div', { class: 'labeler' }, list,
      el('figure', { class: 'simpanel' }, image, el('figcaption', {}, 'image')),
      el('figure', { class: 'simpanel stack' }, norm, overlay, el('figcaption', {}, 'L2 norm over channels: click the upper-left token of a 2×2 anomaly'))),
    el('p', { class: 'muted' }, 'left click: mark / unmark · right click, → or n: next image · ← or p: previous'));

  const shape = () => modules.find(m => m.module === s.module).shape;
  const marks = () => labels.filter(l => l.image === images[s.index]);

  function drawList() {
    list.replaceChildren(...images.map((name, i) => el('li', { class: i === s.index ? 'on' : '' },
      el('a', { href: '#', onclick: e => { e.preventDefault(); s.index = i; show(); } }, name),
      ' ', el('span', { class: 'count', 'data-image': name }, String(labels.filter(l => l.image === name).length)))));
    position.textContent = `image ${s.index + 1} of ${images.length}: ${images[s.index]}`;
  }

  function drawMarks() {
    const [, h, w] = shape();
    const g = overlay.getContext('2d');
    g.clearRect(0, 0, SIDE, SIDE);
    g.strokeStyle = 'rgba(255,255,255,0.15)';
    for (let i = 1; i < w; i++) { g.beginPath(); g.moveTo(i * SIDE / w, 0); g.lineTo(i * SIDE / w, SIDE); g.stroke(); }
    for (let i = 1; i < h; i++) { g.beginPath(); g.moveTo(0, i * SIDE / h); g.lineTo(SIDE, i * SIDE / h); g.stroke(); }
    g.strokeStyle = '#00e5ff';
    g.lineWidth = 3;
    for (const m of marks()) g.strokeRect(m.x * SIDE / w + 1.5, m.y * SIDE / h + 1.5, 2 * SIDE / w - 3, 2 * SIDE / h - 3);
    overlay.dataset.marks = marks().map(m => `${m.x},${m.y}`).join(' ');
    const open = openCandidates();
    g.strokeStyle = '#ffb000';
    g.lineWidth = 2;
    g.setLineDash([5, 4]);
    for (const c of open) g.strokeRect(c.col * SIDE / w + 1, c.row * SIDE / h + 1, c.cols * SIDE / w - 2, c.rows * SIDE / h - 2);
    g.setLineDash([]);
    overlay.dataset.candidates = open.map(c => `${c.x},${c.y}`).join(' ');
  }

  /** The detector's candidates on this image that no label has taken yet. */
  function openCandidates() {
    return candidates.filter(c => !marks().some(m => m.x === c.x && m.y === c.y));
  }

  async function loadCandidates() {
    const ask = ++asked;
    const counter = toolbar.querySelector('#candidate-count');
    const k = toolbar.querySelector('[data-field=k]');
    try {
      const got = await json('/api/labels/candidates', { run: s.run, module: s.module, image: images[s.index], k: s.k });
      if (ask !== asked) return;
      candidates = got.candidates;
      k.classList.remove('bad');
      counter.textContent = `${candidates.length} candidate${candidates.length === 1 ? '' : 's'} above ${got.threshold.toPrecision(4)} (dashed: click to accept)`;
    } catch (e) {
      if (ask !== asked) return;
      candidates = [];
      k.classList.toggle('bad', e.field === 'k');
      counter.textContent = '';
      status(e.message, true);
    }
    drawMarks();
  }

  async function save() {
    const res = await fetch(`/api/labels?${query({ run: s.run })}`, {
      method: 'PUT', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ labels }),
    });
    const body = await res.json();
    if (!res.ok) { status(body.error, true); return; }
    overlay.dataset.saved = String(body.labels.length);
    status(`saved ${body.labels.length} label${body.labels.length === 1 ? '' : 's'}`);
  }

  async function importNpy(file) {
    if (!file) return;
    const res = await fetch(`/api/labels.npy?${query({ run: s.run })}`, { method: 'POST', credentials: 'same-origin', body: file });
    const body = await res.json();
    if (!res.ok) { status(body.error, true); return; }
    labels = body.labels.map(l => ({ image: l.image, x: l.x, y: l.y }));
    status(`imported ${labels.length} labels`);
    show();
  }

  function go(d) {
    s.index = (s.index + d + images.length) % images.length;
    show();
  }

  overlay.addEventListener('click', ev => {
    const [, h, w] = shape();
    const x = Math.min(w - 1, Math.floor(ev.offsetX / overlay.clientWidth * w));
    const y = Math.min(h - 1, Math.floor(ev.offsetY / overlay.clientHeight * h));
    const image = images[s.index];
    const hit = labels.findIndex(l => l.image === image && x >= l.x && x <= l.x + 1 && y >= l.y && y <= l.y + 1);
    const candidate = openCandidates().find(c => x >= c.col && x < c.col + c.cols && y >= c.row && y < c.row + c.rows);
    if (hit >= 0) labels.splice(hit, 1);
    else if (candidate) labels.push({ image, x: candidate.x, y: candidate.y });
    else labels.push({ image, x: Math.min(x, w - 2), y: Math.min(y, h - 2) });
    drawMarks();
    drawList();
    save();
  });
  overlay.addEventListener('contextmenu', ev => { ev.preventDefault(); go(1); });
  const keys = ev => {
    if (!document.body.contains(overlay)) { document.removeEventListener('keydown', keys); return; }
    if (ev.target.tagName === 'INPUT' || ev.target.tagName === 'SELECT') return;
    if (ev.key === 'ArrowRight' || ev.key === 'n') go(1);
    if (ev.key === 'ArrowLeft' || ev.key === 'p') go(-1);
  };
  document.addEventListener('keydown', keys);

  function show() {
    const name = images[s.index];
    history.replaceState(null, '', `#/labeler?${query({ run: s.run, module: s.module, i: s.index || null, k: s.k === '6' ? null : s.k })}`);
    candidates = [];
    image.src = `/api/similarity/image?${query({ run: s.run, image: name })}`;
    norm.src = `/api/features/tile.png?${query({ run: s.run, module: s.module, image: name, reduce: 'l2', size: SIDE })}`;
    overlay.dataset.image = name;
    drawList();
    drawMarks();
    loadCandidates();
  }
  show();
}
