/**
 * The room page when the server's media plane is MediaMTX
 * (`mediaBackend: "mediamtx"`, docs/mediamtx.md): the viewer plays over
 * WHEP on MediaMTX with a media token, never over the Socket.IO `media:*`
 * events, and leaving the page DELETEs the WHEP session.
 */
import { act, screen, waitFor } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { RoomView } from '@/features/room/components/room-view';
import { setAccessToken } from '@/lib/api-client';
import { aRoom, aUser } from '@/testing/data';
import { FakePeerConnection, fakeStream, installFakeMedia, type FakeMedia } from '@/testing/fake-media';
import { fakeSocket, renderWithApp } from '@/testing/render';
import { server } from '@/testing/server';

const viewer = aUser({ coins: 100 });
const WHEP = 'https://media.example.test/streamshare/r-1/whep';
const SESSION = 'https://media.example.test/streamshare/r-1/whep/0b8c2d52-7a35-4c7e-9d55-2b1f3e4a5c6d';

let media: FakeMedia | null = null;

afterEach(() => {
  media?.restore();
  media = null;
});

describe('RoomView with MediaMTX', () => {
  it('plays over WHEP with a read token, and ends the WHEP session on leaving', async () => {
    media = installFakeMedia();
    vi.stubGlobal(
      'MediaStream',
      class {
        addTrack() {}
        getTracks() {
          return [];
        }
      },
    );
    const exchanges: Array<{ method: string; url: string; auth: string | null; body: unknown }> = [];
    server.use(
      http.get('/api/rooms/r-1', () => HttpResponse.json(aRoom({ price: 0, access: 'free' }))),
      http.get('/api/media/ice-servers', () =>
        HttpResponse.json({ iceServers: [{ urls: 'stun:own.test' }], ttlSeconds: 600, mediaBackend: 'mediamtx' }),
      ),
      http.post('/api/rooms/r-1/media-token', async ({ request }) => {
        exchanges.push({ method: 'POST', url: new URL(request.url).pathname, auth: request.headers.get('authorization'), body: await request.json() });
        return HttpResponse.json({
          token: 'read-token',
          url: WHEP,
          path: 'streamshare/r-1',
          expiresAt: '2026-12-02T12:00:00Z',
        });
      }),
      http.post(WHEP, async ({ request }) => {
        exchanges.push({ method: 'POST', url: request.url, auth: request.headers.get('authorization'), body: await request.text() });
        return new HttpResponse('v=0 mediamtx answer', {
          status: 201,
          headers: { 'Content-Type': 'application/sdp', Location: '/streamshare/r-1/whep/0b8c2d52-7a35-4c7e-9d55-2b1f3e4a5c6d' },
        });
      }),
      http.delete(SESSION, ({ request }) => {
        exchanges.push({ method: 'DELETE', url: request.url, auth: request.headers.get('authorization'), body: null });
        return HttpResponse.json({ status: 'ok' });
      }),
    );
    const socket = fakeSocket();
    socket.onEmit('room:join', () => ({ ok: true, role: 'viewer', viewerCount: 1, messages: [] }));

    setAccessToken('access-token');
    const { unmount } = renderWithApp(<RoomView roomId="r-1" user={viewer} />, {
      url: '/rooms/r-1',
      path: '/rooms/:id',
      user: viewer,
      realtime: true,
    });

    await waitFor(() => expect(FakePeerConnection.last().remoteDescription).not.toBeNull());
    const pc = FakePeerConnection.last();
    // Receive-only audio and video, our ICE servers, MediaMTX's answer.
    expect(pc.transceivers.map((t) => [t.kind, t.init?.direction])).toEqual([
      ['video', 'recvonly'],
      ['audio', 'recvonly'],
    ]);
    expect(pc.config?.iceServers).toEqual([{ urls: 'stun:own.test' }]);
    expect(pc.remoteDescription).toEqual({ type: 'answer', sdp: 'v=0 mediamtx answer' });
    expect(exchanges).toEqual([
      { method: 'POST', url: '/api/rooms/r-1/media-token', auth: 'Bearer access-token', body: { action: 'read' } },
      { method: 'POST', url: WHEP, auth: 'Bearer read-token', body: 'v=0 fake offer' },
    ]);
    // No signaling through our own SFU.
    expect(socket.emitted.map((e) => e.event).filter((e) => e.startsWith('media:'))).toEqual([]);

    act(() => pc.receive(fakeStream()));
    expect(await screen.findByLabelText(/^Live video:/)).toBeInTheDocument();

    unmount();
    await waitFor(() => expect(exchanges.at(-1)).toEqual({ method: 'DELETE', url: SESSION, auth: 'Bearer read-token', body: null }));
    expect(pc.closed).toBe(true);
  });
});
