// The page: reads the session, loads each panel, and follows the evidence
// stream, handing every new record to the timeline and the action cards.
import { API } from './api.js';
import { $, h, fill } from './dom.js';
import { Actions } from './actions.js';
import { Files } from './files.js';
import { Goal } from './plan.js';
import { Policy } from './policy.js';
import { follow } from './stream.js';
import { Timeline } from './timeline.js';
import { initTheme } from './theme.js';
import { shortcuts, tabs } from './keys.js';
import { errorText } from './render.js';

const LIVE_TEXT = { live: 'live', reconnecting: 'reconnecting…', closed: 'offline', connecting: 'connecting…', ended: 'logged out' };

function banner(...children) {
  const el = $('banner');
  fill(el, children);
  el.hidden = false;
}

function setLive(state) {
  const el = $('live');
  el.dataset.state = state;
  el.textContent = LIVE_TEXT[state] || state;
}

async function main() {
  const toggleTheme = initTheme($('theme'));
  const selectTab = tabs(document.querySelector('[role=tablist]'));
  const api = new API();
  api.onUnauthorized = (msg) => banner(h('strong', null, 'You are not logged in. '),
    'Run ', h('code', null, 'noema web'), ' for a new login link. ', h('span', { class: 'meta' }, msg));

  let session;
  try {
    session = await api.start();
  } catch (e) {
    if (e.status !== 401) banner('Cannot start: ' + errorText(e));
    setLive('closed');
    return;
  }
  $('who').textContent = session.subject.name || session.subject.id;
  $('who').title = 'signed in as ' + session.subject.id + ' until ' + new Date(session.expires_at).toLocaleString();

  const timeline = new Timeline(api, {
    list: $('timeline'), filter: $('filter'), verifyOut: $('verify-result'),
  });
  const showEvidence = (id) => {
    timeline.setFilter(id);
    $('timeline').focus();
  };
  const actions = new Actions(api, $('actions'), $('actions-empty'), showEvidence);
  const goal = new Goal(api, actions, {
    form: $('goal-form'), input: $('goal'), planBtn: $('plan-btn'), runBtn: $('run-btn'), out: $('plan'),
  });
  const files = new Files(api, actions, {
    unavailable: $('files-unavailable'), searchForm: $('search-form'), historyForm: $('history-form'),
    query: $('search-q'), limit: $('search-k'), path: $('history-path'), msg: $('files-msg'),
    results: $('search-results'), history: $('history'),
  });
  const policy = new Policy(api, {
    meta: $('policy-meta'), rules: $('policy-rules'), form: $('policy-form'), action: $('pt-action'),
    target: $('pt-target'), ai: $('pt-ai'), tainted: $('pt-tainted'), result: $('policy-result'), names: $('catalog-names'),
  });

  $('timeline').tabIndex = -1;
  $('verify-btn').addEventListener('click', (e) => timeline.verify(e.currentTarget));
  $('filter-form').addEventListener('submit', (e) => {
    e.preventDefault();
    timeline.setFilter($('filter').value);
  });
  $('filter-clear').addEventListener('click', () => timeline.setFilter(''));

  let stop = () => {};
  $('logout').addEventListener('click', async () => {
    try {
      await api.post('/api/logout');
    } finally {
      stop();
      setLive('ended');
      banner('Logged out. Run ', h('code', null, 'noema web'), ' to log in again.');
    }
  });

  shortcuts({
    '/': () => {
      selectTab(0);
      goal.focus();
    },
    1: () => selectTab(0, true),
    2: () => selectTab(1, true),
    3: () => selectTab(2, true),
    e: () => $('timeline').focus(),
    v: () => timeline.verify($('verify-btn')),
    d: toggleTheme,
  }, $('keys-on'));

  const since = await timeline.load();
  stop = follow(since, {
    record: (rec) => {
      timeline.add(rec);
      actions.onRecord(rec);
    },
    reset: () => timeline.load(),
    state: setLive,
  });
  const results = await Promise.allSettled([actions.load(), api.get('/api/catalog'), policy.load()]);
  const catalog = results[1].status === 'fulfilled' ? results[1].value.actions : [];
  actions.setCatalog(catalog);
  files.init(new Set(catalog.map((m) => m.name)));
  policy.init(catalog);
  const failed = results.filter((r) => r.status === 'rejected').map((r) => errorText(r.reason));
  if (failed.length) banner('Some panels did not load: ' + failed.join('; '));
  document.body.dataset.ready = 'true';
  goal.focus();
}

main().catch((e) => banner('The page failed: ' + errorText(e)));
