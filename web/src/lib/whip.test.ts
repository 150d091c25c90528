/**
 * The WHIP/WHEP client against exchanges recorded in MediaMTX's shape
 * (bluenviron/mediamtx `internal/servers/webrtc/http_server.go`: 201 with
 * `Location: /<path>/whip/<uuid>`, `ETag: *`, one `Link` header per ICE
 * server as `whip.LinkHeaderMarshal` writes it; 401 JSON on refusal; DELETE
 * of the session URL answers 200), and the StreamShare step before it
 * (`POST /api/rooms/{id}/media-token`).
 */
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { setAccessToken } from '@/lib/api-client';
import { WhipError, deleteSession, parseIceServerLinks, postOffer } from '@/lib/whip';
import { startMediamtxSession } from '@/lib/whip-mediamtx';
import { server } from '@/testing/server';

const ENDPOINT = 'https://media.example.test:8889/streamshare/65f0a1b2c3d4e5f601234567/whip';
const SESSION = 'https://media.example.test:8889/streamshare/65f0a1b2c3d4e5f601234567/whip/0b8c2d52-7a35-4c7e-9d55-2b1f3e4a5c6d';
const OFFER = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';
const ANSWER = 'v=0\r\no=- 9 9 IN IP4 203.0.113.5\r\ns=-\r\nt=0 0\r\n';

type Seen = { method: string; url: string; contentType: string | null; authorization: string | null; body: string };

/** MediaMTX's WHIP endpoint and session URL, recording what the client sent. */
function recordMediamtx(seen: Seen[]) {
  const record = async (request: Request) => {
    seen.push({
      method: request.method,
      url: request.url,
      contentType: request.headers.get('content-type'),
      authorization: request.headers.get('authorization'),
      body: await request.text(),
    });
  };
  server.use(
    http.post(ENDPOINT, async ({ request }) => {
      await record(request);
      if (request.headers.get('authorization') !== 'Bearer media-token-1') {
        return HttpResponse.json({ status: 'error', error: 'authentication error' }, { status: 401 });
      }
      const headers = new Headers({
        'Content-Type': 'application/sdp',
        ETag: '*',
        ID: '2f6d1f3e-1c2b-4a5d-8e9f-0a1b2c3d4e5f',
        'Accept-Patch': 'application/trickle-ice-sdpfrag',
        Location: '/streamshare/65f0a1b2c3d4e5f601234567/whip/0b8c2d52-7a35-4c7e-9d55-2b1f3e4a5c6d',
      });
      headers.append('Link', '<stun:stun.example.test:3478>; rel="ice-server"');
      headers.append(
        'Link',
        '<turn:turn.example.test:3478>; rel="ice-server"; username="1700000000:u"; credential="a\\"b=="; credential-type="password"',
      );
      return new HttpResponse(ANSWER, { status: 201, headers });
    }),
    http.delete(SESSION, async ({ request }) => {
      await record(request);
      return HttpResponse.json({ status: 'ok' });
    }),
  );
}

describe('WHIP/WHEP client', () => {
  it('posts the offer with the bearer token and reads the answer, session URL and ICE servers', async () => {
    const seen: Seen[] = [];
    recordMediamtx(seen);
    const session = await postOffer(ENDPOINT, 'media-token-1', OFFER);
    expect(seen).toEqual([
      {
        method: 'POST',
        url: ENDPOINT,
        contentType: 'application/sdp',
        authorization: 'Bearer media-token-1',
        body: OFFER,
      },
    ]);
    expect(session.answer).toBe(ANSWER);
    // The relative Location is resolved against the endpoint (RFC 9725 §4.2).
    expect(session.location).toBe(SESSION);
    expect(session.iceServers).toEqual([
      { urls: 'stun:stun.example.test:3478' },
      { urls: 'turn:turn.example.test:3478', username: '1700000000:u', credential: 'a"b==' },
    ]);

    await deleteSession(session.location, 'media-token-1');
    expect(seen[1]).toMatchObject({ method: 'DELETE', url: SESSION, authorization: 'Bearer media-token-1' });
  });

  it('turns a refusal into an error with its status, and sends nothing to stop without a session URL', async () => {
    const seen: Seen[] = [];
    recordMediamtx(seen);
    const refused = await postOffer(ENDPOINT, 'stolen', OFFER).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WhipError);
    expect((refused as WhipError).status).toBe(401);
    expect((refused as WhipError).message).toMatch(/refused/);
    expect((refused as WhipError).message).toMatch(/authentication error/);
    await deleteSession(null, 'media-token-1');
    expect(seen.map((s) => s.method)).toEqual(['POST']);
  });

  it('reads only ice-server links, in a combined header too', () => {
    expect(
      parseIceServerLinks(
        '<https://example.test/next>; rel="next", <stun:a.test>; rel="ice-server", <turns:b.test:5349?transport=tcp>; rel=ice-server; username=u; credential="p;q"',
      ),
    ).toEqual([{ urls: 'stun:a.test' }, { urls: 'turns:b.test:5349?transport=tcp', username: 'u', credential: 'p;q' }]);
    expect(parseIceServerLinks(null)).toEqual([]);
    expect(parseIceServerLinks('garbage')).toEqual([]);
  });

  it('asks StreamShare for a media token, then publishes to the URL it names and stops there', async () => {
    setAccessToken('access-1');
    const asked: unknown[] = [];
    server.use(
      http.post('/api/rooms/65f0a1b2c3d4e5f601234567/media-token', async ({ request }) => {
        asked.push({ auth: request.headers.get('authorization'), body: await request.json() });
        return HttpResponse.json({
          token: 'media-token-1',
          url: ENDPOINT,
          path: 'streamshare/65f0a1b2c3d4e5f601234567',
          expiresAt: '2026-12-02T12:00:00Z',
        });
      }),
    );
    const seen: Seen[] = [];
    recordMediamtx(seen);
    let config: RTCConfiguration = { iceServers: [{ urls: 'stun:own.test' }] };
    const pc = {
      getConfiguration: () => config,
      setConfiguration: (next: RTCConfiguration) => {
        config = next;
      },
    } as unknown as RTCPeerConnection;

    const session = await startMediamtxSession(pc, '65f0a1b2c3d4e5f601234567', 'publish', OFFER);
    expect(asked).toEqual([{ auth: 'Bearer access-1', body: { action: 'publish' } }]);
    expect(session.answer).toBe(ANSWER);
    expect(seen[0]).toMatchObject({ method: 'POST', authorization: 'Bearer media-token-1', body: OFFER });
    expect(config.iceServers?.map((s) => s.urls)).toEqual([
      'stun:own.test',
      'stun:stun.example.test:3478',
      'turn:turn.example.test:3478',
    ]);
    await session.stop();
    expect(seen[1]).toMatchObject({ method: 'DELETE', url: SESSION });
  });

  it('does not reach MediaMTX when StreamShare refuses the token', async () => {
    setAccessToken('access-1');
    server.use(
      http.post('/api/rooms/r1/media-token', () =>
        HttpResponse.json(
          { error: { code: 'payment_required', message: 'Pay 10 coins to enter this room.', price: 10 } },
          { status: 403 },
        ),
      ),
    );
    const seen: Seen[] = [];
    recordMediamtx(seen);
    const pc = { getConfiguration: () => ({}), setConfiguration: () => undefined } as unknown as RTCPeerConnection;
    await expect(startMediamtxSession(pc, 'r1', 'read', OFFER)).rejects.toMatchObject({ code: 'payment_required' });
    expect(seen).toEqual([]);
  });
});
