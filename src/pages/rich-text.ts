import { html, type SafeHtml } from './html.ts';

/**
 * Campaign instructions as the coupon page shows them. Deliberately tiny and safe: the text is
 * plain text with line breaks; on top of that `**bold**`, http(s) URLs become links, lines
 * starting with "- " or "* " form a bulleted list, and a blank line starts a new paragraph.
 * Everything else is shown literally (escaped), so no HTML from a campaign reaches the page.
 */
export function richText(text: string): SafeHtml {
  const blocks: SafeHtml[] = [];
  let paragraph: string[] = [];
  let items: string[] = [];
  const flushParagraph = () => {
    if (paragraph.length) blocks.push(html`<p>${paragraph.map((l, i) => html`${i ? html`<br>` : ''}${inline(l)}`)}</p>`);
    paragraph = [];
  };
  const flushList = () => {
    if (items.length) blocks.push(html`<ul>${items.map((l) => html`<li>${inline(l)}</li>`)}</ul>`);
    items = [];
  };
  for (const rawLine of text.replace(/\r\n?/g, '\n').split('\n')) {
    const line = rawLine.trimEnd();
    const bullet = /^\s*[-*]\s+(.*)$/.exec(line);
    if (bullet) {
      flushParagraph();
      items.push(bullet[1]!);
    } else if (line.trim() === '') {
      flushParagraph();
      flushList();
    } else {
      flushList();
      paragraph.push(line);
    }
  }
  flushParagraph();
  flushList();
  return html`${blocks}`;
}

const urlPattern = /https?:\/\/[^\s<>"'`]+/g;

/** Bold first, then links inside each piece, so a URL may sit inside bold text. */
function inline(text: string): SafeHtml {
  const parts = text.split(/\*\*(.+?)\*\*/g);
  return html`${parts.map((part, i) => (i % 2 === 1 ? html`<strong>${linkify(part)}</strong>` : linkify(part)))}`;
}

function linkify(text: string): SafeHtml {
  const out: SafeHtml[] = [];
  let last = 0;
  for (const m of text.matchAll(urlPattern)) {
    let url = m[0];
    // Sentence punctuation after a URL is not part of it.
    const trail = /[.,;:!?)\]]+$/.exec(url);
    if (trail) url = url.slice(0, -trail[0].length);
    out.push(html`${text.slice(last, m.index)}<a href="${url}" rel="noopener noreferrer nofollow" target="_blank">${url}</a>`);
    last = m.index + url.length;
  }
  out.push(html`${text.slice(last)}`);
  return html`${out}`;
}
