// The evidence timeline: the newest records from GET /api/log, then every
// new one as the stream delivers it, with what each one says (a state
// change, a policy decision, a verification result), and the button that
// checks every byte of the hash chain.
import { at } from './api.js';
import { h, fill, busy } from './dom.js';
import { badge, errorText, shortHash, shortID, when, who } from './render.js';

const LOAD = 100;
const KEEP = 300;
// GET /api/log lists records without their data; the newest of the kinds
// the timeline summarizes are fetched one by one after the list shows.
const DETAIL_TYPES = new Set([
  'action.submitted', 'action.transition', 'action.executed', 'action.error',
  'policy.decision', 'verification.result', 'approval.granted', 'approval.refused',
]);
const DETAIL_MAX = 60;

export class Timeline {
  constructor(api, els) {
    this.api = api;
    this.list = els.list;
    this.filterInput = els.filter;
    this.verifyOut = els.verifyOut;
    this.filter = '';
    this.rows = new Map();
    this.maxSeq = 0;
    this.generation = 0;
  }

  // load lists the newest records (of the filtered action) and returns the
  // highest sequence number seen, to resume the stream from. When loads
  // overlap (the filter changed again), only the last one shows.
  async load() {
    const gen = ++this.generation;
    let q = '/api/log?newest=true&limit=' + LOAD;
    if (this.filter) q += '&action=' + encodeURIComponent(this.filter);
    const r = await this.api.get(q);
    if (gen !== this.generation) return this.maxSeq;
    this.rows.clear();
    this.list.replaceChildren();
    for (const rec of r.records) this.put(rec, false);
    if (r.records.length === 0) this.list.append(h('li', { class: 'empty' }, this.filter ? 'No evidence of this action.' : 'No evidence yet.'));
    this.list.dataset.filter = this.filter;
    this.details(gen, r.records.filter((rec) => DETAIL_TYPES.has(rec.type)).slice(0, DETAIL_MAX));
    return this.maxSeq;
  }

  setFilter(id) {
    this.filter = (id || '').trim();
    this.filterInput.value = this.filter;
    return this.load();
  }

  // add takes a record from the stream.
  add(rec) {
    if (this.filter && rec.action_id !== this.filter) {
      this.maxSeq = Math.max(this.maxSeq, rec.seq);
      return;
    }
    this.list.querySelector(':scope > li.empty')?.remove();
    this.put(rec, true);
    while (this.list.children.length > KEEP) {
      const last = this.list.lastElementChild;
      this.rows.delete(Number(last.dataset.seq));
      last.remove();
    }
  }

  put(rec, live) {
    this.maxSeq = Math.max(this.maxSeq, rec.seq);
    const old = this.rows.get(rec.seq);
    const row = this.row(rec);
    if (old) {
      old.replaceWith(row);
    } else if (live) {
      // The stream delivers in order, but a reload may have listed newer
      // records already: keep the list sorted, newest first.
      let before = this.list.firstElementChild;
      while (before && Number(before.dataset.seq) > rec.seq) before = before.nextElementSibling;
      this.list.insertBefore(row, before);
    } else {
      this.list.append(row);
    }
    this.rows.set(rec.seq, row);
  }

  row(rec) {
    const more = h('div', { class: 'rec-more' });
    const li = h('li', {
      class: 'rec', 'data-seq': rec.seq, 'data-type': rec.type, 'data-id': rec.id, 'data-action-id': rec.action_id || '',
    },
    h('div', { class: 'rec-head' },
      when(rec.time),
      h('span', { class: 'type', title: 'record #' + rec.seq }, rec.type),
      rec.action_id ? h('button', {
        type: 'button', class: 'link', title: 'only the evidence of ' + rec.action_id,
        'aria-label': 'Show only the evidence of ' + rec.action_id, on: { click: () => this.setFilter(rec.action_id) },
      }, shortID(rec.action_id)) : h('span', { class: 'meta' }, rec.subject || ''),
      h('button', {
        type: 'button', class: 'link more', 'aria-expanded': 'false', 'aria-label': 'Details of record ' + rec.seq, title: 'details',
        on: { click: (e) => this.toggle(e.currentTarget, rec, more) },
      }, '+')),
    summary(rec),
    more);
    return li;
  }

