// Action cards: each submitted action with its request (what will change,
// the risk flags, the policy's decision), approve and refuse buttons while
// it waits for a person, and its state as the evidence stream reports it.
import { at } from './api.js';
import { h, fill } from './dom.js';
import { FINAL, badge, changes, errorText, rank, riskFlags, shortHash, shortID, target, when, who } from './render.js';

const LIMIT = 30;

export class Actions {
  // onEvidence(id) shows the evidence of one action.
  constructor(api, list, empty, onEvidence) {
    this.api = api;
    this.list = list;
    this.empty = empty;
    this.onEvidence = onEvidence;
    this.cards = new Map();
    // Action ids being read, each with whether to read it again after.
    this.fetching = new Map();
    // Action names whose effects cannot be undone, from the catalog.
    this.final = new Set();
  }

  setCatalog(manifests) {
    this.final = new Set(manifests.filter((m) => m.rollback === 'NONE').map((m) => m.name));
    for (const card of this.cards.values()) card.render();
  }

  async load() {
    const r = await this.api.get('/api/actions?limit=' + LIMIT);
    for (const env of r.actions.slice().reverse()) this.show(env);
  }

  // show adds or updates the card of an envelope. An envelope older than
  // what the card shows (a reply overtaken by the stream) changes nothing.
  show(env) {
    const id = env.identity.action_id;
    let card = this.cards.get(id);
    if (!card) {
      card = new Card(this, env);
      this.cards.set(id, card);
      // Newest first, whichever arrives first: the list, a reply or the
      // stream.
      const t = Date.parse(env.identity.created_at);
      let before = this.list.firstElementChild;
      while (before && Date.parse(before.dataset.created) > t) before = before.nextElementSibling;
      this.list.insertBefore(card.el, before);
      this.empty.hidden = true;
      while (this.list.children.length > LIMIT * 2) {
        const last = this.list.lastElementChild;
        this.cards.delete(last.dataset.actionId);
        last.remove();
      }
    } else if (rank(env.execution.state) >= rank(card.state) &&
      (env.execution.updated_at !== card.env.execution.updated_at || env.execution.state !== card.state)) {
      card.env = env;
      card.state = env.execution.state;
      card.render();
    }
    return card;
  }

  // onRecord follows the evidence stream: transitions move a card's state
  // at once; a new action submitted elsewhere (the CLI, D-Bus) gets a card.
  onRecord(rec) {
    const id = rec.action_id;
    if (!id) return;
    const card = this.cards.get(id);
    if (!card) {
      if (rec.type === 'action.submitted') this.fetch(id);
      return;
    }
    const data = rec.data || {};
    if (rec.type === 'action.transition' && data.to && rank(data.to) >= rank(card.state)) {
      card.state = data.to;
      card.render();
      if (FINAL.has(data.to)) this.fetch(id);
    } else if (rec.type === 'verification.result') {
      card.verification = data;
      card.render();
    }
  }

  // fetch reads an action's envelope. Asked again while a read is under
  // way, it reads once more after it, so the last state is never missed.
  async fetch(id) {
    if (this.fetching.has(id)) {
      this.fetching.set(id, true);
      return;
    }
    this.fetching.set(id, false);
    try {
      do {
        this.fetching.set(id, false);
        const r = await this.api.get(at('/api/actions', id));
        this.show(r.action);
      } while (this.fetching.get(id));
    } catch {
      // The stream shows the state; the full envelope can wait.
    } finally {
      this.fetching.delete(id);
    }
  }

  // act posts to one of an action's verbs and shows the envelope back.
  async act(card, verb, body) {
    card.working = verb;
    card.error = null;
    card.render();
    try {
      const r = await this.api.post(at('/api/actions', card.id, '/' + verb), body);
      card.working = '';
      const next = this.show(r.action);
      card.render();
      next.el.focus();
      return r.action;
    } catch (e) {
      card.working = '';
      card.error = errorText(e);
      card.render();
      card.el.focus();
      return null;
    }
  }

  approve(card) {
    // The hash of the request this card shows: the daemon refuses the
    // approval if the request is not byte for byte the one seen here.
    return this.act(card, 'approve', { request_hash: card.env.request_hash });
  }

  refuse(card) {
    return this.act(card, 'refuse', { reason: 'refused in the web UI' });
  }

