// Files: search by meaning, a file's history, and rollback to an earlier
// version. Each is an action (fs.search, fs.history, fs.rollback) with its
// own evidence; a build whose catalog lacks them says so plainly.
import { h, fill } from './dom.js';
import { badge, errorText, shortHash, when } from './render.js';

const NAMES = ['fs.search', 'fs.history', 'fs.rollback'];

export class Files {
  constructor(api, actions, els) {
    this.api = api;
    this.actions = actions;
    this.els = els;
    this.off = false;
    els.searchForm.addEventListener('submit', (e) => {
      e.preventDefault();
      this.busy(e.submitter, () => this.search(els.query.value.trim(), Number(els.limit.value) || 10));
    });
    els.historyForm.addEventListener('submit', (e) => {
      e.preventDefault();
      this.busy(e.submitter, () => this.history(els.path.value.trim()));
    });
  }

  // init shows the not-available state when the catalog has none of the
  // file actions.
  init(catalog) {
    const missing = NAMES.filter((n) => !catalog.has(n));
    if (missing.length === NAMES.length) this.unavailable('this build offers no file search, history or rollback');
    else if (missing.length) this.note('Not available in this build: ' + missing.join(', ') + '.');
  }

  // busy disables a button while fn runs; it stays disabled when the
  // actions turned out not to be available.
  async busy(btn, fn) {
    if (!btn) return fn();
    btn.disabled = true;
    try {
      await fn();
    } finally {
      btn.disabled = this.off;
    }
  }

  unavailable(why) {
    this.off = true;
    const { unavailable, searchForm, historyForm } = this.els;
    fill(unavailable, h('strong', null, 'File search is not available: '), why + '.');
    unavailable.hidden = false;
    unavailable.dataset.state = 'unavailable';
    for (const el of [...searchForm.elements, ...historyForm.elements]) el.disabled = true;
  }

  note(text) {
    fill(this.els.msg, text);
  }

  // submit posts to one of the fs endpoints and returns the finished
  // action, or null after saying why there is none.
  async submit(name, body) {
    let r;
    try {
      r = await this.api.post('/api/fs/' + name, body);
    } catch (e) {
      if (e.code === 'unknown_action') this.unavailable('the daemon answers that fs.' + name + ' is an unknown action');
      else this.note(errorText(e));
      return null;
    }
    const env = r.action;
    this.actions.show(env);
    const st = env.execution.state;
    if (st !== 'SUCCEEDED') {
      const err = env.execution.error;
      this.note('fs.' + name + ' is ' + st + (err ? ': ' + errorText(err) : st === 'APPROVAL_PENDING' ? ': approve or refuse it under Run' : '') + '.');
      return null;
    }
    return env;
  }

  async search(query, limit) {
    if (!query) return;
    this.note('Searching…');
    const env = await this.submit('search', { query, limit });
    const out = this.els.results;
    out.replaceChildren();
    if (!env) return;
    const hits = (env.execution.result && env.execution.result.results) || [];
    this.note(hits.length === 1 ? '1 file found.' : hits.length + ' files found.');
    for (const hit of hits) {
      out.append(h('li', { class: 'hit', 'data-path': hit.path },
        h('div', { class: 'card-head' },
          h('code', { class: 'name' }, hit.path),
          h('span', { class: 'meta' }, 'score ' + Number(hit.score).toFixed(3)),
          (hit.tags || []).map((t) => h('span', { class: 'flag' }, t))),
        hit.snippet ? h('blockquote', { class: 'snippet', 'aria-label': 'snippet from the file (its own words, not instructions)' }, hit.snippet) : null,
        h('button', { type: 'button', class: 'ghost', on: { click: (e) => this.busy(e.currentTarget, () => this.history(hit.path)) } }, 'History')));
    }
  }

  // history lists a file's versions; quiet keeps the message shown.
  async history(path, quiet) {
    if (!path) return;
    this.els.path.value = path;
    if (!quiet) this.note('Reading the history of ' + path + '…');
    const env = await this.submit('history', { path });
    const out = this.els.history;
    out.replaceChildren();
    if (!env) return;
    const versions = (env.execution.result && env.execution.result.versions) || [];
    if (!quiet) this.note(versions.length === 1 ? '1 version.' : versions.length + ' versions, newest first.');
    let cur = versions.findIndex((v) => v.current);
    if (cur < 0) cur = 0;
    fill(out, h('h3', null, 'History of ', h('code', null, path)),
      h('table', { class: 'versions' },
        h('thead', null, h('tr', null, ['version', 'saved', 'size', 'hash', 'origin', ''].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', null, versions.map((v, i) => h('tr', { 'data-version': v.version, class: v.current ? 'current' : null },
          h('td', null, h('code', null, v.version), v.current ? [' ', badge('current', 'muted')] : null, v.deleted ? ' (deleted)' : ''),
          h('td', null, when(v.created_at)),
          h('td', null, String(v.size)),
          h('td', null, h('code', { title: v.hash }, shortHash(v.hash))),
          h('td', null, v.origin || ''),
          h('td', null, i > cur ? h('button', {
            type: 'button', 'aria-label': 'Roll ' + path + ' back ' + (i - cur) + ' step(s) to version ' + v.version,
            on: { click: (e) => this.busy(e.currentTarget, () => this.rollback(path, i - cur)) },
          }, 'Roll back here') : null))))));
  }

  async rollback(path, steps) {
    this.note('Rolling ' + path + ' back ' + steps + (steps === 1 ? ' step…' : ' steps…'));
    const env = await this.submit('rollback', { path, steps });
    if (!env) return;
    this.note(path + ' rolled back ' + steps + (steps === 1 ? ' step' : ' steps') + ' and verified.');
    await this.history(path, true);
  }
}
