// Small views shared by the panels: badges, risk flags, targets and the
// old → new changes an action would make.
import { h } from './dom.js';

export const FINAL = new Set(['SUCCEEDED', 'FAILED', 'POLICY_DENIED', 'ROLLED_BACK', 'ROLLBACK_FAILED']);

// The order states move in; a view never steps back to an earlier one
// when updates arrive out of order.
const RANK = {
  CREATED: 0, POLICY_PENDING: 1, APPROVAL_PENDING: 2, APPROVED: 3, QUEUED: 4, EXECUTING: 5, VERIFYING: 6,
  SUCCEEDED: 7, FAILED: 7, POLICY_DENIED: 7, ROLLED_BACK: 8, ROLLBACK_FAILED: 8,
};

export function rank(state) {
  return RANK[state] ?? -1;
}

function tone(state) {
  switch (state) {
    case 'SUCCEEDED': case 'PASSED': case 'ALLOW': case 'OK': return 'ok';
    case 'APPROVAL_PENDING': case 'REQUIRE_APPROVAL': return 'wait';
    case 'FAILED': case 'POLICY_DENIED': case 'ROLLBACK_FAILED': case 'DENY': case 'REJECTED': return 'bad';
    case 'ROLLED_BACK': case 'SKIPPED': return 'muted';
    default: return 'run';
  }
}

export function badge(text, extra) {
  return h('span', { class: 'badge ' + tone(text) + (extra ? ' ' + extra : '') }, text);
}

const FLAGS = ['destructive', 'privileged', 'network_exposure', 'secret_access', 'recovery_path_affected', 'tainted'];

export function riskFlags(risk) {
  const on = FLAGS.filter((f) => risk && risk[f]);
  if (on.length === 0) return h('span', { class: 'flags none' }, 'no risk flags');
  return h('span', { class: 'flags', 'aria-label': 'risk flags: ' + on.join(', ') },
    on.map((f) => h('span', { class: 'flag' }, f.replaceAll('_', ' '))));
}

function value(v) {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function target(t) {
  const entries = t && typeof t === 'object' ? Object.entries(t) : [];
  if (entries.length === 0) return null;
  return h('dl', { class: 'kv' }, entries.map(([k, v]) => [h('dt', null, k), h('dd', null, h('code', null, value(v)))]));
}

// changes shows each previewed change as subject: old → new.
export function changes(preview) {
  if (!preview || preview.length === 0) return null;
  return h('ul', { class: 'changes', 'aria-label': 'changes' }, preview.map((c) => h('li', null,
    h('span', { class: 'subject' }, c.subject), ' ',
    c.old !== undefined || c.new !== undefined
      ? [h('span', { class: 'old' }, c.old ?? '—'), h('span', { class: 'arrow', 'aria-label': 'becomes' }, ' → '), h('span', { class: 'new' }, c.new ?? '—')]
      : null,
    c.note ? h('span', { class: 'note' }, ' ', c.note) : null)));
}

export function when(iso) {
  if (!iso) return null;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return h('time', null, iso);
  return h('time', { datetime: iso, title: d.toLocaleString() }, d.toLocaleTimeString([], { hour12: false }));
}

// shortID keeps an id readable: the prefix and the last characters.
export function shortID(id) {
  if (!id || id.length <= 14) return id || '';
  const us = id.indexOf('_');
  return id.slice(0, us + 1) + '…' + id.slice(-6);
}

export function shortHash(hash) {
  return hash ? hash.slice(0, 12) + '…' : '';
}

export function errorText(e) {
  return e && e.code ? e.code + ': ' + e.message : String(e && e.message ? e.message : e);
}

export function who(subject) {
  if (!subject) return '';
  if (typeof subject === 'string') return subject;
  return (subject.is_ai ? 'AI ' : '') + (subject.name || subject.id) + (subject.via ? ' via ' + subject.via : '');
}
