import { richBlocks, type RichLine } from '../client/shared/rich-text.ts';
import { html, type SafeHtml } from './html.ts';

/**
 * Campaign instructions as the coupon page shows them: `**bold**`, links, "- " lists and
 * paragraphs, read by the same parser as the consoles (src/client/shared/rich-text.ts).
 * Every piece of text is escaped, so no HTML from a campaign reaches the page.
 */
export function richText(text: string): SafeHtml {
  return html`${richBlocks(text).map((b) => (b.kind === 'paragraph'
    ? html`<p>${b.lines.map((l, i) => html`${i ? html`<br>` : ''}${line(l)}`)}</p>`
    : html`<ul>${b.items.map((l) => html`<li>${line(l)}</li>`)}</ul>`))}`;
}

function line(spans: RichLine): SafeHtml {
  return html`${spans.map((s) => {
    const text = s.href ? html`<a href="${s.href}" rel="noopener noreferrer nofollow" target="_blank">${s.text}</a>` : html`${s.text}`;
    return s.bold ? html`<strong>${text}</strong>` : text;
  })}`;
}
