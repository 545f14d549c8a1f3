// Jobs: start generate, extract or analyze from a form with the CLI's own options (checked by the CLI's parser on
// the server; a bad value is shown at its field), follow every job live (server-sent events: phase, step, time
// left), cancel one; a finished job's run appears under Runs.
import { json, el, query, status, ApiError } from './api.js';

const MAIN = ['--prompt', '--negative-prompt', '--images', '--at', '--at-steps', '--token', '--measure', '--steps',
  '--seed', '--guidance', '--scheduler', '--height', '--width', '--timestep', '--timesteps', '--samples', '--labels', '--k',
  '--seeds'];

export async function jobsPage(main) {
  const data = await json('/api/jobs');
  const form = el('form', { class: 'jobform', id: 'jobform', onsubmit: e => { e.preventDefault(); submit(); } });
  const list = el('section', { class: 'jobs', id: 'jobs' });
  main.append(el('h1', {}, 'Jobs'), form, el('h2', { class: 'sub' }, 'Queue'), list);
  const cards = new Map();
  const command = el('select', { name: 'command', id: 'command', onchange: () => fields() }, data.commands.map(c => el('option', { value: c }, c)));
  const out = el('input', { name: 'out', id: 'out', required: true, size: 28 });
  const box = el('div', { class: 'fields' });
  const error = el('p', { class: 'field-error', id: 'job-error' });

  let asked = 0;
  async function fields() {
    const ask = ++asked;
    form.dataset.ready = 'false';
    const opts = await json('/api/jobs/options', { command: command.value });
    if (ask !== asked) return;                     // the command changed again meanwhile: a later call draws
    out.value = `${command.value.replace(' ', '-')}-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '')}`;
    const input = o => o.flag ? el('input', { type: 'checkbox', name: o.name })
      : el('input', { name: o.name, placeholder: o.defaultValue ?? o.label, size: 18 });
    const field = o => el('label', { 'data-field': o.name, title: o.description }, o.name, input(o));
    const main = opts.filter(o => MAIN.includes(o.name)).sort((a, b) => MAIN.indexOf(a.name) - MAIN.indexOf(b.name));
    const more = opts.filter(o => !MAIN.includes(o.name));
    box.replaceChildren(...main.map(field), el('details', {}, el('summary', {}, `${more.length} more options`), el('div', { class: 'fields' }, more.map(field))));
    form.dataset.ready = 'true';
  }

  async function submit() {
    const options = {};
    for (const i of box.querySelectorAll('input')) {
      if (i.type === 'checkbox') { if (i.checked) options[i.name] = true; } else if (i.value.trim()) options[i.name] = i.value.trim();
    }
    form.querySelectorAll('[data-field]').forEach(l => l.classList.remove('bad'));
    error.textContent = '';
    const res = await fetch('/api/jobs', {
      method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ command: command.value, out: out.value, options }),
    });
    const body = await res.json();
    if (!res.ok) {
      const e = new ApiError(res.status, body.error, body.field);
      const label = form.querySelector(`[data-field="${CSS.escape(e.field || '')}"]`);
      if (label) label.classList.add('bad');
      error.textContent = e.message;
      status(e.message, true);
      return;
    }
    status(`job ${body.id} queued: ${body.command} → ${body.run}`);
    show(body);
  }

  function show(j) {
    let card = cards.get(j.id);
    if (!card) {
      card = el('article', { class: 'job', 'data-job': j.id });
      cards.set(j.id, card);
      list.prepend(card);
    }
    const pct = j.state === 'complete' ? 100 : j.total > 0 ? Math.round(100 * j.done / j.total) : 0;
    const eta = j.eta_seconds != null && j.state === 'running' ? ` · ${Math.round(j.eta_seconds)} s left` : '';
    card.dataset.state = j.state;
    card.dataset.done = j.done;
    const fill = el('div');
    fill.style.width = `${pct}%`;                       // a style property, not an attribute: the CSP allows it
    const progress = j.state === 'queued' ? 'waiting for the jobs before it'
      : j.total > 0 ? `${j.phase} ${j.done}/${j.total}${eta} ${j.detail || ''}` : j.phase || '';
    card.replaceChildren(...[
      el('h3', {}, `#${j.id} ${j.command} → `, j.state === 'complete' ? el('a', { href: `#/runs?${query({ q: j.run })}` }, j.run) : j.run,
        ' ', el('span', { class: `badge ${j.state}` }, j.state)),
      el('div', { class: 'bar' }, fill),
      el('div', { class: 'muted progress' }, progress),
      j.error ? el('p', { class: 'problem' }, j.error) : null,
      j.state === 'queued' || j.state === 'running'
        ? el('button', { type: 'button', class: 'cancel', onclick: () => fetch(`/api/jobs/cancel?${query({ id: j.id })}`, { method: 'POST', credentials: 'same-origin' }) }, 'cancel')
        : null].filter(Boolean));
  }

  form.append(el('div', { class: 'fields' }, el('label', { 'data-field': 'command' }, 'command', command), el('label', { 'data-field': 'out' }, 'run name (under --runs)', out)),
    box, el('button', { type: 'submit', id: 'start' }, 'start'), error);
  await fields();
  data.jobs.forEach(show);
  const events = new EventSource('/api/jobs/events');
  events.addEventListener('job', e => show(JSON.parse(e.data)));
  const stop = () => { if (!document.body.contains(form)) { events.close(); window.removeEventListener('hashchange', stop); } };
  window.addEventListener('hashchange', stop);
}
