import crypto from 'node:crypto';
import type { Response } from 'express';
import { localeNames, locales, type Locale } from '../i18n/locales.ts';

/** Markup that is already safe: built by `html`, or trusted output of our own renderers. */
export class SafeHtml {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

export type Interpolation = SafeHtml | string | number | null | undefined | false | readonly Interpolation[];

const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => entities[c]!);
}

function render(value: Interpolation): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/** Tagged template: every interpolated value is escaped unless it is SafeHtml. */
export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new SafeHtml(out);
}

/**
 * A catalogue message with markup in its variables (a <time>, a highlighted code): the
 * message is called with placeholders, its text escaped, then the placeholders replaced by
 * the variables' markup. The sentence stays whole in the catalogue.
 */
export function htmlMessage<P extends Record<string, string>>(message: (p: P) => string, vars: { [K in keyof P]: SafeHtml | string }): SafeHtml {
  const keys = Object.keys(vars);
  const placeholders = Object.fromEntries(keys.map((k, i) => [k, `\uE000${i}\uE001`])) as P;
  const text = escapeHtml(message(placeholders));
  return new SafeHtml(text.replace(/\uE000(\d+)\uE001/g, (_m, i: string) => render(vars[keys[Number(i)]!]!)));
}

/** Marks trusted markup (our own SVG renderers) as safe. Never pass user input. */
export function trusted(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

export interface Theme {
  background: string;
  button: string;
  buttonText: string;
}

const defaultTheme: Theme = { background: '#f6f7f9', button: '#06c755', buttonText: '#ffffff' };
const hexColor = /^#[0-9a-fA-F]{6}$/;

/** Colours go into CSS, so anything but #rrggbb falls back to the default. */
function safeTheme(t: Theme | undefined): Theme {
  const pick = (v: string | undefined, d: string) => (v && hexColor.test(v) ? v : d);
  return { background: pick(t?.background, defaultTheme.background), button: pick(t?.button, defaultTheme.button), buttonText: pick(t?.buttonText, defaultTheme.buttonText) };
}

/** Relative luminance decides whether text on the page background is dark or light. */
function textOn(background: string): string {
  const n = parseInt(background.slice(1), 16);
  const lin = (c: number) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  const l = 0.2126 * lin((n >> 16) & 255) + 0.7152 * lin((n >> 8) & 255) + 0.0722 * lin(n & 255);
  return l > 0.4 ? '#1a1a1a' : '#ffffff';
}

const baseCss = `
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;background:var(--bg);color:var(--fg);overflow-wrap:anywhere;line-break:strict}
body:lang(ja){font-family:system-ui,-apple-system,"Hiragino Sans","Hiragino Kaku Gothic ProN","Yu Gothic UI","Meiryo","Noto Sans CJK JP","Noto Sans JP",sans-serif}
body:lang(zh-TW){font-family:system-ui,-apple-system,"PingFang TC","Microsoft JhengHei","Noto Sans CJK TC","Noto Sans TC",sans-serif}
body:lang(th){font-family:system-ui,-apple-system,"Thonburi","Leelawadee UI","Noto Sans Thai","Noto Sans Thai UI","Sarabun","Loma",sans-serif;line-height:1.7}
img,svg{max-width:100%}
.langs{max-width:480px;margin:0 auto;padding:10px 16px 0;display:flex;flex-wrap:wrap;justify-content:flex-end;gap:4px 12px;font-size:.85rem}
.langs a{color:var(--fg);opacity:.8;text-decoration:none;padding:4px 2px}
.langs a[aria-current]{opacity:1;font-weight:700;text-decoration:underline}
main{max-width:480px;margin:0 auto;padding:16px 16px 40px}
.card{background:#fff;color:#1a1a1a;border-radius:16px;overflow:hidden;box-shadow:0 2px 12px rgba(0,0,0,.12);margin-bottom:16px}
.card-body{padding:16px 20px 20px}
.hero{display:block;width:100%;height:auto;aspect-ratio:1/1;object-fit:cover;background:#eee}
h1{font-size:1.35rem;line-height:1.3;margin:0 0 4px}
h2{font-size:1.05rem;margin:20px 0 6px}
.reward{font-size:1.2rem;font-weight:700;margin:0 0 12px}
.meta{margin:0;padding:0;list-style:none;font-size:.95rem;color:#444}
.meta li{margin:2px 0}
.deadline{margin-left:.5em}
.status{display:inline-block;padding:2px 10px;border-radius:999px;font-size:.85rem;font-weight:600;background:#eef;color:#224}
.status-redeemed,.status-verified{background:#e6f6ea;color:#125b2a}
.status-expired,.status-void{background:#fde8e8;color:#8a1c1c}
.btn{display:block;width:100%;padding:14px 16px;margin:16px 0 0;border:0;border-radius:12px;font:inherit;font-weight:700;font-size:1.05rem;text-align:center;text-decoration:none;cursor:pointer;background:var(--btn);color:var(--btn-text)}
.btn[disabled]{opacity:.6;cursor:default}
.btn-secondary{background:#e9ebef;color:#1a1a1a}
.notice{border-radius:12px;padding:12px 16px;margin:0 0 16px;background:#fff4e5;color:#5a3600;border:1px solid #f3c98b}
.notice-ok{background:#e6f6ea;color:#125b2a;border-color:#9fd6ad}
.notice h2{margin:0 0 4px}
.code-box{text-align:center;margin:16px 0 0;padding:16px;border:2px dashed #ccc;border-radius:12px}
.code{font:700 1.6rem/1.2 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;letter-spacing:.06em;word-break:break-all;user-select:all}
.barcode{margin:12px auto 0;max-width:320px}
.barcode svg{display:block;width:100%;height:auto;background:#fff}
.code-box.used{border-style:solid;border-color:#d0d0d0;background:#f4f4f4}
.code-box.used .code{color:#8a8a8a;text-decoration:line-through;user-select:none}
.used-on{font-weight:700}
.notice-test{background:#eef3ff;color:#1d3b7a;border-color:#a9bff0}
.instructions{font-size:.95rem;color:#333;overflow-wrap:anywhere}
.instructions p{margin:0 0 8px}
.instructions ul{margin:0 0 8px;padding-left:1.25em}
a{color:#0b63c5}
.muted{color:#666;font-size:.9rem}
.list{list-style:none;margin:0;padding:0}
.list a.item{display:block;text-decoration:none;color:inherit}
.item{background:#fff;color:#1a1a1a;border-radius:12px;padding:14px 16px;margin:0 0 10px;box-shadow:0 1px 6px rgba(0,0,0,.1)}
.item h2{margin:0 0 2px}
.actions{display:flex;gap:10px}
.actions>*{flex:1}
`;

export interface PageOptions {
  title: string;
  /** The page's language (`<html lang>`); English when absent. */
  lang?: Locale;
  /** With a label: links to the page in every language (`?lang=…`, remembered by a cookie). */
  languageSwitch?: string;
  nonce: string;
  body: SafeHtml;
  theme?: Theme;
  /** Extra CSS (static strings only). */
  css?: string;
  /**
   * The page's scripts: URLs of client modules (`assetUrl('admin/main.ts')`), loaded as ES modules
   * from this origin. Pages carry no inline script; data a script needs goes in `data-` attributes.
   */
  scripts?: string[];
}

export function renderPage(p: PageOptions): string {
  const t = safeTheme(p.theme);
  const vars = `:root{--bg:${t.background};--fg:${textOn(t.background)};--btn:${t.button};--btn-text:${t.buttonText}}`;
  return html`<!doctype html>
<html lang="${p.lang ?? 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1,viewport-fit=cover">
<meta name="robots" content="noindex,nofollow">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>${p.title}</title>
<style nonce="${p.nonce}">${trusted(vars + baseCss + (p.css ?? ''))}</style>
</head><body>
${p.languageSwitch ? languageSwitch(p.languageSwitch, p.lang ?? 'en') : ''}
${p.body}
${(p.scripts ?? []).map((src) => html`<script type="module" src="${src}"></script>`)}
</body></html>`.value;
}

function languageSwitch(label: string, current: Locale): SafeHtml {
  return html`<nav class="langs" id="langs" aria-label="${label}">${locales.map((l) => html`<a href="?lang=${encodeURIComponent(l)}" lang="${l}" hreflang="${l}" data-lang="${l}"${l === current ? html` aria-current="true"` : ''}>${localeNames[l]}</a>`)}</nav>`;
}

export function newNonce(): string {
  return crypto.randomBytes(16).toString('base64');
}

export interface PageHeaders {
  nonce: string;
  /** Origins allowed to frame the page; customer pages allow none, previews only our own pages. */
  frameAncestors?: 'none' | 'self' | '*';
  /** Extra image origins (campaign images served from PUBLIC_BASE_URL). */
  imgOrigins?: string[];
  /** The page frames pages of our own (the admin console's coupon page preview). */
  framesSelf?: boolean;
}

/** Headers every page carries: never cached, never indexed, no referrer leaking the token, a strict CSP. */
export function setPageHeaders(res: Response, h: PageHeaders): void {
  const frame = h.frameAncestors ?? 'none';
  const img = ["'self'", 'data:', ...(h.imgOrigins ?? [])].join(' ');
  res.set({
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'no-referrer',
    'X-Robots-Tag': 'noindex, nofollow',
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': [
      "default-src 'none'",
      // Scripts only as files from this origin (src/client/, served under /assets/): never inline.
      "script-src 'self'",
      `style-src 'nonce-${h.nonce}'`,
      `img-src ${img}`,
      "connect-src 'self'",
      ...(h.framesSelf ? ["frame-src 'self'"] : []),
      "form-action 'self'",
      "base-uri 'none'",
      `frame-ancestors ${frame === '*' ? '*' : `'${frame}'`}`,
    ].join('; '),
  });
  if (frame !== '*') res.set('X-Frame-Options', frame === 'self' ? 'SAMEORIGIN' : 'DENY');
}

/** Sends a whole page with the page headers. */
export function sendPage(res: Response, status: number, build: (nonce: string) => string, h: Omit<PageHeaders, 'nonce'> = {}): void {
  const nonce = newNonce();
  setPageHeaders(res, { ...h, nonce });
  res.status(status).type('html').send(build(nonce));
}
