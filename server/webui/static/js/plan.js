// The goal box: Enter plans (nothing runs: the plan shows each typed
// effect with old → new values, its risk flags and the policy's decision);
// Run submits the goal, runs what is allowed and leaves the rest waiting
// for approval on its card.
import { h, fill } from './dom.js';
import { badge, changes, errorText, riskFlags, target } from './render.js';

export class Goal {
  constructor(api, actions, els) {
    this.api = api;
    this.actions = actions;
    this.form = els.form;
    this.input = els.input;
    this.planBtn = els.planBtn;
    this.runBtn = els.runBtn;
    this.out = els.out;
    this.working = false;
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.plan();
    });
    this.runBtn.addEventListener('click', () => this.run());
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        this.run();
      }
    });
  }

  focus() {
    this.input.focus();
    this.input.select();
  }

  text() {
    const t = this.input.value.trim();
    if (!t) {
      fill(this.out, h('p', { class: 'msg' }, 'Say what you want done first.'));
      this.input.focus();
    }
    return t;
  }

  async guard(fn) {
    if (this.working) return;
    this.working = true;
    this.planBtn.disabled = true;
    this.runBtn.disabled = true;
    this.out.setAttribute('aria-busy', 'true');
    try {
      await fn();
    } catch (e) {
      fill(this.out, h('p', { class: 'error', role: 'alert' }, errorText(e)));
    } finally {
      this.working = false;
      this.planBtn.disabled = false;
      this.runBtn.disabled = false;
      this.out.removeAttribute('aria-busy');
    }
  }

  plan() {
    const text = this.text();
    if (!text) return;
    return this.guard(async () => {
      fill(this.out, h('p', { class: 'msg' }, 'Planning…'));
      const plan = await this.api.post('/api/plan', { text, preview: true });
      fill(this.out, planView(plan, false));
    });
  }

  // run plans and submits in one request, then runs each allowed action
  // on its own so that its card follows it live.
  run() {
    const text = this.text();
    if (!text) return;
    return this.guard(async () => {
      fill(this.out, h('p', { class: 'msg' }, 'Submitting…'));
      const r = await this.api.post('/api/ask?run=false', { text });
      fill(this.out, planView(r.plan, true),
        (r.rejected || []).map((x) => h('p', { class: 'error' }, x.action + ' was not submitted: ' + errorText(x.error))));
      const cards = r.actions.map((env) => this.actions.show(env));
      for (const card of cards) {
        if (card.state === 'APPROVED' && card.env.request.dry_run === 'LIVE') await this.actions.run(card);
      }
      // The first action waiting for approval takes the focus, so it is
      // read out and Tab reaches its buttons; not the Approve button
      // itself, where a second Enter would approve unread.
      const pending = cards.find((c) => c.state === 'APPROVAL_PENDING');
      if (pending) pending.el.focus();
    });
  }
}

function planView(plan, submitted) {
  const steps = plan.actions || [];
  return h('div', { class: 'plan', 'data-status': plan.status },
    h('p', { class: 'plan-head' },
      badge(plan.status), ' ',
      steps.length === 1 ? '1 step' : steps.length + ' steps',
      plan.tier ? h('span', { class: 'meta' }, ' · planned by ' + plan.tier + (plan.model ? ' (' + plan.model + ')' : '')) : null),
    plan.refusal ? h('p', { class: 'error' }, plan.refusal) : null,
    plan.message ? h('p', { class: 'msg' }, plan.message) : null,
    (plan.questions || []).length ? h('ul', { class: 'questions', 'aria-label': 'questions' }, plan.questions.map((q) => h('li', null, q))) : null,
    (plan.refused || []).length ? h('ul', { class: 'questions', 'aria-label': 'model proposals refused' },
      plan.refused.map((x) => h('li', null, 'refused model proposal ', h('code', null, x.tool || x.action), ': ', x.reason))) : null,
    steps.length ? h('ol', { class: 'steps' }, steps.map(step)) : null,
    steps.length && !submitted ? h('p', { class: 'hint' }, 'Nothing has run. Press ', h('kbd', null, 'Ctrl+Enter'), ' or Run to carry it out.') : null);
}

function step(a) {
  return h('li', { class: 'step', 'data-action': a.action, 'data-decision': a.decision },
    h('div', { class: 'card-head' },
      h('code', { class: 'name' }, a.action),
      badge(a.decision, 'decision'),
      a.subject ? h('span', { class: 'meta' }, a.subject) : null),
    target(a.target),
    changes(a.preview),
    h('p', { class: 'line' }, riskFlags(a.risk), ' ',
      h('span', { class: 'reason' }, h('code', null, a.reason_code), (a.reasons || []).length ? ' — ' + a.reasons.join('; ') : '')));
}
