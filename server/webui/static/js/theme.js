// Light and dark: the system's preference until the person picks one with
// the toggle, which this browser then remembers.

const KEY = 'noema.theme';

function stored() {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function initTheme(button) {
  const media = matchMedia('(prefers-color-scheme: dark)');
  let chosen = stored();
  const current = () => (chosen === 'dark' || chosen === 'light' ? chosen : media.matches ? 'dark' : 'light');
  const apply = () => {
    const t = current();
    document.documentElement.dataset.theme = t;
    button.setAttribute('aria-pressed', String(t === 'dark'));
    button.setAttribute('aria-label', 'Dark theme (' + (t === 'dark' ? 'on' : 'off') + '), shortcut D');
  };
  const toggle = () => {
    chosen = current() === 'dark' ? 'light' : 'dark';
    try {
      localStorage.setItem(KEY, chosen);
    } catch {
      // Not remembered; still applied.
    }
    apply();
  };
  media.addEventListener('change', apply);
  button.addEventListener('click', toggle);
  apply();
  return toggle;
}
