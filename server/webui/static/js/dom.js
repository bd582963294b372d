// Building the page without ever parsing markup: every string becomes a
// text node or an attribute value, so text from the daemon (file names,
// snippets, reasons) can never turn into HTML or script.

// h makes an element. props sets attributes (true for a bare attribute;
// false, null and undefined leave it out), "class", "text", and "on" (a map
// of event listeners). Children may be nodes, strings, numbers or arrays
// of them; null and false are skipped.
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  add(el, children);
  return el;
}

// add appends children to el, as h does.
export function add(el, children) {
  for (const c of [children].flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

// fill replaces the children of el.
export function fill(el, ...children) {
  el.replaceChildren();
  return add(el, children);
}

export function $(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error('the page has no #' + id);
  return el;
}

// busy disables a control while work runs, and restores it after.
export async function busy(el, fn) {
  el.disabled = true;
  el.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    el.disabled = false;
    el.removeAttribute('aria-busy');
  }
}
