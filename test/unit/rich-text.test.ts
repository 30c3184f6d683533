import { describe, expect, it } from '@jest/globals';
import { richBlocks } from '../../src/client/shared/rich-text.ts';
import { richText } from '../../src/pages/rich-text.ts';

describe('usage instructions', () => {
  const text = 'Show this page at the till.\nOne per visit.\n\n- **Not** with other offers\n* Terms: https://shop.example/terms.\n\nAsk **staff at https://shop.example/help** for help';

  it('reads paragraphs, lines, lists, bold and links as one structure', () => {
    expect(richBlocks(text)).toEqual([
      { kind: 'paragraph', lines: [[{ text: 'Show this page at the till.', bold: false }], [{ text: 'One per visit.', bold: false }]] },
      { kind: 'list', items: [
        [{ text: 'Not', bold: true }, { text: ' with other offers', bold: false }],
        [{ text: 'Terms: ', bold: false }, { text: 'https://shop.example/terms', bold: false, href: 'https://shop.example/terms' }, { text: '.', bold: false }],
      ] },
      { kind: 'paragraph', lines: [[
        { text: 'Ask ', bold: false }, { text: 'staff at ', bold: true },
        { text: 'https://shop.example/help', bold: true, href: 'https://shop.example/help' }, { text: ' for help', bold: false },
      ]] },
    ]);
  });

  it('renders the page\'s HTML from it, with every piece of text escaped', () => {
    const out = richText(text).value;
    expect(out).toContain('<p>Show this page at the till.<br>One per visit.</p>');
    expect(out).toContain('<li><strong>Not</strong> with other offers</li>');
    expect(out).toContain('<a href="https://shop.example/terms" rel="noopener noreferrer nofollow" target="_blank">https://shop.example/terms</a>.');
    const hostile = richText('<script>alert(1)</script> **<img src=x onerror=alert(1)>** javascript:alert(1) https://x.example/"onmouseover=1').value;
    expect(hostile).not.toMatch(/<script|<img|href="javascript/);
    expect(hostile).toContain('&lt;script&gt;');
    expect(hostile).toContain('href="https://x.example/"');
  });
});
