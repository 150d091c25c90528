import { screen, waitFor } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { RoomView } from '@/features/room/components/room-view';
import { setAccessToken } from '@/lib/api-client';
import { E2EE_UNSUPPORTED_MESSAGE } from '@/lib/e2ee/cryptor';
import { aRoom, aUser } from '@/testing/data';
import { installFakeMedia } from '@/testing/fake-media';
import { fakeSocket, renderWithApp } from '@/testing/render';
import { server } from '@/testing/server';

const viewer = aUser({ coins: 100 });

// jsdom has WebRTC here (the fake peer connection) but neither
// RTCRtpScriptTransform nor createEncodedStreams: a browser that cannot decrypt.
describe('RoomView in an end-to-end encrypted room', () => {
  it('shows the lock and says the browser cannot decrypt, without asking for ciphertext', async () => {
    installFakeMedia();
    server.use(http.get('/api/rooms/r-1', () => HttpResponse.json(aRoom({ price: 0, access: 'free', e2ee: true }))));
    fakeSocket().onEmit('room:join', () => ({ ok: true, role: 'viewer', viewerCount: 1, messages: [] }));
    setAccessToken('token');
    renderWithApp(<RoomView roomId="r-1" user={viewer} />, { url: '/rooms/r-1', path: '/rooms/:id', user: viewer, realtime: true });

    expect(await screen.findByText(E2EE_UNSUPPORTED_MESSAGE)).toBeInTheDocument();
    expect(screen.getByTestId('e2ee-badge')).toHaveTextContent('End-to-end encrypted');
    await waitFor(() => expect(fakeSocket().emitsOf('room:join')).toEqual([{ roomId: 'r-1' }]));
    expect(fakeSocket().emitsOf('media:view')).toEqual([]);
    expect(fakeSocket().emitsOf('e2ee:hello')).toEqual([]);
  });

  it('plays a plain room as before: no lock, no E2EE message', async () => {
    installFakeMedia();
    server.use(http.get('/api/rooms/r-1', () => HttpResponse.json(aRoom({ price: 0, access: 'free' }))));
    fakeSocket().onEmit('room:join', () => ({ ok: true, role: 'viewer', viewerCount: 1, messages: [] }));
    setAccessToken('token');
    renderWithApp(<RoomView roomId="r-1" user={viewer} />, { url: '/rooms/r-1', path: '/rooms/:id', user: viewer, realtime: true });

    await waitFor(() => expect(fakeSocket().emitsOf('media:view')).toEqual([{ roomId: 'r-1' }]));
    expect(screen.queryByTestId('e2ee-badge')).not.toBeInTheDocument();
    expect(screen.queryByText(E2EE_UNSUPPORTED_MESSAGE)).not.toBeInTheDocument();
  });
});
