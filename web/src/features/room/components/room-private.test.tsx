import { act, screen, waitFor } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { RoomView } from '@/features/room/components/room-view';
import { setAccessToken } from '@/lib/api-client';
import { aRoom, aUser } from '@/testing/data';
import { fakeSocket, renderWithApp } from '@/testing/render';
import { server } from '@/testing/server';

const viewer = aUser();

function renderPaidRoom(inPrivate: boolean) {
  setAccessToken('token');
  server.use(http.get('/api/rooms/r-1', () => HttpResponse.json(aRoom({ access: 'paid', inPrivate }))));
  fakeSocket().onEmit('room:join', () => ({ ok: true, role: 'viewer', viewerCount: 3, messages: [] }));
  return renderWithApp(<RoomView roomId="r-1" user={viewer} />, {
    url: '/rooms/r-1',
    path: '/rooms/:id',
    user: viewer,
    realtime: true,
  });
}

describe('RoomView while the creator is in a private session', () => {
  it('says so in place of the picture when room:private starts, and gives the stage back when it ends', async () => {
    renderPaidRoom(false);
    await screen.findByTestId('room-viewer-count');
    expect(screen.queryByTestId('room-private-overlay')).not.toBeInTheDocument();

    act(() => fakeSocket().serverEmit('room:private', { roomId: 'r-1', active: true }));
    expect(await screen.findByTestId('room-private-overlay')).toHaveTextContent('Cleo Creator is in a private session');
    expect(screen.getByText('In a private session')).toBeInTheDocument();

    act(() => fakeSocket().serverEmit('room:private', { roomId: 'r-1', active: false }));
    await waitFor(() => expect(screen.queryByTestId('room-private-overlay')).not.toBeInTheDocument());
    expect(screen.queryByText('In a private session')).not.toBeInTheDocument();
  });

  it('shows a room that was already paused when the page opened (Room.inPrivate)', async () => {
    renderPaidRoom(true);
    expect(await screen.findByTestId('room-private-overlay')).toHaveTextContent('Cleo Creator is in a private session');
    // Another room's pause is not this one's.
    act(() => fakeSocket().serverEmit('room:private', { roomId: 'r-2', active: false }));
    expect(screen.getByTestId('room-private-overlay')).toBeInTheDocument();
  });
});
