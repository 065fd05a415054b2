// rating.js -- the card under an ended conversation: five stars and an
// optional comment to rate the service, then the rating given, read-only.
// The card is kept between re-renders, so a half-written comment survives
// the events that arrive meanwhile.
import { ApiError } from './api.js';
import { h, icon } from './dom.js';

const SCORES = [1, 2, 3, 4, 5];
const STEP = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1 };

function readonlyStars(score, t) {
  return h('div', { class: 'kf-stars kf-stars-ro', role: 'img', 'aria-label': t('rateStar', { n: score }) },
    SCORES.map((n) => h('span', { class: `kf-star${n <= score ? ' kf-lit' : ''}` }, icon('star'))));
}

// A radio group: click or the arrow keys pick a score, hovering previews one.
function starPicker(t, onPick) {
  let current = 0;
  const paint = (k) => btns.forEach((b, i) => b.classList.toggle('kf-lit', i < k));
  const pick = (n) => {
    current = n;
    paint(n);
    btns.forEach((b, i) => {
      b.setAttribute('aria-checked', String(i === n - 1));
      b.tabIndex = i === n - 1 ? 0 : -1;
    });
    onPick(n);
  };
  const btns = SCORES.map((n) => h('button', {
    type: 'button', class: 'kf-star', role: 'radio', 'aria-checked': 'false', 'aria-label': t('rateStar', { n }),
    title: t('rateLabels')[n - 1], 'data-score': String(n), tabindex: n === 1 ? '0' : '-1',
    onclick: () => pick(n),
    onmouseenter: () => paint(n),
    onmouseleave: () => paint(current),
    onkeydown: (e) => {
      const step = STEP[e.key];
      if (!step) return;
      e.preventDefault();
      // With nothing picked yet, either direction picks the first star.
      pick(current ? Math.min(5, Math.max(1, current + step)) : 1);
      btns[current - 1].focus();
    },
  }, icon('star')));
  return h('div', { class: 'kf-stars', role: 'radiogroup', 'aria-labelledby': 'kf-rate-title' }, btns);
}

export class Rating {
  constructor(w) {
    this.w = w;
    this.reset();
  }

  // A new ticket gets a fresh card.
  reset() {
    this.score = 0;
    this.sending = false;
    this.done = false; // rated just now (the card thanks), not earlier
    this.el = null;
  }

  // The card for the thread, or null when there is nothing to rate.
  card() {
    const c = this.w.conv;
    if (!c) return null;
    if (c.rating && typeof c.rating.score === 'number') return this.rated(c.rating);
    if (!c.can_rate) return null;
    if (!this.el) this.el = this.ask();
    return this.el;
  }

  rated(rating) {
    const t = this.w.t;
    return h('div', { class: 'kf-card kf-rated' },
      h('h3', null, this.done ? t('rateThanks') : t('rateYours')),
      readonlyStars(rating.score, t),
      rating.comment ? h('div', { class: 'kf-star-label' }, rating.comment) : null);
  }

  ask() {
    const t = this.w.t;
    const label = h('div', { class: 'kf-star-label', 'aria-live': 'polite' });
    const comment = h('textarea', { class: 'kf-input', rows: '2', placeholder: t('rateComment'), 'aria-label': t('rateComment'), maxlength: '1000' });
    const send = h('button', { class: 'kf-primary', type: 'button', disabled: true, onclick: () => this.submit(send, comment) }, t('rateSend'));
    const stars = starPicker(t, (n) => {
      this.score = n;
      label.textContent = t('rateLabels')[n - 1];
      send.disabled = false;
    });
    return h('div', { class: 'kf-card kf-rate' }, h('h3', { id: 'kf-rate-title' }, t('rateTitle')), stars, label, comment, h('div', { style: 'height:10px' }), send);
  }

  async submit(button, comment) {
    const w = this.w;
    if (!this.score || this.sending) return;
    this.sending = true;
    button.disabled = true;
    try {
      const r = await w.authed(() => w.api.rate(this.score, comment.value.trim()));
      this.done = true;
      this.finish({ rating: (r && r.rating) || { score: this.score, comment: comment.value.trim() } });
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        this.finish({}); // rated already, or reopened: the card goes
      } else {
        w.panel.showToast(w.friendly(e));
        button.disabled = false;
      }
    } finally {
      this.sending = false;
    }
  }

  // The conversation cannot be rated again; the thread shows the outcome.
  finish(patch) {
    const w = this.w;
    w.conv = { ...w.conv, ...patch, can_rate: false };
    this.el = null;
    w.thread.render();
  }
}
