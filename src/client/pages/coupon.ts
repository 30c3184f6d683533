/**
 * The customer pages' script (coupon page, verify confirmation): records that the coupon was
 * opened (link-preview crawlers run no scripts, so a GET alone never counts), and keeps a form
 * from being sent twice by a second tap.
 */
const main = document.querySelector<HTMLElement>('main[data-open-url]');
if (main?.dataset.openUrl) {
  // An open that is not recorded only leaves a funnel count short; the customer sees the page either way.
  fetch(main.dataset.openUrl, { method: 'POST', keepalive: true, credentials: 'omit' }).catch((err: unknown) => {
    console.warn('the coupon open was not recorded', err);
  });
}

for (const form of document.querySelectorAll<HTMLFormElement>('form[data-once]')) {
  form.addEventListener('submit', () => {
    const button = form.querySelector<HTMLButtonElement>('button[data-busy]');
    if (!button) return;
    // After the submit has started: a disabled button would not be sent with the form.
    setTimeout(() => {
      button.disabled = true;
      button.textContent = button.dataset.busy ?? button.textContent;
    }, 0);
  });
}
