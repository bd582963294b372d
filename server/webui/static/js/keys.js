// Keyboard: single-key shortcuts work when no text field has focus (so
// they never swallow typing), and can be switched off for those whose
// assistive tools use the same keys; Escape leaves a field. Tabs follow
// the ARIA tabs pattern: arrow keys move between them.

const KEY = 'noema.shortcuts';

// shortcuts calls map[key] on a key press; toggle is the checkbox that
// switches them on and off, remembered by this browser.
export function shortcuts(map, toggle) {
  try {
    toggle.checked = localStorage.getItem(KEY) !== 'off';
  } catch {
    // Not remembered: on.
  }
  toggle.addEventListener('change', () => {
    try {
      localStorage.setItem(KEY, toggle.checked ? 'on' : 'off');
    } catch {
      // Applies to this page only.
    }
  });
  document.addEventListener('keydown', (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || !toggle.checked) return;
    const t = e.target;
    if (t instanceof Element && t.closest('input, textarea, select, [contenteditable]')) {
      if (e.key === 'Escape') t.blur();
      return;
    }
    const fn = map[e.key.length === 1 ? e.key.toLowerCase() : e.key];
    if (fn) {
      e.preventDefault();
      fn();
    }
  });
}

// tabs wires a tablist; it returns select(index).
export function tabs(list) {
  const all = [...list.querySelectorAll('[role=tab]')];
  const select = (i, focus) => {
    all.forEach((tab, j) => {
      const on = i === j;
      tab.setAttribute('aria-selected', String(on));
      tab.tabIndex = on ? 0 : -1;
      document.getElementById(tab.getAttribute('aria-controls')).hidden = !on;
    });
    if (focus) all[i].focus();
  };
  all.forEach((tab, i) => tab.addEventListener('click', () => select(i, false)));
  list.addEventListener('keydown', (e) => {
    const i = all.indexOf(document.activeElement);
    if (i < 0) return;
    const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: all.length - 1 }[e.key];
    if (next === undefined) return;
    e.preventDefault();
    select((next + all.length) % all.length, true);
  });
  return select;
}
