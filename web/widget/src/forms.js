// forms.js -- the forms that take the panel's body instead of the thread:
// the pre-chat form (the channel's own fields, before the first message)
// and the leave-a-message form (nobody online, no conversation yet).
// Fields are checked here, not by the browser (novalidate), so each
// problem shows under its field in the widget's language.
import { h } from './dom.js';
import { uuid } from './uuid.js';

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const TYPES = ['text', 'email', 'tel', 'textarea', 'select'];

// The input for a field definition {name, type, options}.
function control(def, type, attrs, t) {
  if (type === 'textarea') return h('textarea', { ...attrs, rows: '3', maxlength: '5000' });
  if (type === 'select') {
    return h('select', attrs, h('option', { value: '' }, t('choose')),
      (Array.isArray(def.options) ? def.options : []).map((o) => h('option', { value: String(o) }, String(o))));
  }
  return h('input', {
    ...attrs, type, maxlength: '200',
    autocomplete: type === 'email' ? 'email' : type === 'tel' ? 'tel' : def.name === 'name' ? 'name' : 'on',
    inputmode: type === 'tel' ? 'tel' : type === 'email' ? 'email' : null,
  });
}

// A labelled field with its error line; an unknown type is a text input.
function field(def, idBase, t) {
  const id = `kf-f-${idBase}-${def.name}`;
  const type = TYPES.includes(def.type) ? def.type : 'text';
  const input = control(def, type, { class: 'kf-input', id, name: def.name, required: !!def.required, 'aria-required': def.required ? 'true' : null }, t);
  const err = h('div', { class: 'kf-field-err', id: id + '-err', hidden: true });
  input.setAttribute('aria-describedby', id + '-err');
  const label = def.label || t(def.name) || def.name;
  const wrap = h('div', { class: 'kf-field' },
    h('label', { class: 'kf-label', for: id }, label, def.required ? h('span', { class: 'kf-req', 'aria-hidden': 'true' }, '*') : null),
    input, err);
  return { def: { ...def, type, label }, input, err, wrap };
}

// Checks every field; shows the first problem of each and focuses the
// first bad one.  Returns {name: value} or null.
function collect(fields, t) {
  const out = {};
  let first = null;
  for (const f of fields) {
    const v = f.input.value.trim();
    let msg = '';
    if (f.def.required && !v) msg = t('fieldRequired', { label: f.def.label });
    else if (v && f.def.type === 'email' && !EMAIL_RE.test(v)) msg = t('badEmail');
    f.err.textContent = msg;
    f.err.hidden = !msg;
    f.input.setAttribute('aria-invalid', msg ? 'true' : 'false');
    if (msg && !first) first = f.input;
    if (v) out[f.def.name] = v;
  }
  if (first) {
    first.focus();
    return null;
  }
  return out;
}

export class Forms {
  constructor(w) {
    this.w = w;
    this.builtFor = null;
    this.el = h('div', { class: 'kf-form', hidden: true });
  }

  // Built once per view: a re-render keeps what the visitor has typed.
  render() {
    const view = this.w.view;
    if (this.builtFor === view) return;
    this.builtFor = view;
    if (view === 'prechat') this.prechat();
    else if (view === 'leave') this.leave();
  }

  prechat() {
    const w = this.w;
    const fields = w.prechatFields().map((d) => field(d, 'pre', w.t));
    this.show('prechatIntro', fields, 'start', async (values) => {
      await w.ensureSession(values);
      this.filledIn();
      await w.loadConversation(false).catch(() => {});
      w.view = 'chat';
      w.render();
      w.focusFirst();
    });
  }

  leave() {
    const w = this.w;
    const t = w.t;
    const fields = [['name', 'text'], ['email', 'email'], ['message', 'textarea']]
      .map(([name, type]) => field({ name, label: t(name), type, required: true }, 'leave', t));
    // One id for every try of this form, so a resubmit cannot post twice.
    const clientId = uuid();
    this.show('leaveIntro', fields, 'leaveSend', async (values) => {
      await w.ensureSession({ name: values.name, email: values.email });
      const r = await w.authed(() => w.api.sendText(values.message, clientId));
      w.accept(r);
      this.filledIn();
      w.thread.notice = { text: t('leaveDone', { email: values.email }), after: r && r.message && r.message.id };
      w.view = 'chat';
      w.render();
      w.thread.scrollToEnd();
    });
  }

  // The visitor is known now: the form is not asked again, and the socket
  // brings the replies.
  filledIn() {
    this.w.store.set({ prechat: true });
    this.w.listen();
  }

  // Shows one form: an intro, the fields, a submit button.  submit(values)
  // runs once the fields check out, with the button disabled meanwhile; a
  // failure shows as a toast and the form stays for another try.
  show(intro, fields, label, submit) {
    const w = this.w;
    const button = h('button', { class: 'kf-primary', type: 'submit' }, w.t(label));
    const form = h('form', { novalidate: true },
      h('p', { class: 'kf-intro' }, w.t(intro)),
      fields.map((f) => f.wrap), button);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const values = collect(fields, w.t);
      if (!values) return;
      button.disabled = true;
      try {
        await submit(values);
      } catch (err) {
        w.panel.showToast(w.friendly(err));
      } finally {
        button.disabled = false;
      }
    });
    this.el.replaceChildren(form);
  }
}
