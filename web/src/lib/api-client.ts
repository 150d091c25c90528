/**
 * The one HTTP client of the app: `client` is openapi-fetch typed by the
 * paths generated from docs/openapi.yaml (`client.GET('/api/rooms/{id}', …)`
 * checks the path, its parameters, the body and the answer), over one fetch
 * that adds the bearer access token, refreshes silently through the httpOnly
 * refresh cookie and throws every refusal as an `ApiError`.
 *
 * The access token lives only in memory. A page load gets one by calling
 * `POST /api/auth/refresh` (the cookie is `HttpOnly`, path `/api/auth`), and a
 * call answered 401 `token_expired` / `unauthorized` refreshes once and is
 * retried once. Concurrent refreshes share one request: the refresh token
 * rotates, so two parallel refreshes would race each other.
 *
 * A valid token whose account may not act (401 `account_closed`, 403
 * `account_suspended`, docs/openapi.yaml "Accounts that may not act") is
 * not refreshed: no new token helps. The session ends at once and the reason
 * is kept for the app to show (`getAccountRefusal`).
 */
import createClient from 'openapi-fetch';

import { env } from '@/config/env';
import type { ErrorBody, paths } from '@/types/api';

/** An API refusal (`{"error": {code, message, ...}}`) or a transport failure (status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  /** The offending field of a 422. */
  readonly field: string | undefined;
  /** Every entry of the error object, e.g. `balance` and `required` of a 402. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(status: number, code: string, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = typeof details.field === 'string' ? details.field : undefined;
    this.details = details;
  }

  /** A numeric entry of the error object (`balance`, `required`, `price`). */
  number(key: string): number | undefined {
    const value = this.details[key];
    return typeof value === 'number' ? value : undefined;
  }
}

export function isApiError(error: unknown, code?: string): error is ApiError {
  return error instanceof ApiError && (code === undefined || error.code === code);
}

/** A message for a person, whatever was thrown. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error && error.message) return error.message;
  return 'Something went wrong. Please try again.';
}

// ---- the access token ----

type TokenListener = (token: string | null) => void;

let accessToken: string | null = null;
const tokenListeners = new Set<TokenListener>();

/**
 * Remembers (not the token, only) that this browser had a session, so an
 * anonymous visit does not start with a refresh call that is bound to fail.
 */
const SESSION_HINT_KEY = 'streamshare.hasSession';

export function getAccessToken(): string | null {
  return accessToken;
}

export function setAccessToken(token: string | null): void {
  const restoring = !accessToken && hasSessionHint();
  // Even when the token does not change: a refused refresh on page load
  // (no token yet) must forget the hint, or every reload tries again.
  try {
    if (token) localStorage.setItem(SESSION_HINT_KEY, '1');
    else localStorage.removeItem(SESSION_HINT_KEY);
  } catch {
    // Storage can be disabled; the hint is only an optimisation.
  }
  // Unchanged, except that a session being restored turned out to be gone:
  // listeners hear that (the socket waits for the restore before it
  // connects as a guest).
  if (token === accessToken && !(restoring && !token)) return;
  accessToken = token;
  // A new session (a sign-in, a refresh that worked) is an account that may act.
  if (token) clearAccountRefusal();
  for (const listener of tokenListeners) listener(token);
}

export function subscribeAccessToken(listener: TokenListener): () => void {
  tokenListeners.add(listener);
  return () => tokenListeners.delete(listener);
}

export function hasSessionHint(): boolean {
  try {
    return localStorage.getItem(SESSION_HINT_KEY) === '1';
  } catch {
    return false;
  }
}

// ---- refused accounts ----

export type AccountRefusalCode = 'account_suspended' | 'account_closed';
/** Why the server stopped the session's account, in its own words. */
export type AccountRefusal = { code: AccountRefusalCode; message: string };

let accountRefusal: AccountRefusal | null = null;
const refusalListeners = new Set<() => void>();

export function isAccountRefusalCode(code: string): code is AccountRefusalCode {
  return code === 'account_suspended' || code === 'account_closed';
}

export function getAccountRefusal(): AccountRefusal | null {
  return accountRefusal;
}

export function subscribeAccountRefusal(listener: () => void): () => void {
  refusalListeners.add(listener);
  return () => refusalListeners.delete(listener);
}

function setAccountRefusal(refusal: AccountRefusal | null): void {
  if (refusal === accountRefusal) return;
  accountRefusal = refusal;
  for (const listener of refusalListeners) listener();
}

/** The person has read why they were signed out. */
export function clearAccountRefusal(): void {
  setAccountRefusal(null);
}

/**
 * The server refused the session's account (REST, refresh or a socket
 * connect): remember why, then drop the token, which signs the app out and
 * disconnects the socket, so nothing keeps retrying with it.
 */
export function refuseAccount(refusal: AccountRefusal): void {
  setAccountRefusal(refusal);
  setAccessToken(null);
}

// ---- refresh ----

let refreshing: Promise<string | null> | null = null;

