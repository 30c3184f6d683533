/**
 * Campaign instructions: plain text with line breaks, plus `**bold**`, http(s) links, lines
 * starting with "- " or "* " as a bulleted list, and a blank line between paragraphs. Everything
 * else is text, shown as written. The coupon page (server, src/pages/rich-text.ts) and the
 * consoles (`richText` below, DOM nodes built with textContent) read the same structure, so no
 * markup from a campaign ever reaches a page.
 */
export interface RichSpan {
  text: string;
  bold: boolean;
  /** Set when the span is a link (its text is the URL). */
  href?: string;
}
/** One line of a paragraph or one list item. */
export type RichLine = RichSpan[];
export type RichBlock = { kind: 'paragraph'; lines: RichLine[] } | { kind: 'list'; items: RichLine[] };

export function richBlocks(text: string): RichBlock[] {
  const blocks: RichBlock[] = [];
  let paragraph: RichLine[] = [];
  let items: RichLine[] = [];
  const flushParagraph = () => {
    if (paragraph.length) blocks.push({ kind: 'paragraph', lines: paragraph });
    paragraph = [];
  };
  const flushList = () => {
    if (items.length) blocks.push({ kind: 'list', items });
    items = [];
  };
  for (const rawLine of text.replace(/\r\n?/g, '\n').split('\n')) {
    const line = rawLine.trimEnd();
    const bullet = /^\s*[-*]\s+(.*)$/.exec(line);
    if (bullet) {
      flushParagraph();
      items.push(richLine(bullet[1]!));
    } else if (line.trim() === '') {
      flushParagraph();
      flushList();
    } else {
      flushList();
      paragraph.push(richLine(line));
    }
  }
  flushParagraph();
  flushList();
  return blocks;
}

const urlPattern = /https?:\/\/[^\s<>"'`]+/g;

/** Bold first, then links inside each piece, so a URL may sit inside bold text. */
function richLine(text: string): RichLine {
  const spans: RichLine = [];
  text.split(/\*\*(.+?)\*\*/g).forEach((part, i) => spans.push(...linked(part, i % 2 === 1)));
  return spans.filter((s) => s.text !== '');
}

function linked(text: string, bold: boolean): RichSpan[] {
  const out: RichSpan[] = [];
  let last = 0;
  for (const m of text.matchAll(urlPattern)) {
    let url = m[0];
    // Sentence punctuation after a URL is not part of it.
    const trail = /[.,;:!?)\]]+$/.exec(url);
    if (trail) url = url.slice(0, -trail[0].length);
    out.push({ text: text.slice(last, m.index), bold }, { text: url, bold, href: url });
    last = m.index + url.length;
  }
  out.push({ text: text.slice(last), bold });
  return out;
}

/** The instructions as DOM nodes for a console: every piece of text goes in as text. */
export function richText(text: string): DocumentFragment {
  const out = document.createDocumentFragment();
  const line = (spans: RichLine, into: HTMLElement) => {
    for (const s of spans) {
      let node: Node = document.createTextNode(s.text);
      if (s.href) {
        const a = document.createElement('a');
        a.href = s.href;
        a.rel = 'noopener noreferrer nofollow';
        a.target = '_blank';
        a.append(node);
        node = a;
      }
      if (s.bold) {
        const strong = document.createElement('strong');
        strong.append(node);
        node = strong;
      }
      into.append(node);
    }
  };
  for (const b of richBlocks(text)) {
    if (b.kind === 'paragraph') {
      const p = document.createElement('p');
      b.lines.forEach((l, i) => {
        if (i) p.append(document.createElement('br'));
        line(l, p);
      });
      out.append(p);
    } else {
      const ul = document.createElement('ul');
      for (const item of b.items) {
        const li = document.createElement('li');
        line(item, li);
        ul.append(li);
      }
      out.append(ul);
    }
  }
  return out;
}
