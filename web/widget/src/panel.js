// panel.js -- the chat panel's frame: the header (channel name, who serves,
// the agent's initial), the banner under it (reconnecting, offline, place in
// the queue), the body that holds the thread or a form with a toast for
// errors, and the composer at the foot.
import { h, icon, iconButton } from './dom.js';
import { QUEUE_CAP, agentName, isClosed, isQueued } from './model.js';

export class Panel {
  constructor(w) {
    this.w = w;
    this.avatar = h('div', { class: 'kf-avatar', 'aria-hidden': 'true' }, icon('agent'));
    this.title = h('h2', { class: 'kf-title', id: 'kf-title' });
    this.status = h('div', { class: 'kf-status', 'aria-live': 'polite' });
    const head = h('header', { class: 'kf-head' },
      this.avatar,
      h('div', { class: 'kf-head-text' }, this.title, this.status),
      iconButton('kf-head-btn', w.t('minimize'), 'minimize', { onclick: () => w.close() }),
    );
    this.banner = h('div', { class: 'kf-banner', role: 'status', hidden: true });
    this.toast = h('div', { class: 'kf-toast', role: 'alert', hidden: true });
    const body = h('div', { class: 'kf-body' }, w.thread.el, w.forms.el, this.toast);
    this.el = h('section', {
      class: 'kf-panel', id: 'kf-panel', role: 'dialog', 'aria-labelledby': 'kf-title', tabindex: '-1', hidden: true,
    }, head, this.banner, body, w.composer.el);
  }

  renderHead() {
    const w = this.w;
    const online = w.cfg.online !== false;
    const agent = agentName(w.conv);
    this.title.textContent = w.channelName();
    this.status.textContent = this.statusText(online, agent);
    this.avatar.classList.toggle('kf-on', online || !!agent);
    this.avatar.replaceChildren(agent ? agent.trim().slice(0, 1).toUpperCase() : icon('agent'));
  }

  statusText(online, agent) {
    const { t, conv } = this.w;
    if (agent && !isClosed(conv)) return t('servedBy', { name: agent });
    if (!online) return t('offline');
    if (isQueued(conv)) return t('waiting');
    return t('online');
  }

  setBanner() {
    const { t, conv, cfg, api, socket } = this.w;
    let text = '';
    let info = false;
    if (api.token && socket.reconnecting()) text = t('reconnecting');
    else if (cfg.online === false && this.w.view === 'chat' && !(conv && conv.agent)) text = t('offlineBanner');
    else if (isQueued(conv) && !conv.agent) {
      const n = conv.queue_position;
      text = t(n >= QUEUE_CAP ? 'queueMany' : 'queue', { n });
      info = true;
    }
    this.banner.textContent = text;
    this.banner.classList.toggle('kf-info', info);
    this.banner.hidden = !text;
  }

  showToast(text) {
    clearTimeout(this.toastTimer);
    this.toast.textContent = text;
    this.toast.hidden = false;
    this.toastTimer = setTimeout(() => { this.toast.hidden = true; }, 6000);
  }
}
