/**
 * Where to go back to after buying coins: a path of this app, kept in
 * `sessionStorage` across the checkout (the provider's page is another
 * origin, so the app is loaded afresh on the way back).
 *
 * Only same-origin paths are accepted (`/rooms/…`), never a full URL or a
 * protocol-relative `//host`, so a crafted `?returnTo=` link cannot send a
 * person elsewhere after paying.
 */

const KEY = 'streamshare.returnTo';

/** `value` when it is a path of this origin, else `null`. */
export function safeReturnPath(value: string | null | undefined): string | null {
  if (!value || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return null;
  try {
    const url = new URL(value, window.location.origin);
    if (url.origin !== window.location.origin) return null;
    return `${url.pathname}${url.search}${url.hash}`;
  } catch {
    return null;
  }
}

/** Keeps `path` (when safe) for the way back from a checkout; `null` forgets it. */
export function rememberReturnTo(path: string | null | undefined): void {
  const safe = safeReturnPath(path);
  try {
    if (safe) sessionStorage.setItem(KEY, safe);
    else sessionStorage.removeItem(KEY);
  } catch {
    // Storage can be disabled: the return page then offers the wallet.
  }
}

/** The remembered path, if any (re-checked: storage is not trusted either). */
export function readReturnTo(): string | null {
  try {
    return safeReturnPath(sessionStorage.getItem(KEY));
  } catch {
    return null;
  }
}

export function forgetReturnTo(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // nothing kept
  }
}