  run(card) {
    return this.act(card, 'run');
  }

  undo(card) {
    return this.act(card, 'undo');
  }
}

class Card {
  constructor(owner, env) {
    this.owner = owner;
    this.env = env;
    this.id = env.identity.action_id;
    this.state = env.execution.state;
    this.verification = null;
    this.working = '';
    this.error = null;
    this.el = h('li', {
      class: 'card', tabindex: '-1', 'data-action-id': this.id, 'data-created': env.identity.created_at, 'aria-labelledby': 'h-' + this.id,
    });
    this.render();
  }

  render() {
    const env = this.env;
    const req = env.request;
    const ex = env.execution;
    const state = this.state;
    const ver = this.verification || ex.verification;
    this.el.dataset.action = req.action;
    this.el.dataset.state = state;
    // Keep the focus on the same button across a redraw, so news from the
    // stream never throws a keyboard user out of the card.
    const focused = document.activeElement;
    const role = focused !== this.el && this.el.contains(focused) ? focused.dataset.role : '';
    fill(this.el,
      h('div', { class: 'card-head' },
        h('code', { class: 'name', id: 'h-' + this.id }, req.action),
        badge(state, 'state'),
        h('span', { class: 'meta' }, who(req.subject)),
        when(env.identity.created_at)),
      env.identity.parent_action_id ? h('p', { class: 'meta' }, 'undoes ', h('code', null, shortID(env.identity.parent_action_id))) : null,
      target(req.target),
      changes(ex.preview),
      h('p', { class: 'line' }, riskFlags(req.risk), ' ', this.decision()),
      ver ? h('p', { class: 'line verification' }, 'verification ', badge(ver.status), ' ', ver.detail || '') : null,
      ex.error && state !== 'POLICY_DENIED' ? h('p', { class: 'error' }, errorText(ex.error)) : null,
      this.error ? h('p', { class: 'error', role: 'alert' }, this.error) : null,
      h('div', { class: 'card-foot' },
        h('span', { class: 'meta hash', title: 'request hash ' + env.request_hash }, 'request ', h('code', null, shortHash(env.request_hash))),
        this.buttons()));
    if (role) this.el.querySelector('[data-role="' + role + '"]')?.focus();
  }

  decision() {
    const ex = this.env.execution;
    if (this.state === 'POLICY_DENIED' && ex.reason_code === 'refused_by_human') {
      return h('span', { class: 'refused' }, 'refused by a person ', h('code', null, 'refused_by_human'));
    }
    if (!ex.decision) return null;
    return h('span', { class: 'reason' }, 'policy ', badge(ex.decision, 'decision'), ex.reason_code ? [' ', h('code', null, ex.reason_code)] : null,
      ex.approval_id ? h('span', { title: 'approval ' + ex.approval_id }, ' · approved by a person') : null);
  }

  buttons() {
    const o = this.owner;
    const name = this.env.request.action;
    const button = (role, label, doing, cls, aria, fn) => h('button', {
      type: 'button', class: cls, 'data-role': role, disabled: this.working !== '' && role !== 'evidence', 'aria-label': aria,
      on: { click: () => fn(this) },
    }, this.working === role ? doing : label);
    const out = [];
    if (this.state === 'APPROVAL_PENDING') {
      out.push(
        button('approve', 'Approve', 'Approving…', 'approve', 'Approve ' + name + ' (request ' + shortHash(this.env.request_hash) + ')', (c) => o.approve(c)),
        button('refuse', 'Refuse', 'Refusing…', 'refuse', 'Refuse ' + name, (c) => o.refuse(c)));
    } else if (this.state === 'APPROVED' && this.env.request.dry_run === 'LIVE') {
      out.push(button('run', 'Run', 'Running…', null, 'Run ' + name, (c) => o.run(c)));
    } else if (this.state === 'SUCCEEDED' && !this.env.execution.undone_by && !this.env.identity.parent_action_id && !o.final.has(name)) {
      out.push(button('undo', 'Undo', 'Undoing…', 'ghost', 'Undo ' + name, (c) => o.undo(c)));
    }
    out.push(button('evidence', 'Evidence', 'Evidence', 'ghost', 'Evidence of ' + name + ' ' + this.id, (c) => o.onEvidence(c.id)));
    return h('span', { class: 'buttons' }, out);
  }
}
