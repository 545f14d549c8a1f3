// The explorer's pages: a hash router (#/runs, #/features?run=…), no build step.
import { status } from './api.js';
import { runsPage } from './runs.js';
import { featuresPage } from './features.js';
import { attentionPage } from './attention.js';
import { similarityPage } from './similarity.js';
import { labelerPage } from './labeler.js';
import { jobsPage } from './jobs.js';

const pages = { runs: runsPage, features: featuresPage, attention: attentionPage, similarity: similarityPage, labeler: labelerPage, jobs: jobsPage };

async function route() {
  const [path, q] = location.hash.replace(/^#\/?/, '').split('?');
  const name = pages[path] ? path : 'runs';
  const params = Object.fromEntries(new URLSearchParams(q || ''));
  document.querySelectorAll('nav a').forEach(a => a.classList.toggle('active', a.dataset.page === name));
  const main = document.getElementById('main');
  main.replaceChildren();
  main.dataset.page = name;
  status('');
  try {
    await pages[name](main, params);
  } catch (e) {
    status(e.message, true);
  }
}

window.addEventListener('hashchange', route);
route();
