import { html, renderPage, type SafeHtml } from './html.ts';

const css = `
main{max-width:420px}
form label{display:block;font-weight:600;margin:12px 0 4px}
form input{width:100%;padding:12px;border:1px solid #ccd;border-radius:10px;font:inherit;background:#fff;color:#1a1a1a}
.error{background:#fde8e8;color:#8a1c1c;border:1px solid #f2b8b8;border-radius:10px;padding:10px 14px;margin:12px 0 0}
.ok{background:#e6f6ea;color:#125b2a;border:1px solid #9fd6ad;border-radius:10px;padding:10px 14px;margin:12px 0 0}
details{margin:16px 0 0}
summary{cursor:pointer;color:#0b63c5}
`;

function page(title: string, nonce: string, body: SafeHtml): string {
  return renderPage({ title, nonce, body: html`<main><article class="card"><div class="card-body">${body}</div></article></main>`, css });
}

export interface SignInView {
  next: string;
  formToken: string;
  error?: string;
  login?: string;
}

/** Email or name and password; or an API token (the ADMIN_TOKEN of a new install). */
export function signInPage(v: SignInView, nonce: string): string {
  return page('Sign in', nonce, html`<h1>Sign in</h1>
${v.error ? html`<p class="error" role="alert" id="sign-in-error">${v.error}</p>` : ''}
<form method="post" action="/login" id="sign-in-form">
<input type="hidden" name="_csrf" value="${v.formToken}">
<input type="hidden" name="next" value="${v.next}">
<label for="login">Email or name</label>
<input id="login" name="login" autocomplete="username" required value="${v.login ?? ''}" autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button class="btn" type="submit">Sign in</button>
</form>
<details><summary>Sign in with an API token</summary>
<form method="post" action="/login" id="token-form">
<input type="hidden" name="_csrf" value="${v.formToken}">
<input type="hidden" name="next" value="${v.next}">
<label for="token">API token (or the admin token of this install)</label>
<input id="token" name="token" type="password" autocomplete="off" required>
<button class="btn btn-secondary" type="submit">Sign in with the token</button>
</form>
</details>
<p class="muted">No password yet? Ask the owner for a sign-in link.</p>`);
}

/** The page a sign-in link opens: one press spends it (link previews only read the page). */
export function signInLinkPage(v: { valid: boolean; formToken: string; action: string }, nonce: string): string {
  if (!v.valid) {
    return page('Sign-in link', nonce, html`<h1>This link cannot be used</h1>
<p>It has been used already, has expired, or was never valid. Ask the owner for a new sign-in link.</p>
<p><a href="/login">Sign in with a password</a></p>`);
  }
  return page('Sign-in link', nonce, html`<h1>Sign in</h1>
<p>This link signs you in once on this device.</p>
<form method="post" action="${v.action}" id="link-form">
<input type="hidden" name="_csrf" value="${v.formToken}">
<button class="btn" type="submit">Sign in</button>
</form>`);
}

export interface AccountView {
  name: string;
  role: string;
  home: string;
  hasPassword: boolean;
  csrfToken: string;
  message?: { ok: boolean; text: string };
}

/** The signed-in person's page: set or change the password, go to work, sign out. */
export function accountPage(v: AccountView, nonce: string): string {
  return page('Your account', nonce, html`<h1>${v.name}</h1>
<p class="muted" id="account-role">Signed in as ${v.role}.</p>
<a class="btn" href="${v.home}" id="go-home">Continue</a>
${v.message ? html`<p class="${v.message.ok ? 'ok' : 'error'}" role="status" id="account-message">${v.message.text}</p>` : ''}
<h2>${v.hasPassword ? 'Change your password' : 'Choose a password'}</h2>
<form method="post" action="/account/password" id="password-form">
<input type="hidden" name="_csrf" value="${v.csrfToken}">
${v.hasPassword ? html`<label for="current-password">Current password</label>
<input id="current-password" name="currentPassword" type="password" autocomplete="current-password" required>` : ''}
<label for="new-password">New password (at least 10 characters)</label>
<input id="new-password" name="password" type="password" autocomplete="new-password" minlength="10" required>
<button class="btn btn-secondary" type="submit">Save the password</button>
</form>
<form method="post" action="/logout" id="sign-out-form">
<input type="hidden" name="_csrf" value="${v.csrfToken}">
<button class="btn btn-secondary" type="submit">Sign out</button>
</form>`);
}
