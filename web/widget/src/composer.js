// composer.js -- where the visitor writes: the text box (Enter sends,
// Shift+Enter breaks the line), the emoji picker, and files from the clip
// button or pasted.  What is written goes to the outbox.
import { h, iconButton } from './dom.js';
import { EMOJI } from './emoji.js';
import { formatSize } from './format.js';

export class Composer {
  constructor(w) {
    this.w = w;
    const t = w.t;
    this.input = h('textarea', {
      class: 'kf-text', rows: '1', 'aria-label': t('inputLabel'), enterkeyhint: 'send', maxlength: '5000',
      oninput: () => this.onInput(),
      onkeydown: (e) => this.onKey(e),
      onpaste: (e) => this.onPaste(e),
    });
    this.updatePlaceholder();
    this.fileInput = h('input', { type: 'file', multiple: true, hidden: true, tabindex: '-1', 'aria-hidden': 'true', onchange: () => this.onFiles() });
    this.emojiBtn = iconButton('kf-tool', t('emoji'), 'emoji', { 'aria-expanded': 'false', 'aria-haspopup': 'true', onclick: () => this.toggleEmoji() });
    this.sendBtn = iconButton('kf-send', t('send'), 'send', { disabled: true, onclick: () => this.submitText() });
    this.emojiBox = h('div', { class: 'kf-emoji', role: 'group', 'aria-label': t('emoji'), hidden: true },
      EMOJI.map((e) => h('button', { type: 'button', 'aria-label': e, onclick: () => this.insertEmoji(e) }, e)));
    this.el = h('footer', { class: 'kf-composer' },
      this.emojiBox,
      h('div', { class: 'kf-row' },
        this.emojiBtn,
        iconButton('kf-tool', t('attach'), 'attach', { onclick: () => this.fileInput.click() }),
        this.input,
        this.sendBtn),
      this.fileInput);
  }

  // "Enter sends" only on a wide screen: a phone's keyboard shows its own
  // send key (enterkeyhint).
  updatePlaceholder() {
    this.input.placeholder = this.w.t(this.w.mobile.matches ? 'placeholderMobile' : 'placeholder');
  }

  // Grows with the text up to 120px; tells the agent the visitor is typing.
  onInput() {
    const el = this.input;
    el.style.height = 'auto';
    el.style.height = Math.min(el.scrollHeight, 120) + 'px';
    this.sendBtn.disabled = !el.value.trim();
    if (el.value.trim() && this.w.api.token) this.w.typing.input();
  }

  // Enter while an input method is composing (keyCode 229) picks the
  // candidate, it does not send.
  onKey(e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      this.submitText();
    }
  }

  onPaste(e) {
    const files = [...((e.clipboardData && e.clipboardData.files) || [])];
    if (files.length) {
      e.preventDefault();
      this.sendFiles(files);
    }
  }

  onFiles() {
    const files = [...this.fileInput.files];
    this.fileInput.value = '';
    if (files.length) this.sendFiles(files);
  }

  toggleEmoji(force) {
    const show = force === undefined ? this.emojiBox.hidden : force;
    this.emojiBox.hidden = !show;
    this.emojiBtn.setAttribute('aria-expanded', String(show));
    if (show) this.emojiBox.querySelector('button').focus();
  }

  // Escape closes an open picker first (back to the text box); returns
  // whether it did.
  closeEmoji() {
    if (this.emojiBox.hidden) return false;
    this.toggleEmoji(false);
    this.input.focus();
    return true;
  }

  insertEmoji(e) {
    const el = this.input;
    const s = el.selectionStart ?? el.value.length;
    const end = el.selectionEnd ?? el.value.length;
    el.value = el.value.slice(0, s) + e + el.value.slice(end);
    el.focus();
    el.selectionStart = el.selectionEnd = s + e.length;
    this.toggleEmoji(false);
    this.onInput();
  }

  submitText() {
    const w = this.w;
    const text = this.input.value.trim();
    if (!text) return;
    this.input.value = '';
    this.onInput();
    w.typing.stop();
    this.toggleEmoji(false);
    const p = w.outbox.add(text);
    w.thread.render();
    w.thread.scrollToEnd();
    w.outbox.deliver(p);
  }

  // Files over the desk's limit are refused here, before any upload.
  sendFiles(files) {
    const w = this.w;
    const max = w.maxUpload();
    const ok = [];
    for (const f of files) {
      if (f.size > max) w.panel.showToast(w.t('tooLarge', { name: f.name, max: formatSize(max) }));
      else ok.push(f);
    }
    if (!ok.length) return;
    for (const f of ok) w.outbox.deliver(w.outbox.add('', f));
    w.thread.render();
    w.thread.scrollToEnd();
  }
}
