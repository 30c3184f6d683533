/** Small DOM helpers: data always goes in as text, never as markup. */

/** The element with this id; a page without it is a bug in the page, so it throws. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found as T;
}

export function input(id: string): HTMLInputElement {
  return byId<HTMLInputElement>(id);
}

export function select(id: string): HTMLSelectElement {
  return byId<HTMLSelectElement>(id);
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string | number | null, className?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== null && text !== undefined) e.textContent = String(text);
  if (className) e.className = className;
  return e;
}

export function show(e: Element, on: boolean): void {
  e.classList.toggle('hidden', !on);
}

/** A status line: green for done, red for a refusal or an error. */
export function say(id: string, ok: boolean, text: string): void {
  const e = byId(id);
  e.className = ok ? 'ok' : 'reason';
  e.textContent = text;
}

/**
 * Anything that goes wrong in the page and is not handled where it happened is shown in the page's
 * error line as well as in the console, never lost.
 */
export function showUncaughtErrors(lineId: string): void {
  const report = (reason: unknown) => {
    const line = document.getElementById(lineId);
    if (line) line.textContent = `Something went wrong in this page: ${reason instanceof Error ? reason.message : String(reason)}. Reload it to go on.`;
  };
  window.addEventListener('error', (e) => report(e.error ?? e.message));
  window.addEventListener('unhandledrejection', (e) => report(e.reason));
}
