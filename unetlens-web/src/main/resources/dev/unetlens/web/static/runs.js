// Runs: every run under --runs with its manifest summary, thumbnail and the views that open it; filters by
// command, model and prompt text. A run whose manifest cannot be read is listed with its problem.
import { json, el, query, status } from './api.js';

export async function runsPage(main, params) {
  const form = el('form', { class: 'filters', onsubmit: e => e.preventDefault() },
    el('input', { type: 'search', name: 'q', placeholder: 'prompt or name', value: params.q || '' }),
    el('select', { name: 'command' }, ['', 'generate', 'extract', 'analyze', 'diff', 'sweep', 'viz']
      .map(c => el('option', { value: c, selected: c === (params.command || '') }, c || 'any command'))),
    el('input', { type: 'search', name: 'model', placeholder: 'model', value: params.model || '' }));
  const list = el('section', { class: 'runs', id: 'runs' });
  main.append(el('h1', {}, 'Runs'), form, list);
  const refresh = async () => {
    const f = Object.fromEntries(new FormData(form));
    const data = await json('/api/runs', f);
    list.replaceChildren(...(data.runs.length ? data.runs.map(card)
      : [el('p', { class: 'empty' }, `No runs under ${data.root} match.`)]));
    status(`${data.runs.length} run${data.runs.length === 1 ? '' : 's'} under ${data.root}`);
  };
  form.addEventListener('input', () => refresh().catch(e => status(e.message, true)));
  await refresh();
}

function card(r) {
  const thumb = r.thumbnail
    ? el('img', { class: 'thumb', alt: '', loading: 'lazy', src: `/api/thumb?${query({ run: r.id, path: r.thumbnail })}` })
    : el('div', { class: 'thumb none' }, r.problem ? '!' : '—');
  const views = r.views.filter(v => v !== 'files').map(v =>
    el('a', { class: 'view', href: `#/${v}?${query({ run: r.id })}` }, v));
  const facts = [
    ['model', r.model], ['seed', r.seed], ['scheduler', r.scheduler],
    ['when', r.created && new Date(r.created).toLocaleString()],
    ['took', r.seconds != null && `${r.seconds.toFixed(1)} s`], ['files', r.files || null],
  ].filter(([, v]) => v !== null && v !== undefined && v !== false);
  return el('article', { class: `run ${r.problem ? 'bad' : ''}`, 'data-run': r.id },
    thumb,
    el('div', { class: 'body' },
      el('h2', {}, r.id, ' ', el('span', { class: `badge ${r.status}` }, r.status)),
      el('div', { class: 'command' }, r.command || 'unknown command'),
      r.prompt ? el('div', { class: 'prompt' }, `“${r.prompt}”`) : null,
      el('dl', {}, facts.map(([k, v]) => [el('dt', {}, k), el('dd', {}, String(v))])),
      r.problem ? el('p', { class: 'problem' }, r.problem) : null,
      el('div', { class: 'views' }, views,
        r.problem && !r.files ? null : el('a', { class: 'view', href: `/api/file?${query({ run: r.id, path: 'manifest.json' })}` }, 'manifest'))));
}
