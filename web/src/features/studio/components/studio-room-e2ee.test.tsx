import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { StudioRoom } from '@/features/studio/components/studio-room';
import { setAccessToken } from '@/lib/api-client';
import { aRoom, aUser } from '@/testing/data';
import { fakeSocket, renderWithApp } from '@/testing/render';
import { server } from '@/testing/server';
import type { Room } from '@/types/api';

const creator = aUser({ id: 'u-creator', username: 'creator', displayName: 'Cleo Creator', coins: 0 });

function serveStudio(room: Room) {
  const state = { room, patches: [] as unknown[] };
  server.use(
    http.get('/api/rooms/r-1', () => HttpResponse.json(state.room)),
    http.get('/api/rooms/r-1/stream-key', () =>
      HttpResponse.json({ streamKey: 'sk_secret', whipPath: '/api/media/whip/r-1' }),
    ),
    http.get('/api/transactions', () => HttpResponse.json({ items: [], nextCursor: null })),
    http.patch('/api/rooms/r-1', async ({ request }) => {
      const body = (await request.json()) as Partial<Room>;
      state.patches.push(body);
      state.room = { ...state.room, ...body };
      return HttpResponse.json(state.room);
    }),
  );
  fakeSocket().onEmit('room:join', () => ({ ok: true, role: 'creator', viewerCount: 0, messages: [] }));
  fakeSocket().onEmit('room:leave', () => ({ ok: true }));
  setAccessToken('token');
  renderWithApp(<StudioRoom roomId="r-1" user={creator} />, {
    url: '/studio/r-1',
    path: '/studio/:roomId',
    user: creator,
    realtime: true,
  });
  return state;
}

describe('StudioRoom end-to-end encryption', () => {
  it('turns encryption on while offline (PATCH e2ee), then shows the lock and the OBS warning', async () => {
    const state = serveStudio(aRoom({ status: 'offline', liveSessionId: null, access: 'creator' }));
    const toggle = await screen.findByLabelText('End-to-end encrypted');
    expect(toggle).not.toBeChecked();
    expect(toggle).toBeEnabled();
    expect(screen.queryByText(/OBS and other WHIP clients cannot encrypt frames/)).not.toBeInTheDocument();

    await userEvent.click(toggle);
    await userEvent.click(screen.getByRole('button', { name: 'Save changes' }));
    expect(await screen.findByText('Saved.')).toBeInTheDocument();
    expect(state.patches).toEqual([{ title: 'Speedrun night', description: '', category: 'gaming', price: 10, e2ee: true }]);

    const header = screen.getByRole('heading', { level: 1 }).parentElement!;
    expect(within(header).getByTestId('e2ee-badge')).toBeInTheDocument();
    expect(screen.getByText(/OBS and other WHIP clients cannot encrypt frames/)).toBeInTheDocument();
    // No camera in jsdom: an encrypted room cannot go live with OBS.
    expect(screen.getByRole('button', { name: 'Go live' })).toBeDisabled();
  }, 20_000);

  it('does not send e2ee when it did not change, and locks it while live', async () => {
    const state = serveStudio(aRoom({ status: 'live', access: 'creator', e2ee: true }));
    const toggle = await screen.findByLabelText('End-to-end encrypted');
    expect(toggle).toBeChecked();
    expect(toggle).toBeDisabled();
    expect(screen.getByText('End the broadcast to change encryption.')).toBeInTheDocument();

    await userEvent.click(screen.getByRole('button', { name: 'Save changes' }));
    expect(await screen.findByText('Saved.')).toBeInTheDocument();
    expect(state.patches).toEqual([{ title: 'Speedrun night', description: '', category: 'gaming', price: 10 }]);
  });
});
