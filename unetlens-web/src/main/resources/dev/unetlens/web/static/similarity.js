// Similarity explorer (Loos & Linhardt's page, on your own dumps): a token of image A against every token of A and
// of B with one of analyze similarity's seven measures, computed on the server by the same code. Hover over A to
// follow the cursor, click to pin a token. Maps are drawn as analyze similarity draws them: red with opacity s for
// s > 0, blue with opacity −s below 0, over the image.
import { json, float16, el, query, status } from './api.js';

const MEASURES = ['cosine', 'cosine_centered', 'dot-product', 'manhattan', 'euclidean', 'chebyshev', 'rel-l2-norm'];
const SIDE = 320;

export async function similarityPage(main, params) {
  if (!params.run) {
    main.append(el('h1', {}, 'Similarity'), el('p', {}, 'Open an image dump (extract --images) from ', el('a', { href: '#/runs' }, 'Runs'), '.'));
    return;
  }
  const meta = await json('/api/features', { run: params.run });
  const modules = meta.modules.filter(m => m.images.length);
  if (!modules.length) {
    main.append(el('h1', {}, 'Similarity'), el('p', {}, `Run ${params.run} is not an image dump.`));
    return;
  }
  const images = modules[0].images;
  const s = {
    run: params.run, module: params.module || modules[0].module, a: params.a || images[0],
    b: params.b || images[Math.min(1, images.length - 1)], measure: params.measure || 'cosine', token: null, pinned: false,
  };
  const sel = (name, options, label) => el('label', {}, label, el('select', {
    name, onchange: e => { s[name] = e.target.value; reload(); },
  }, options.map(o => el('option', { value: o, selected: o === s[name] }, o))));
  const controls = el('form', { class: 'controls', onsubmit: e => e.preventDefault() },
    sel('module', modules.map(m => m.module), 'module'), sel('a', images, 'image A'), sel('b', images, 'image B'),
    sel('measure', MEASURES, 'measure'));
  const panel = (id, title) => {
    const canvas = el('canvas', { id, width: SIDE, height: SIDE, class: 'simmap' });
    return { canvas, box: el('figure', { class: 'simpanel' }, canvas, el('figcaption', {}, title)), img: null };
  };
  const A = panel('sim-a', 'A: hover or click a token');
  const B = panel('sim-b', 'B');
  const readout = el('output', { id: 'sim-readout', class: 'readout' }, 'hover over A');
  main.append(el('h1', {}, 'Similarity ', el('small', {}, s.run)), controls, el('div', { class: 'simpanels' }, A.box, B.box), readout);

  let frame = null;
  let inflight = false;
  let queued = null;

  async function loadImage(p, name) {
    p.img = null;
    try {
      const res = await fetch(`/api/similarity/image?${query({ run: s.run, image: name })}`, { credentials: 'same-origin' });
      if (res.ok) p.img = await createImageBitmap(await res.blob());
    } catch { /* drawn without the image */ }
  }

  async function reload() {
    frame = null;
    await Promise.all([loadImage(A, s.a), loadImage(B, s.b)]);
    const m = modules.find(x => x.module === s.module);
    s.shape = m.shape;
    A.canvas.dataset.shape = `${m.shape[1]},${m.shape[2]}`;
    draw();
    if (s.token) request(s.token);
  }

  function draw() {
    for (const [p, which] of [[A, 'a'], [B, 'b']]) {
      const g = p.canvas.getContext('2d');
      g.fillStyle = '#333';
      g.fillRect(0, 0, SIDE, SIDE);
      if (p.img) g.drawImage(p.img, 0, 0, SIDE, SIDE);
      if (!frame) continue;
      const [h, w] = frame.header[which].shape;
      const off = which === 'a' ? 0 : frame.header.a.shape[0] * frame.header.a.shape[1];
      for (let r = 0; r < h; r++) {
        for (let c = 0; c < w; c++) {
          const v = frame.values[off + r * w + c];
          g.fillStyle = v >= 0 ? `rgba(255,0,0,${Math.min(1, v)})` : `rgba(0,0,255,${Math.min(1, -v)})`;
          g.fillRect(c * SIDE / w, r * SIDE / h, SIDE / w + 0.5, SIDE / h + 0.5);
        }
      }
      if (which === 'a' && s.token) {
        g.strokeStyle = '#0f0';
        g.lineWidth = 2;
        g.strokeRect(s.token[1] * SIDE / w, s.token[0] * SIDE / h, SIDE / w, SIDE / h);
      }
    }
  }

  async function request(token) {
    if (inflight) { queued = token; return; }
    inflight = true;
    try {
      const t0 = performance.now();
      frame = await float16('/api/similarity', { run: s.run, module: s.module, a: s.a, b: s.b, measure: s.measure, token: token.join(',') });
      const ms = performance.now() - t0;
      s.token = token;
      draw();
      A.canvas.dataset.token = token.join(',');
      readout.textContent = `token (${token[0]}, ${token[1]}) · ${frame.header.measure} · range ${frame.header.min.toPrecision(3)} … ${frame.header.max.toPrecision(3)} · server ${frame.header.compute_ms.toFixed(1)} ms, round trip ${ms.toFixed(0)} ms`;
      status(frame.header.formula);
    } catch (e) {
      status(e.message, true);
    } finally {
      inflight = false;
      if (queued) { const q = queued; queued = null; request(q); }
    }
  }

  const tokenAt = ev => {
    const [, h, w] = s.shape;
    return [Math.min(h - 1, Math.floor(ev.offsetY / A.canvas.clientHeight * h)), Math.min(w - 1, Math.floor(ev.offsetX / A.canvas.clientWidth * w))];
  };
  A.canvas.addEventListener('mousemove', ev => { if (!s.pinned) request(tokenAt(ev)); });
  A.canvas.addEventListener('click', ev => { s.pinned = true; request(tokenAt(ev)); });
  B.canvas.addEventListener('mousemove', ev => {
    if (!frame) return;
    const [h, w] = frame.header.b.shape;
    const r = Math.min(h - 1, Math.floor(ev.offsetY / B.canvas.clientHeight * h));
    const c = Math.min(w - 1, Math.floor(ev.offsetX / B.canvas.clientWidth * w));
    const v = frame.values[frame.header.a.shape[0] * frame.header.a.shape[1] + r * w + c];
    readout.textContent = `B (${r}, ${c}) = ${v.toPrecision(4)}`;
  });
  await reload();
}
