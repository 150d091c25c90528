/**
 * The studio when the server's media plane is MediaMTX
 * (`mediaBackend: "mediamtx"`, docs/mediamtx.md): going live publishes the
 * camera over WHIP on MediaMTX with a publish token (not `media:publish`),
 * and ending the stream DELETEs the WHIP session.
 */
import { act, cleanup, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { StudioRoom } from '@/features/studio/components/studio-room';
import { setAccessToken } from '@/lib/api-client';
import type * as WebRtc from '@/lib/webrtc';
import { aRoom, aUser } from '@/testing/data';
import { FakePeerConnection, installFakeMedia, type FakeMedia } from '@/testing/fake-media';
import { fakeSocket, renderWithApp } from '@/testing/render';
import { server } from '@/testing/server';

// The SDP offer is the browser's business, as in studio-room-camera.test.tsx.
vi.mock('@/lib/webrtc', async (importOriginal) => ({
  ...(await importOriginal<typeof WebRtc>()),
  createPublishOffer: vi.fn(() => Promise.resolve('v=0 fake-offer')),
}));

const creator = aUser({ id: 'u-creator', username: 'creator', coins: 0 });
const offlineRoom = aRoom({ status: 'offline', liveSessionId: null, startedAt: null, viewerCount: 0, access: 'creator' });
const WHIP = 'https://media.example.test/streamshare/r-1/whip';
const SESSION = 'https://media.example.test/streamshare/r-1/whip/8d1e4c2a-5b6f-4a7e-9c3d-1e2f3a4b5c6d';

let media: FakeMedia;
beforeEach(() => {
  media = installFakeMedia();
});
afterEach(() => {
  cleanup();
  media.restore();
});

describe('StudioRoom with MediaMTX', () => {
  it('goes live and publishes over WHIP with a publish token, and ends the WHIP session with the stream', async () => {
    let room = offlineRoom;
    const exchanges: Array<{ method: string; url: string; auth: string | null; body: unknown }> = [];
    server.use(
      http.get('/api/rooms/r-1', () => HttpResponse.json(room)),
      http.get('/api/rooms/r-1/stream-key', () => HttpResponse.json({ streamKey: 'sk_1', whipPath: '/api/media/whip/r-1' })),
      http.get('/api/transactions', () => HttpResponse.json({ items: [], nextCursor: null })),
      http.get('/api/media/ice-servers', () =>
        HttpResponse.json({ iceServers: [{ urls: 'stun:stun.example.org' }], ttlSeconds: 600, mediaBackend: 'mediamtx' }),
      ),
      http.post('/api/rooms/r-1/live', () => {
        room = { ...offlineRoom, status: 'live', liveSessionId: 's-1', startedAt: '2025-01-02T18:00:00Z' };
        return HttpResponse.json(room);
      }),
      http.delete('/api/rooms/r-1/live', () => {
        room = offlineRoom;
        return HttpResponse.json(room);
      }),
      http.post('/api/rooms/r-1/media-token', async ({ request }) => {
        exchanges.push({ method: 'POST', url: 'media-token', auth: request.headers.get('authorization'), body: await request.json() });
        return HttpResponse.json({ token: 'publish-token', url: WHIP, path: 'streamshare/r-1', expiresAt: '2026-12-02T12:00:00Z' });
      }),
      http.post(WHIP, async ({ request }) => {
        exchanges.push({ method: 'POST', url: request.url, auth: request.headers.get('authorization'), body: await request.text() });
        return new HttpResponse('v=0 mediamtx answer', {
          status: 201,
          headers: { 'Content-Type': 'application/sdp', Location: '/streamshare/r-1/whip/8d1e4c2a-5b6f-4a7e-9c3d-1e2f3a4b5c6d' },
        });
      }),
      http.delete(SESSION, ({ request }) => {
        exchanges.push({ method: 'DELETE', url: request.url, auth: request.headers.get('authorization'), body: null });
        return HttpResponse.json({ status: 'ok' });
      }),
    );
    const socket = fakeSocket();
    socket.onEmit('room:join', () => ({ ok: true, role: 'creator', viewerCount: 0, messages: [] }));
    socket.onEmit('room:leave', () => ({ ok: true }));

    setAccessToken('token');
    renderWithApp(<StudioRoom roomId="r-1" user={creator} />, {
      url: '/studio/r-1',
      path: '/studio/:roomId',
      user: creator,
      realtime: true,
    });
    await userEvent.click(await screen.findByRole('button', { name: 'Turn on camera' }));
    await userEvent.click(await screen.findByRole('button', { name: 'Go live' }));

    await waitFor(() => expect(FakePeerConnection.last().remoteDescription).toEqual({ type: 'answer', sdp: 'v=0 mediamtx answer' }));
    expect(exchanges).toEqual([
      { method: 'POST', url: 'media-token', auth: 'Bearer token', body: { action: 'publish' } },
      { method: 'POST', url: WHIP, auth: 'Bearer publish-token', body: 'v=0 fake-offer' },
    ]);
    expect(socket.emitsOf('media:publish')).toEqual([]);
    const pc = FakePeerConnection.last();
    act(() => pc.setConnectionState('connected'));

    await userEvent.click(screen.getByRole('button', { name: 'End stream' }));
    expect(pc.closed).toBe(true);
    await waitFor(() => expect(exchanges.at(-1)).toEqual({ method: 'DELETE', url: SESSION, auth: 'Bearer publish-token', body: null }));
  });
});
