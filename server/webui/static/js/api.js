// The daemon's REST API as the page uses it: same-origin requests carrying
// the session cookie, and the session's CSRF token on every unsafe one.

export class APIError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export class API {
  constructor() {
    this.csrf = '';
    // Called with the daemon's message when the session is gone.
    this.onUnauthorized = () => {};
  }

  // start reads the session and its CSRF token.
  async start() {
    const s = await this.get('/api/session');
    this.csrf = s.csrf_token;
    return s;
  }

  get(path) {
    return this.request('GET', path);
  }

  post(path, body) {
    return this.request('POST', path, body);
  }

  async request(method, path, body) {
    const headers = { Accept: 'application/json' };
    const init = { method, headers, credentials: 'same-origin', cache: 'no-store', redirect: 'error' };
    if (method !== 'GET' && method !== 'HEAD') {
      headers['X-CSRF-Token'] = this.csrf;
      if (body !== undefined) {
        headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(body);
      }
    }
    let resp;
    try {
      resp = await fetch(path, init);
    } catch (e) {
      throw new APIError(0, 'unreachable', 'the daemon does not answer (' + e.message + ')');
    }
    const text = await resp.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!resp.ok) {
      const e = data && data.error ? data.error : { code: 'http_' + resp.status, message: text || resp.statusText };
      if (resp.status === 401) this.onUnauthorized(e.message);
      throw new APIError(resp.status, e.code, e.message);
    }
    return data;
  }
}

// path joins an API path and one escaped segment.
export function at(base, id, suffix = '') {
  return base + '/' + encodeURIComponent(id) + suffix;
}
