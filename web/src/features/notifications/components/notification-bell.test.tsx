import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { Notices } from '@/components/notices';
import { NotificationBell } from '@/features/notifications/components/notification-bell';
import { setAccessToken } from '@/lib/api-client';
import { aUser } from '@/testing/data';
import { fakeSocket, renderWithApp } from '@/testing/render';
import { server } from '@/testing/server';
import type { Notification } from '@/types/api';

const aNotification = (over: Partial<Notification> = {}): Notification => ({
  id: 'n-1',
  kind: 'live',
  roomId: 'r-1',
  roomTitle: 'Speedrun night',
  liveSessionId: 's-1',
  creator: { id: 'u-creator', username: 'cleo', displayName: 'Cleo Creator' },
  createdAt: '2025-01-02T18:00:00Z',
  read: false,
  ...over,
});

function Page() {
  return (
    <>
      <NotificationBell />
      <Notices />
    </>
  );
}

describe('NotificationBell', () => {
  it('shows the stored unread count, lists the alerts and marks them all read', async () => {
    let marked: unknown = null;
    server.use(
      http.get('/api/notifications', () =>
        HttpResponse.json({ items: [aNotification()], nextCursor: null, unreadCount: 1 }),
      ),
      http.post('/api/notifications/read', async ({ request }) => {
        marked = await request.json();
        return HttpResponse.json({ unreadCount: 0 });
      }),
    );
    renderWithApp(<Page />, { user: aUser() });
    const bell = await screen.findByRole('button', { name: 'Notifications, 1 unread' });
    expect(screen.getByTestId('bell-count')).toHaveTextContent('1');

    await userEvent.click(bell);
    const panel = screen.getByRole('region', { name: 'Latest notifications' });
    expect(within(panel).getByRole('link', { name: /Cleo Creator went live: Speedrun night/ })).toHaveAttribute(
      'href',
      '/rooms/r-1',
    );
    await userEvent.click(within(panel).getByRole('button', { name: 'Mark all read' }));
    await waitFor(() => expect(screen.queryByTestId('bell-count')).not.toBeInTheDocument());
    expect(marked).toEqual({});
    expect(screen.getByRole('button', { name: 'Notifications' })).toBeInTheDocument();

    // Escape closes the panel and gives the focus back to the bell.
    await userEvent.keyboard('{Escape}');
    expect(screen.queryByRole('region', { name: 'Latest notifications' })).not.toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Notifications' })).toHaveFocus();
  });

  it('a go-live push raises the count and shows a toast with a link to the room, without a reload', async () => {
    setAccessToken('token');
    renderWithApp(<Page />, { user: aUser(), realtime: true });
    await screen.findByRole('button', { name: 'Notifications' });

    act(() =>
      fakeSocket().serverEmit('notification:new', {
        notification: aNotification({ id: 'n-2', roomId: 'r-9', roomTitle: 'Late show' }),
        unreadCount: 1,
      }),
    );
    expect(await screen.findByRole('button', { name: 'Notifications, 1 unread' })).toBeInTheDocument();
    expect(screen.getByTestId('notice-text')).toHaveTextContent('Cleo Creator is live: Late show');
    expect(screen.getByRole('link', { name: 'Watch now' })).toHaveAttribute('href', '/rooms/r-9');
  });

  it('says so when there is nothing yet, and offers a retry when loading fails', async () => {
    server.use(
      http.get('/api/notifications', () =>
        HttpResponse.json({ error: { code: 'database_unavailable', message: 'The database is down.' } }, { status: 503 }),
      ),
    );
    renderWithApp(<Page />, { user: aUser() });
    await userEvent.click(await screen.findByRole('button', { name: 'Notifications' }));
    expect(await screen.findByText('Notifications could not be loaded.')).toBeInTheDocument();
    server.use(http.get('/api/notifications', () => HttpResponse.json({ items: [], nextCursor: null, unreadCount: 0 })));
    await userEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByText(/Nothing yet/)).toBeInTheDocument();
  });
});
