// model.js -- what the desk's objects mean, read the same way by every part
// of the widget: who wrote a message and what it says, whether an
// attachment is an image, where a conversation stands.  No DOM is built here.

// 'customer' (the visitor), 'agent', 'system' …; undefined without an author.
export function kindOf(m) {
  return m.author && m.author.kind;
}

// Written on the desk's side (an agent, the system), not by the visitor.
export function fromDesk(m) {
  return !!m.author && m.author.kind !== 'customer';
}

// The message's text.  A message with only HTML (an e-mail) is shown as
// the text of the server's sanitized HTML, parsed inert: never as markup.
export function messageText(m) {
  if (typeof m.text === 'string' && m.text.trim()) return m.text;
  if (typeof m.html === 'string' && m.html) {
    try {
      const doc = new DOMParser().parseFromString(m.html, 'text/html');
      for (const br of doc.querySelectorAll('br')) br.replaceWith('\n');
      for (const b of doc.querySelectorAll('p, div, li, tr, h1, h2, h3, h4, h5, h6')) b.append('\n');
      return (doc.body.textContent || '').replace(/\n{3,}/g, '\n\n').trim();
    } catch {
      return '';
    }
  }
  return '';
}

// An image the browser shows inline (anything else is a file card).
export function isImage(a) {
  return /^image\/(png|jpe?g|gif|webp|bmp|avif)$/i.test(a.content_type || '');
}

export function isClosed(conv) {
  return !!conv && (conv.status_category === 'resolved' || conv.status_category === 'closed');
}

// The desk counts the queue up to this (CHAT_QUEUE_CAP in src/core/chat.h):
// a position of QUEUE_CAP means that many or more ahead, itself included.
export const QUEUE_CAP = 100;

// Waiting for an agent: the desk sends a queue position above 0.
export function isQueued(conv) {
  return !!conv && !isClosed(conv) && typeof conv.queue_position === 'number' && conv.queue_position > 0;
}

export function agentName(conv) {
  return conv && conv.agent && conv.agent.name;
}
