// Calls to the server's API: same-origin fetches (the token travels in the HttpOnly cookie); a refusal becomes an
// Error whose message is the server's one line, with the field it is about.

export class ApiError extends Error {
  constructor(status, message, field) {
    super(message);
    this.status = status;
    this.field = field;
  }
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, v);
  }
  return q.toString();
}

async function check(res) {
  if (res.ok) return res;
  let body = {};
  try { body = await res.json(); } catch { /* not JSON */ }
  throw new ApiError(res.status, body.error || `${res.status} ${res.statusText}`, body.field);
}

export async function json(path, params = {}) {
  const res = await check(await fetch(`${path}?${query(params)}`, { credentials: 'same-origin' }));
  return res.json();
}

/** A PNG as an object URL, with the picture's fields (the X-Unetlens-Picture header) when it has them. */
export async function picture(path, params = {}) {
  const res = await check(await fetch(`${path}?${query(params)}`, { credentials: 'same-origin' }));
  const header = res.headers.get('X-Unetlens-Picture');
  return { url: URL.createObjectURL(await res.blob()), fields: header ? JSON.parse(header) : null };
}

/** A float16 frame: { header, values: Float32Array }. */
export async function float16(path, params = {}) {
  const res = await check(await fetch(`${path}?${query(params)}`, { credentials: 'same-origin' }));
  const buf = await res.arrayBuffer();
  const view = new DataView(buf);
  const n = view.getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, n)));
  const halves = new Uint16Array(buf, 4 + n);
  const values = new Float32Array(halves.length);
  for (let i = 0; i < halves.length; i++) values[i] = half(halves[i]);
  return { header, values };
}

function half(h) {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c !== undefined && c !== null && c !== false) e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

export function status(text, error = false) {
  const s = document.getElementById('status');
  s.textContent = text || '';
  s.classList.toggle('error', error);
}
