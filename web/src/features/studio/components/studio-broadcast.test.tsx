import { QueryClientProvider } from '@tanstack/react-query';
import { act, cleanup, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMemoryRouter, Outlet, RouterProvider } from 'react-router';

import { LiveBar } from '@/components/live-bar';
import { StudioRoom } from '@/features/studio/components/studio-room';
import { setAccessToken } from '@/lib/api-client';
import { BroadcastProvider } from '@/lib/broadcast/context';
import { queryKeys } from '@/lib/query-keys';
import type * as WebRtc from '@/lib/webrtc';
import { aRoom, aUser } from '@/testing/data';
import { FakePeerConnection, installFakeMedia, type FakeMedia } from '@/testing/fake-media';
import { createTestQueryClient, fakeSocket } from '@/testing/render';
import { server } from '@/testing/server';

vi.mock('@/lib/webrtc', async (importOriginal) => ({
  ...(await importOriginal<typeof WebRtc>()),
  createPublishOffer: vi.fn(() => Promise.resolve('v=0 fake-offer')),
}));

const creator = aUser({ id: 'u-creator', username: 'creator', coins: 0 });
const offlineRoom = aRoom({ title: 'Night run', status: 'offline', liveSessionId: null, startedAt: null, viewerCount: 0, access: 'creator' });

let media: FakeMedia;
beforeEach(() => {
  media = installFakeMedia();
});
afterEach(() => {
  cleanup();
  media.restore();
});

function serveStudio() {
  let room = offlineRoom;
  server.use(
    http.get('/api/rooms/r-1', () => HttpResponse.json(room)),
    http.get('/api/rooms/r-1/stream-key', () => HttpResponse.json({ streamKey: 'sk_1', whipPath: '/api/media/whip/r-1' })),
    http.get('/api/transactions', () => HttpResponse.json({ items: [], nextCursor: null })),
    http.get('/api/media/ice-servers', () => HttpResponse.json({ iceServers: [], ttlSeconds: 600 })),
    http.post('/api/rooms/r-1/live', () => {
      room = { ...offlineRoom, status: 'live', liveSessionId: 's-1', startedAt: '2025-01-02T18:00:00Z' };
      return HttpResponse.json(room);
    }),
  );
  fakeSocket().onEmit('room:join', () => ({ ok: true, role: 'creator', viewerCount: 2, messages: [] }));
  fakeSocket().onEmit('room:leave', () => ({ ok: true }));
  fakeSocket().onEmit('media:publish', () => ({ ok: true, sdp: 'v=0 fake-answer' }));
}

/** The app's shape: the broadcast above the router, the live bar above the pages. */
function renderApp() {
  setAccessToken('token');
  const queryClient = createTestQueryClient();
  queryClient.setQueryData(queryKeys.me, creator);
  const router = createMemoryRouter(
    [
      {
        path: '/',
        element: (
          <>
            <LiveBar />
            <Outlet />
          </>
        ),
        children: [
          { path: 'studio/:roomId', element: <StudioRoom roomId="r-1" user={creator} /> },
          { path: 'wallet', element: <h1>Wallet</h1> },
        ],
      },
    ],
    { initialEntries: ['/studio/r-1'] },
  );
  render(
    <QueryClientProvider client={queryClient}>
      <BroadcastProvider>
        <RouterProvider router={router} />
      </BroadcastProvider>
    </QueryClientProvider>,
  );
  return router;
}

async function goLive() {
  await userEvent.click(await screen.findByRole('button', { name: 'Turn on camera' }));
  await userEvent.click(await screen.findByRole('button', { name: 'Go live' }));
  const pc = await waitFor(() => FakePeerConnection.last());
  await waitFor(() => expect(pc.remoteDescription).not.toBeNull());
  act(() => pc.setConnectionState('connected'));
  return pc;
}

describe('the broadcast outlives the studio page', () => {
  it('keeps publishing on another page, shows the live bar there, and the bar leads back', async () => {
    serveStudio();
    const router = renderApp();
    const pc = await goLive();
    // No bar on the studio itself.
    expect(screen.queryByTestId('live-bar')).not.toBeInTheDocument();

    await act(() => router.navigate('/wallet'));
    expect(await screen.findByRole('heading', { name: 'Wallet' })).toBeInTheDocument();
    const bar = screen.getByRole('region', { name: 'Your broadcast' });
    expect(bar).toHaveTextContent('You are live in “Night run”');
    expect(bar).toHaveTextContent('2 viewers');
    expect(pc.closed).toBe(false);
    // Still in the room: no room:leave while the broadcast goes on.
    expect(fakeSocket().emitsOf('room:leave')).toHaveLength(0);

    await userEvent.click(screen.getByRole('link', { name: 'Back to the studio' }));
    expect(await screen.findByRole('button', { name: 'End stream' })).toBeInTheDocument();
    expect(screen.getAllByRole('status').find((el) => el.tagName === 'P')).toHaveTextContent('Publishing');
    expect(fakeSocket().emitsOf('media:publish')).toHaveLength(1);
    expect(screen.queryByTestId('live-bar')).not.toBeInTheDocument();
  });

  it('asks before the tab closes while publishing', async () => {
    serveStudio();
    renderApp();
    const unload = () => {
      const event = new Event('beforeunload', { cancelable: true });
      window.dispatchEvent(event);
      return event.defaultPrevented;
    };
    await screen.findByRole('button', { name: 'Turn on camera' });
    expect(unload()).toBe(false);
    await goLive();
    expect(unload()).toBe(true);
  });

  it('mutes the microphone and hides the camera on the tracks it sends', async () => {
    serveStudio();
    renderApp();
    const pc = await goLive();
    const enabled = () => pc.senders.map((s) => s.track?.enabled);
    expect(enabled()).toEqual([true, true]);

    await userEvent.click(screen.getByRole('button', { name: 'Mute microphone' }));
    expect(enabled()).toEqual([true, false]);
    expect(screen.getByRole('button', { name: 'Unmute microphone' })).toHaveAttribute('aria-pressed', 'true');
    expect(screen.getByTestId('broadcast-muted-state')).toHaveTextContent('Viewers cannot hear you.');

    await userEvent.click(screen.getByRole('button', { name: 'Hide camera' }));
    expect(enabled()).toEqual([false, false]);
    await userEvent.click(screen.getByRole('button', { name: 'Unmute microphone' }));
    await userEvent.click(screen.getByRole('button', { name: 'Turn camera back on' }));
    expect(enabled()).toEqual([true, true]);
  });

  it('shows the outgoing bitrate and frame rate from getStats', async () => {
    serveStudio();
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      renderApp();
      const pc = await goLive();
      pc.stats = [{ type: 'outbound-rtp', kind: 'video', bytesSent: 0, timestamp: 0, framesPerSecond: 30 }];
      await act(() => vi.advanceTimersByTimeAsync(2_000));
      pc.stats = [{ type: 'outbound-rtp', kind: 'video', bytesSent: 500_000, timestamp: 2_000, framesPerSecond: 30 }];
      await act(() => vi.advanceTimersByTimeAsync(2_000));
      await waitFor(() => expect(screen.getByTestId('studio-outgoing')).toHaveTextContent('2,000 kbps · 30 fps'));
      expect(screen.getByTestId('studio-peak-viewers')).toHaveTextContent('2');
    } finally {
      vi.useRealTimers();
    }
  });
});
