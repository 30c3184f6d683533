/**
 * The signed-in session both consoles run in: the session cookie carries every API call (same
 * origin, so the browser's `Sec-Fetch-Site` answers the server's CSRF check). When the session
 * has ended, the person signs in again and comes back to where they were.
 */
export function signIn(): void {
  location.href = `/login?next=${encodeURIComponent(location.pathname + location.search + location.hash)}`;
}

/** Ends the session; answers the reason when the server could not be told. */
export async function signOut(): Promise<string | null> {
  try {
    const res = await fetch('/logout', { method: 'POST', headers: { Accept: 'application/json' } });
    if (!res.ok && res.status !== 401) return `Signing out failed (the server answered ${res.status}). Reload the page and try again.`;
  } catch (err) {
    return `The server could not be reached (${err instanceof Error ? err.message : String(err)}). Check the connection and try again.`;
  }
  location.href = '/login';
  return null;
}
