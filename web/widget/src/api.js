// api.js -- the widget's calls to the desk (JSON over cross-origin HTTP).
//
// No cookies: the visitor token travels in Authorization.  Every failure
// becomes an ApiError with the HTTP status (0 = network) and the server's
// {"error":{"code","message"}}, so the UI can say something friendly.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code || (status ? 'http_' + status : 'network');
  }
}

async function errorFrom(res) {
  let code;
  let message;
  try {
    const body = await res.json();
    code = body && body.error && body.error.code;
    message = body && body.error && body.error.message;
  } catch { /* not JSON */ }
  return new ApiError(res.status, code, message);
}

export class Api {
  constructor(origin, key) {
    this.origin = origin;
    this.key = key;
    this.token = null;
  }

  url(path) {
    return this.origin + path;
  }

  // A server URL (attachment links are relative to the desk, not the page).
  resolve(u) {
    try {
      return new URL(u, this.origin + '/').href;
    } catch {
      return '';
    }
  }

  // An attachment link for <img src>/<a href>, which cannot send the
  // Authorization header: the token goes in the query unless the server
  // already put it there.
  attachmentUrl(u) {
    const abs = this.resolve(u);
    if (!abs || !/^https?:/i.test(abs)) return '';
    const url = new URL(abs);
    if (this.token && url.origin === this.origin && !url.searchParams.has('token')) url.searchParams.set('token', this.token);
    return url.href;
  }

  async call(method, path, body) {
    const headers = {};
    if (this.token) headers.authorization = 'Bearer ' + this.token;
    let payload;
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(this.url(path), { method, headers, body: payload, credentials: 'omit', mode: 'cors', cache: 'no-store' });
    } catch (e) {
      throw new ApiError(0, 'network', e && e.message);
    }
    if (!res.ok) throw await errorFrom(res);
    if (res.status === 204) return null;
    const text = await res.text();
    return text ? JSON.parse(text) : null;
  }

  config(lang) {
    return this.call('GET', '/widget/v1/config?key=' + encodeURIComponent(this.key) + (lang ? '&lang=' + encodeURIComponent(lang) : ''));
  }

  async session(body) {
    const r = await this.call('POST', '/widget/v1/sessions', { key: this.key, ...body });
    this.token = r.token;
    return r;
  }

  conversation() {
    return this.call('GET', '/widget/v1/conversation');
  }

  sendText(text, clientId) {
    return this.call('POST', '/widget/v1/messages', { text, client_id: clientId });
  }

  read(messageId) {
    return this.call('POST', '/widget/v1/read', { message_id: messageId });
  }

  rate(score, comment) {
    return this.call('POST', '/widget/v1/rating', { score, comment });
  }

  // multipart/form-data through XMLHttpRequest: fetch cannot report upload
  // progress.  onProgress(0..1).
  sendFiles(text, clientId, files, onProgress) {
    return new Promise((resolve, reject) => {
      const form = new FormData();
      form.append('client_id', clientId);
      form.append('text', text || '');
      for (const f of files) form.append('file', f, f.name);
      const xhr = new XMLHttpRequest();
      xhr.open('POST', this.url('/widget/v1/messages'));
      if (this.token) xhr.setRequestHeader('authorization', 'Bearer ' + this.token);
      xhr.responseType = 'text';
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total);
      };
      xhr.onerror = () => reject(new ApiError(0, 'network'));
      xhr.ontimeout = () => reject(new ApiError(0, 'network'));
      xhr.onload = () => {
        let body = null;
        try { body = xhr.responseText ? JSON.parse(xhr.responseText) : null; } catch { /* not JSON */ }
        if (xhr.status >= 200 && xhr.status < 300) resolve(body);
        else reject(new ApiError(xhr.status, body && body.error && body.error.code, body && body.error && body.error.message));
      };
      xhr.send(form);
    });
  }

  socketUrl(after) {
    const u = new URL(this.origin + '/widget/v1/ws');
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    u.searchParams.set('token', this.token || '');
    u.searchParams.set('after', String(after || 0));
    return u.href;
  }
}