  async toggle(btn, rec, more) {
    if (btn.getAttribute('aria-expanded') === 'true') {
      btn.setAttribute('aria-expanded', 'false');
      more.replaceChildren();
      return;
    }
    btn.setAttribute('aria-expanded', 'true');
    try {
      const r = await this.api.get(at('/api/log', rec.id));
      fill(more, h('pre', { class: 'json' }, JSON.stringify(r.record, null, 2)));
    } catch (e) {
      fill(more, h('p', { class: 'error' }, errorText(e)));
    }
  }

  // details fetches the data of listed records whose result matters at a
  // glance (verification results, decisions), one at a time.
  async details(gen, recs) {
    for (const rec of recs) {
      try {
        const r = await this.api.get(at('/api/log', rec.id));
        // A reload since started its own round.
        if (gen !== this.generation) return;
        const row = this.rows.get(rec.seq);
        if (row && !row.querySelector('.rec-body')) this.put({ ...rec, ...r.record }, false);
      } catch {
        return;
      }
    }
  }

  async verify(btn) {
    await busy(btn, async () => {
      fill(this.verifyOut, h('span', { class: 'msg' }, 'Checking every record…'));
      this.verifyOut.dataset.result = 'running';
      this.list.querySelector('.rec.broken')?.classList.remove('broken');
      try {
        const rep = await this.api.get('/api/log/verify');
        this.verifyOut.dataset.result = rep.ok ? 'ok' : 'failed';
        fill(this.verifyOut, rep.ok ? ok(rep) : broken(rep));
        if (!rep.ok && rep.problem && rep.problem.record_id) {
          const row = this.list.querySelector('.rec[data-id="' + CSS.escape(rep.problem.record_id) + '"]');
          if (row) {
            row.classList.add('broken');
            row.scrollIntoView({ block: 'nearest' });
          }
        }
      } catch (e) {
        this.verifyOut.dataset.result = 'error';
        fill(this.verifyOut, h('p', { class: 'error' }, errorText(e)));
      }
    });
  }
}

function ok(rep) {
  return h('p', { class: 'verify-ok' }, badge('OK'), ' The chain verifies: ',
    rep.records + ' records in ' + rep.segments + (rep.segments === 1 ? ' segment' : ' segments') + ', ',
    h('span', { title: 'Merkle root ' + (rep.root || '') }, 'root ', h('code', null, shortHash(rep.root))),
    (rep.notes || []).map((n) => h('span', { class: 'note' }, ' ' + n)));
}

function broken(rep) {
  const p = rep.problem || {};
  return h('div', { class: 'verify-bad' },
    h('p', null, badge('FAILED'), ' The chain does not verify.'),
    h('dl', { class: 'kv' },
      h('dt', null, 'first bad record'), h('dd', null, h('code', null, p.record_id || '(unreadable)'), ' seq ' + (p.seq ?? '?')),
      h('dt', null, 'where'), h('dd', null, h('code', null, (p.file || '?') + ' @ ' + (p.offset ?? '?'))),
      h('dt', null, 'why'), h('dd', null, p.reason || 'unknown')));
}

// summary says in a line what a record holds, when its data is known.
function summary(rec) {
  const d = rec.data;
  if (!d) return null;
  let body = null;
  switch (rec.type) {
    case 'action.submitted':
      body = [h('code', null, d.action), d.dry_run && d.dry_run !== 'LIVE' ? ' (' + d.dry_run + ')' : ''];
      break;
    case 'action.transition':
      body = [h('span', { class: 'state' }, d.from), ' → ', h('span', { class: 'state' }, d.to), d.reason ? h('span', { class: 'meta' }, ' ' + d.reason) : null];
      break;
    case 'policy.decision':
      body = [badge(d.decision), ' ', h('code', null, d.reason_code || '')];
      break;
    case 'verification.result':
      body = [badge(d.status), ' ', d.detail || d.probe || ''];
      break;
    case 'action.executed':
      body = 'ran in ' + (d.ms ?? '?') + ' ms';
      break;
    case 'action.error':
      body = h('span', { class: 'error' }, (d.code || 'error') + ': ' + (d.error || ''));
      break;
    case 'approval.granted':
      body = ['approved by ', who(d.approver), ' for request ', h('code', null, shortHash(d.request_hash))];
      break;
    case 'approval.refused':
      body = ['refused by ', who(d.approver), d.reason ? ': ' + d.reason : ''];
      break;
    default:
      return null;
  }
  return body === null ? null : h('div', { class: 'rec-body' }, body);
}
