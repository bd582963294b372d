// Policy: the Cedar rules in force, and a form that asks the kernel which
// rule would decide an action, and why, without submitting anything.
import { h, fill, busy } from './dom.js';
import { badge, changes, errorText, riskFlags } from './render.js';

export class Policy {
  constructor(api, els) {
    this.api = api;
    this.els = els;
    this.examples = new Map();
    els.form.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(e.submitter || els.form.querySelector('button[type=submit]'), () => this.test());
    });
    // The chosen action's example target shows as the placeholder: a
    // hint of its shape that never mixes with what is typed.
    els.action.addEventListener('input', () => {
      const ex = this.examples.get(els.action.value.trim());
      els.target.placeholder = ex ? JSON.stringify(ex) : '{"path": "/tmp/example.txt"}';
    });
  }

  // init fills the action list from the catalog.
  init(manifests) {
    fill(this.els.names, manifests.map((m) => h('option', { value: m.name }, m.title || m.name)));
    for (const m of manifests) {
      if (m.examples && m.examples.length) this.examples.set(m.name, m.examples[0].target);
    }
  }

  async load() {
    const p = await this.api.get('/api/policy');
    fill(this.els.meta, 'Version ', h('code', null, p.version), ' · ', p.rules.length + ' rules',
      p.load_error ? h('span', { class: 'error' }, ' · policy files not loaded, using the last good set: ' + p.load_error) : null);
    fill(this.els.rules, p.rules.map((r) => h('li', { class: 'rule', 'data-rule': r.id },
      h('details', null,
        h('summary', null,
          h('code', { class: 'name' }, r.id), ' ',
          badge(r.effect === 'forbid' ? 'DENY' : r.approval ? 'REQUIRE_APPROVAL' : 'ALLOW'),
          h('span', { class: 'meta' }, ' ' + r.source + ':' + r.line)),
        h('pre', { class: 'cedar' }, r.text)))));
  }

  async test() {
    const { action, target, ai, tainted, result } = this.els;
    const body = { action: action.value.trim(), ai: ai.checked, tainted: tainted.checked };
    const raw = target.value.trim();
    if (raw) {
      try {
        body.target = JSON.parse(raw);
      } catch (e) {
        fill(result, h('p', { class: 'error', role: 'alert' }, 'The target is not JSON: ' + e.message));
        target.focus();
        return;
      }
    }
    try {
      const r = await this.api.post('/api/policy/test', body);
      const d = r.decision;
      fill(result, h('div', { class: 'policy-answer', 'data-decision': d.decision },
        h('p', { class: 'line' }, badge(d.decision, 'decision'), ' ', h('code', null, d.reason_code),
          d.ai_upgraded ? h('span', { class: 'meta' }, ' (upgraded: a model proposed it)') : null,
          d.hard_deny ? h('span', { class: 'meta' }, ' (protected: no policy can allow it)') : null),
        (d.reasons || []).length ? h('ul', null, d.reasons.map((x) => h('li', null, x))) : null,
        (d.policies || []).length ? h('p', { class: 'meta' }, 'decided by ', d.policies.join(', ')) : null,
        h('p', { class: 'line' }, riskFlags(r.request.risk)),
        changes(r.preview)));
    } catch (e) {
      fill(result, h('p', { class: 'error', role: 'alert' }, errorText(e)));
    }
  }
}
