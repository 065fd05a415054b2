// launcher.js -- what shows while the panel is closed: the round button that
// opens it, the unread badge on the button, and the "peek" beside it (the
// newest unread agent message, so a reply is seen without opening the chat).
import { h, icon } from './dom.js';
import { isImage } from './model.js';

export class Launcher {
  constructor(w) {
    this.w = w;
    // The newest agent message whose peek the visitor closed (or saw, by
    // closing the panel): it is not shown again.
    this.dismissed = 0;
    this.badge = h('span', { class: 'kf-badge', 'aria-hidden': 'true', hidden: true });
    this.el = h('button', {
      class: 'kf-launcher', type: 'button', 'aria-label': w.t('open'), 'aria-expanded': 'false',
      'aria-controls': 'kf-panel', title: w.t('open'),
      onclick: () => w.toggle(),
    }, icon('chat'), this.badge);
    this.peek = h('div', { class: 'kf-peek', hidden: true });
  }

  // The button closes an open panel: its label and icon say so.
  setOpen(open) {
    const label = this.w.t(open ? 'close' : 'open');
    this.el.setAttribute('aria-expanded', String(open));
    this.el.setAttribute('aria-label', label);
    this.el.title = label;
    this.el.replaceChildren(icon(open ? 'close' : 'chat'), this.badge);
  }

  render() {
    const w = this.w;
    const n = w.isOpen ? 0 : w.unreadCount();
    this.badge.hidden = n === 0;
    this.badge.textContent = n > 99 ? '99+' : String(n);
    if (!w.isOpen) {
      this.el.setAttribute('aria-label', n ? `${w.t('open')} (${w.t('unread', { n })})` : w.t('open'));
    }
    this.renderPeek(n);
  }

  renderPeek(unread) {
    const w = this.w;
    const last = w.lastAgentId();
    const m = w.msgs.get(last);
    if (w.isOpen || !unread || !m || last <= this.dismissed) {
      this.peek.hidden = true;
      return;
    }
    this.peek.replaceChildren(
      h('button', { type: 'button', class: 'kf-peek-open', onclick: () => w.open() },
        h('div', { class: 'kf-peek-name' }, (m.author && m.author.name) || w.t('agentDefault')),
        h('div', { class: 'kf-peek-text' }, this.summary(m))),
      h('button', {
        type: 'button', class: 'kf-peek-x', 'aria-label': w.t('close'),
        onclick: () => { this.dismissed = last; this.peek.hidden = true; },
      }, icon('close', 16)),
    );
    this.peek.hidden = false;
  }

  // The message's text, or "[Image]" / "[File]" for an attachment alone.
  summary(m) {
    const text = (m.text || '').trim();
    if (text || !(m.attachments && m.attachments.length)) return text;
    return `[${this.w.t(isImage(m.attachments[0]) ? 'image' : 'file')}]`;
  }
}