/**
 * Trades the refresh cookie for a new access token. Concurrent callers share
 * one request. Resolves to the new token, or `null` when there is no session
 * (the token is then cleared, which signs the app out).
 */
export function refreshAccessToken(): Promise<string | null> {
  refreshing ??= (async () => {
    try {
      const { data } = await client.POST('/api/auth/refresh');
      const token = typeof data?.accessToken === 'string' ? data.accessToken : null;
      setAccessToken(token);
      return token;
    } catch (error) {
      // Offline: keep whatever session we had; the caller's request fails on its own.
      if (!isApiError(error) || error.status === 0) return null;
      if (isAccountRefusalCode(error.code)) refuseAccount({ code: error.code, message: error.message });
      else setAccessToken(null);
      return null;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

// ---- requests ----

const REFRESHABLE_CODES = new Set(['token_expired', 'unauthorized']);
/** Calls that are themselves about the session never trigger a refresh. */
const NO_REFRESH_PATHS = new Set(['/api/auth/login', '/api/auth/register', '/api/auth/refresh']);

async function readError(response: Response): Promise<ApiError> {
  let parsed: unknown = undefined;
  try {
    parsed = await response.json();
  } catch {
    // Not JSON (a proxy's HTML page, an empty body): described below.
  }
  const error = (parsed as Partial<ErrorBody> | undefined)?.error;
  if (error && typeof error.code === 'string') {
    const message = typeof error.message === 'string' && error.message ? error.message : error.code;
    return new ApiError(response.status, error.code, message, { ...error });
  }
  const message =
    response.status === 502 || response.status === 503 || response.status === 504
      ? 'The server is not reachable right now. Please try again shortly.'
      : `The server answered with status ${response.status}.`;
  return new ApiError(response.status, 'http_error', message);
}

/**
 * The fetch under `client`: sends the access token; a 401 `token_expired` /
 * `unauthorized` refreshes once (unless another call already did) and is
 * sent again once; any answer that is not 2xx is thrown as an `ApiError`,
 * and a refused account (`account_suspended`, `account_closed`) of the
 * current session ends it.
 */
async function authedFetch(request: Request): Promise<Response> {
  const path = new URL(request.url).pathname;
  // The body can be read once: keep a copy for the retry after a refresh.
  const again = request.clone();
  const send = async (req: Request, token: string | null): Promise<Response> => {
    const headers = new Headers(req.headers);
    if (token) headers.set('Authorization', `Bearer ${token}`);
    if (!headers.has('Accept')) headers.set('Accept', 'application/json');
    try {
      return await fetch(new Request(req, { headers, credentials: 'same-origin' }));
    } catch (error) {
      if (error instanceof DOMException && error.name === 'AbortError') throw error;
      throw new ApiError(0, 'network_error', 'Cannot reach StreamShare. Check your connection.');
    }
  };

  const sentWith = accessToken;
  let usedToken = sentWith;
  let response = await send(request, sentWith);

  if (response.status === 401 && !NO_REFRESH_PATHS.has(path.slice(path.indexOf('/api/')))) {
    const error = await readError(response.clone());
    if (REFRESHABLE_CODES.has(error.code)) {
      // Someone else may have refreshed while this call was in flight.
      let token = accessToken !== sentWith ? accessToken : null;
      if (!token && (sentWith !== null || hasSessionHint())) token = await refreshAccessToken();
      if (token) {
        usedToken = token;
        response = await send(again, token);
      }
    }
  }

  if (!response.ok) {
    const error = await readError(response);
    // Only the current session's account: a late answer for a session that
    // has since been replaced (log out, log in as someone else) ends nothing.
    if (isAccountRefusalCode(error.code) && usedToken !== null && usedToken === accessToken) {
      refuseAccount({ code: error.code, message: error.message });
    }
    throw error;
  }
  return response;
}

/** Query parameters: empty values (`undefined`, `null`, `''`) are left out: the API reads them as unset. */
function querySerializer(query: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    // The API's query parameters are all scalars.
    if (typeof value === 'string' ? value !== '' : typeof value === 'number' || typeof value === 'boolean') {
      params.set(key, String(value));
    }
  }
  return params.toString();
}

/** A plain value is sent as JSON; a Blob (an image upload), FormData or string as it is. */
function bodySerializer(body: unknown): BodyInit {
  if (body instanceof Blob || body instanceof FormData || typeof body === 'string') return body;
  return JSON.stringify(body);
}

/**
 * The typed API client. Paths are the description's (`/api/...`); a call
 * resolves to `{data, response}` for a 2xx answer and rejects with an
 * `ApiError` otherwise, so `data` is the success body (use `body()`).
 */
export const client = createClient<paths>({
  // Absolute, so it works the same in the browser and under Node's fetch in tests.
  baseUrl: env.apiOrigin ?? window.location.origin,
  fetch: authedFetch,
  querySerializer,
  bodySerializer,
});

/** The success body of a `client` call (its errors are thrown as `ApiError`). */
export async function body<T>(call: Promise<{ data?: T; response: Response }>): Promise<T> {
  const { data } = await call;
  return data as T;
}
