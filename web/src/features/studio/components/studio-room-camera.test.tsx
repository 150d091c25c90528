import { act, cleanup, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { StudioRoom } from '@/features/studio/components/studio-room';
import { setAccessToken } from '@/lib/api-client';
import type * as WebRtc from '@/lib/webrtc';
import { aRoom, aUser } from '@/testing/data';
import { FakePeerConnection, installFakeMedia, type FakeMedia, type FakeStream } from '@/testing/fake-media';
import { fakeSocket, renderWithApp } from '@/testing/render';
import { server } from '@/testing/server';

// The SDP offer is the browser's business: mocked at the lib/webrtc boundary.
// The rest (ICE servers over HTTP, media:publish over the socket, the
// connection states, the camera hooks) runs for real against fakes.
vi.mock('@/lib/webrtc', async (importOriginal) => ({
  ...(await importOriginal<typeof WebRtc>()),
  createPublishOffer: vi.fn(() => Promise.resolve('v=0 fake-offer')),
}));

const creator = aUser({ id: 'u-creator', username: 'creator', coins: 0 });
const offlineRoom = aRoom({ status: 'offline', liveSessionId: null, startedAt: null, viewerCount: 0, access: 'creator' });

let media: FakeMedia;
beforeEach(() => {
  media = installFakeMedia();
});
afterEach(() => {
  // Unmount while the fake devices still exist (the hooks unsubscribe from them).
  cleanup();
  media.restore();
});

function serveStudio() {
  const state = { room: offlineRoom, iceRequests: 0, deletes: 0 };
  server.use(
    http.get('/api/rooms/r-1', () => HttpResponse.json(state.room)),
    http.get('/api/rooms/r-1/stream-key', () => HttpResponse.json({ streamKey: 'sk_1', whipPath: '/api/media/whip/r-1' })),
    http.get('/api/transactions', () => HttpResponse.json({ items: [], nextCursor: null })),
    http.get('/api/media/ice-servers', () => {
      state.iceRequests += 1;
      return HttpResponse.json({ iceServers: [{ urls: 'stun:stun.example.org' }], ttlSeconds: 600 });
    }),
    http.post('/api/rooms/r-1/live', () => {
      state.room = { ...offlineRoom, status: 'live', liveSessionId: 's-1', startedAt: '2025-01-02T18:00:00Z' };
      return HttpResponse.json(state.room);
    }),
    http.delete('/api/rooms/r-1/live', () => {
      state.deletes += 1;
      state.room = offlineRoom;
      return HttpResponse.json(state.room);
    }),
  );
  fakeSocket().onEmit('room:join', () => ({ ok: true, role: 'creator', viewerCount: 0, messages: [] }));
  fakeSocket().onEmit('room:leave', () => ({ ok: true }));
  return state;
}

function renderStudioRoom() {
  setAccessToken('token');
  return renderWithApp(<StudioRoom roomId="r-1" user={creator} />, {
    url: '/studio/r-1',
    path: '/studio/:roomId',
    user: creator,
    realtime: true,
  });
}

const publishStatus = () => screen.getAllByRole('status').find((el) => el.tagName === 'P')!;

async function turnOnCamera() {
  await userEvent.click(await screen.findByRole('button', { name: 'Turn on camera' }));
  await screen.findByRole('button', { name: 'Go live' });
  return (await media.getUserMedia.mock.results.at(-1)!.value) as FakeStream;
}

describe('StudioRoom publishing from the browser camera', () => {
  it('previews the camera, goes live and publishes it over media:publish, then ends', async () => {
    const state = serveStudio();
    fakeSocket().onEmit('media:publish', () => ({ ok: true, sdp: 'v=0 fake-answer' }));
    renderStudioRoom();

    // The device lists come from the browser.
    expect(await screen.findByRole('option', { name: 'USB camera' })).toBeInTheDocument();
    expect(screen.getByRole('option', { name: 'Built-in microphone' })).toBeInTheDocument();
    const stream = await turnOnCamera();
    expect(media.getUserMedia).toHaveBeenCalledTimes(1);
    expect(screen.queryByRole('button', { name: 'Turn on camera' })).not.toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Turn off camera' })).toBeInTheDocument();

    await userEvent.click(screen.getByRole('button', { name: 'Go live' }));
    await waitFor(() => expect(fakeSocket().emitsOf('media:publish')).toEqual([{ roomId: 'r-1', sdp: 'v=0 fake-offer' }]));
    // Joined the room before publishing into it.
    const events = fakeSocket().emitted.map((e) => e.event);
    expect(events.indexOf('room:join')).toBeLessThan(events.indexOf('media:publish'));
    const pc = FakePeerConnection.last();
    expect(pc.config?.iceServers).toEqual([{ urls: 'stun:stun.example.org' }]);
    expect(state.iceRequests).toBe(1);
    await waitFor(() => expect(pc.remoteDescription).toEqual({ type: 'answer', sdp: 'v=0 fake-answer' }));
    await waitFor(() => expect(publishStatus()).toHaveTextContent('Connecting…'));
    // The camera cannot be turned off under a running broadcast.
    expect(screen.queryByRole('button', { name: 'Turn off camera' })).not.toBeInTheDocument();

    act(() => pc.setConnectionState('connected'));
    expect(publishStatus()).toHaveTextContent('Publishing');
    act(() => pc.setConnectionState('disconnected'));
    expect(publishStatus()).toHaveTextContent('Connection interrupted, reconnecting…');
    act(() => pc.setConnectionState('connected'));

    await userEvent.click(screen.getByRole('button', { name: 'End stream' }));
    expect(pc.closed).toBe(true);
    await waitFor(() => expect(state.deletes).toBe(1));
    expect(await screen.findByRole('button', { name: 'Go live' })).toBeEnabled();
    expect(publishStatus()).toHaveTextContent('Offline');
    // The preview stays on for the next session.
    expect(stream.tracks.every((t) => t.stop.mock.calls.length === 0)).toBe(true);

    await userEvent.click(screen.getByRole('button', { name: 'Turn off camera' }));
    expect(stream.tracks.every((t) => t.stop.mock.calls.length === 1)).toBe(true);
    expect(screen.getByRole('button', { name: 'Turn on camera' })).toBeInTheDocument();
  });

  it('reports a server without live video and lets the creator publish again', async () => {
    serveStudio();
    fakeSocket().onEmit('media:publish', () => ({
      ok: false,
      error: { code: 'media_unavailable', message: 'SFU down.' },
    }));
    renderStudioRoom();
    await turnOnCamera();

    await userEvent.click(screen.getByRole('button', { name: 'Go live' }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Publishing failed');
    expect(alert).toHaveTextContent('Live video is not available on this server right now.');
    // Still live (OBS could stream), and the camera can be published again.
    expect(screen.getByRole('button', { name: 'End stream' })).toBeInTheDocument();
    expect(publishStatus()).toHaveTextContent('Not publishing from this browser');
    expect(FakePeerConnection.last().closed).toBe(true);

    fakeSocket().onEmit('media:publish', () => ({ ok: true, sdp: 'v=0 fake-answer' }));
    await userEvent.click(screen.getByRole('button', { name: 'Publish camera' }));
    await waitFor(() => expect(publishStatus()).toHaveTextContent('Connecting…'));
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    expect(fakeSocket().emitsOf('media:publish')).toHaveLength(2);
  });

  it('switches the camera of a running broadcast without renegotiating', async () => {
    serveStudio();
    fakeSocket().onEmit('media:publish', () => ({ ok: true, sdp: 'v=0 fake-answer' }));
    renderStudioRoom();
    const first = await turnOnCamera();
    await userEvent.click(screen.getByRole('button', { name: 'Go live' }));
    await waitFor(() => expect(publishStatus()).toHaveTextContent('Connecting…'));
    const pc = FakePeerConnection.last();

    await userEvent.selectOptions(screen.getByLabelText('Camera'), 'cam-usb');
    await waitFor(() => expect(media.getUserMedia).toHaveBeenCalledTimes(2));
    expect(media.getUserMedia.mock.calls[1][0].video).toMatchObject({ deviceId: { exact: 'cam-usb' } });
    const second = (await media.getUserMedia.mock.results[1].value) as FakeStream;
    await waitFor(() => expect(pc.senders[0].replaceTrack).toHaveBeenCalledWith(second.tracks[0]));
    expect(pc.senders[1].replaceTrack).toHaveBeenCalledWith(second.tracks[1]);
    // The old camera is released; no new offer was sent.
    expect(first.tracks[0].stop).toHaveBeenCalled();
    expect(fakeSocket().emitsOf('media:publish')).toHaveLength(1);
  });

  it('sends black and silence while the room is paused for a private session (room:private)', async () => {
    serveStudio();
    fakeSocket().onEmit('media:publish', () => ({ ok: true, sdp: 'v=0 fake-answer' }));
    renderStudioRoom();
    await turnOnCamera();
    await userEvent.click(screen.getByRole('button', { name: 'Go live' }));
    const pc = await waitFor(() => FakePeerConnection.last());
    await waitFor(() => expect(pc.remoteDescription).not.toBeNull());
    const enabled = () => pc.senders.map((s) => s.track?.enabled);
    expect(enabled()).toEqual([true, true]);
    act(() => fakeSocket().serverEmit('room:private', { roomId: 'r-1', active: true }));
    expect(enabled()).toEqual([false, false]);
    // Another room's pause is not this one's.
    act(() => fakeSocket().serverEmit('room:private', { roomId: 'r-2', active: false }));
    expect(enabled()).toEqual([false, false]);
    act(() => fakeSocket().serverEmit('room:private', { roomId: 'r-1', active: false }));
    expect(enabled()).toEqual([true, true]);
  });

  it('explains a camera permission refusal', async () => {
    serveStudio();
    media.getUserMedia.mockRejectedValueOnce(new DOMException('denied', 'NotAllowedError'));
    renderStudioRoom();
    await userEvent.click(await screen.findByRole('button', { name: 'Turn on camera' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'The browser was not allowed to use the camera or microphone. Allow it in the address bar and try again.',
    );
    expect(screen.getByRole('button', { name: 'Go live (OBS)' })).toBeInTheDocument();
  });
});
