/**
 * A small browser WHIP (RFC 9725) / WHEP (draft-ietf-wish-whep) client, for
 * a media server that is not ours (MediaMTX, docs/mediamtx.md): one POST of
 * the SDP offer with a bearer token, the `201 Created` answer, the session
 * URL from `Location` (relative to the endpoint, §4.2), ICE servers from
 * `Link: <url>; rel="ice-server"` headers (§4.6), and a `DELETE` of the
 * session URL to stop (§4.2). No trickle: the offer is sent once ICE
 * gathering is complete (or nearly), which every WHIP server accepts.
 */

/** A WHIP/WHEP session the server created. */
export type WhipSession = {
  /** The server's SDP answer. */
  answer: string;
  /** The session URL (absolute), for DELETE; `null` if the server gave none. */
  location: string | null;
  /** ICE servers the server offered in `Link` headers (may be empty). */
  iceServers: RTCIceServer[];
};

/** A refusal from the WHIP/WHEP endpoint, with its HTTP status. */
export class WhipError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'WhipError';
  }
}

type Fetch = typeof fetch;

function unquote(value: string): string {
  const v = value.trim();
  return v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1).replace(/\\(.)/g, '$1') : v;
}

/**
 * ICE servers from `Link` header values (RFC 9725 §4.6, RFC 8288 syntax):
 * `<turn:host>; rel="ice-server"; username="u"; credential="c"`.
 * Links of any other relation are ignored.
 */
export function parseIceServerLinks(header: string | null): RTCIceServer[] {
  if (!header) return [];
  const servers: RTCIceServer[] = [];
  // Several links in one header are comma separated; a new one starts with `<`.
  for (const link of header.split(/,\s*(?=<)/)) {
    const url = /^\s*<([^>]*)>/.exec(link)?.[1];
    if (!url) continue;
    const params = new Map<string, string>();
    for (const [, name = '', value = ''] of link.matchAll(/;\s*([^=;\s]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g)) {
      params.set(name.toLowerCase(), unquote(value));
    }
    if (params.get('rel') !== 'ice-server') continue;
    const server: RTCIceServer = { urls: url };
    const username = params.get('username');
    const credential = params.get('credential');
    if (username !== undefined) server.username = username;
    if (credential !== undefined) server.credential = credential;
    servers.push(server);
  }
  return servers;
}

async function refusal(response: Response): Promise<WhipError> {
  let detail = '';
  try {
    const text = await response.text();
    try {
      const body = JSON.parse(text) as { error?: unknown };
      detail = typeof body.error === 'string' ? body.error : text;
    } catch {
      detail = text;
    }
  } catch {
    // No body to read.
  }
  const why =
    response.status === 401 || response.status === 403
      ? 'The media server refused this stream (no access, or the ticket expired).'
      : `The media server answered ${response.status}.`;
  return new WhipError(response.status, detail ? `${why} ${detail.slice(0, 200)}` : why);
}

/**
 * POSTs `offer` to a WHIP or WHEP `endpoint` with `Authorization: Bearer
 * <token>` and returns the session the server created.
 */
export async function postOffer(
  endpoint: string,
  token: string,
  offer: string,
  fetchImpl: Fetch = fetch,
): Promise<WhipSession> {
  const response = await fetchImpl(endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${token}` },
    body: offer,
  });
  if (response.status !== 201) throw await refusal(response);
  const answer = await response.text();
  const location = response.headers.get('Location');
  return {
    answer,
    location: location ? new URL(location, endpoint).toString() : null,
    iceServers: parseIceServerLinks(response.headers.get('Link')),
  };
}

/**
 * Ends a session (`DELETE` on its URL, RFC 9725 §4.2). A session the server
 * already forgot (404) is ended all the same; other failures are ignored
 * too: the peer connection is closed either way and the server times out.
 */
export async function deleteSession(location: string | null, token: string, fetchImpl: Fetch = fetch): Promise<void> {
  if (!location) return;
  try {
    await fetchImpl(location, { method: 'DELETE', headers: { Authorization: `Bearer ${token}` } });
  } catch {
    // The network is gone; the server's ICE timeout ends the session.
  }
}
