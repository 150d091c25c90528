import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { delay, http, HttpResponse } from 'msw';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { RoomsBrowser } from '@/features/rooms/components/rooms-browser';
import { aRoom } from '@/testing/data';
import { renderWithApp } from '@/testing/render';
import { server } from '@/testing/server';
import type { Room } from '@/types/api';

function serveRooms(byStatus: (status: string | null, url: URL) => Room[] | 'error' | 'slow') {
  server.use(
    http.get('/api/rooms', async ({ request }) => {
      const url = new URL(request.url);
      const result = byStatus(url.searchParams.get('status'), url);
      if (result === 'error') {
        return HttpResponse.json({ error: { code: 'unavailable', message: 'The database is down.' } }, { status: 503 });
      }
      if (result === 'slow') await delay('infinite');
      return HttpResponse.json({ items: result, nextCursor: null });
    }),
  );
}

const liveSection = () => screen.getByRole('region', { name: 'Live streams' });
const offlineSection = () => screen.getByRole('region', { name: 'Offline rooms' });

describe('RoomsBrowser (home)', () => {
  it('shows skeletons while loading', () => {
    serveRooms(() => 'slow');
    renderWithApp(<RoomsBrowser />);
    expect(within(liveSection()).getByLabelText('Loading streams')).toHaveAttribute('aria-busy', 'true');
  });

  it('shows live rooms as cards: title, creator, price or Free, viewers', async () => {
    serveRooms((status) =>
      status === 'live'
        ? [
            aRoom({ id: 'a', title: 'Lo-fi beats', price: 25, viewerCount: 1234 }),
            aRoom({ id: 'b', title: 'Chess with chat', price: 0, viewerCount: 7, creator: { id: 'c2', username: 'magnus', displayName: 'Magnus' } }),
          ]
        : [aRoom({ id: 'c', title: 'Sleeping stream', status: 'offline', liveSessionId: null, viewerCount: 0 })],
    );
    renderWithApp(<RoomsBrowser />);

    const live = await within(liveSection()).findAllByRole('article');
    expect(live).toHaveLength(2);
    const [first, second] = live as [HTMLElement, HTMLElement];
    expect(within(first).getByRole('link', { name: 'Lo-fi beats' })).toHaveAttribute('href', '/rooms/a');
    expect(first).toHaveTextContent('Cleo Creator');
    expect(first).toHaveTextContent('25 coins');
    expect(within(first).getByTestId('viewer-count')).toHaveTextContent(/1.?234/);
    expect(second).toHaveTextContent('Free');
    expect(second).toHaveTextContent('Magnus');

    const offline = await within(offlineSection()).findAllByRole('article');
    expect(offline).toHaveLength(1);
    expect(offline[0]).toHaveTextContent('Offline');
    expect(within(offline[0]).queryByTestId('viewer-count')).not.toBeInTheDocument();
  });

  it('shows an empty state when no one is live', async () => {
    serveRooms(() => []);
    renderWithApp(<RoomsBrowser />);
    expect(await within(liveSection()).findByText('No one is live right now')).toBeInTheDocument();
  });

  it('shows an error with a working retry', async () => {
    let fail = true;
    serveRooms((status) => (status === 'live' && fail ? 'error' : [aRoom({ status: status === 'live' ? 'live' : 'offline' })]));
    renderWithApp(<RoomsBrowser />);

    const alert = await within(liveSection()).findByRole('alert');
    expect(alert).toHaveTextContent('Streams could not be loaded.');
    expect(alert).toHaveTextContent('The database is down.');

    fail = false;
    await userEvent.click(within(alert).getByRole('button', { name: 'Try again' }));
    expect(await within(liveSection()).findByRole('article')).toHaveTextContent('Speedrun night');
  });

  it('searches by text and category through the API', async () => {
    const seen: string[] = [];
    serveRooms((status, url) => {
      if (status === 'live') seen.push(url.search);
      const match = url.searchParams.get('q') === 'chess' && !url.searchParams.has('category');
      return match ? [aRoom({ title: 'Chess with chat' })] : [];
    });
    renderWithApp(<RoomsBrowser />);
    await within(liveSection()).findByText('No one is live right now');

    await userEvent.type(screen.getByRole('searchbox', { name: 'Search streams' }), 'chess');
    expect(await within(liveSection()).findByText('Chess with chat')).toBeInTheDocument();

    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Category' }), 'music');
    await waitFor(() => expect(seen.at(-1)).toContain('category=music'));
    expect(seen.at(-1)).toContain('q=chess');
    expect(await within(liveSection()).findByText('Nothing matches your search')).toBeInTheDocument();
  });

  describe('polling', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('picks up a room that went live, without a reload', async () => {
      vi.useFakeTimers({ shouldAdvanceTime: true });
      let live: Room[] = [];
      serveRooms((status) => (status === 'live' ? live : []));
      renderWithApp(<RoomsBrowser />);
      await within(liveSection()).findByText('No one is live right now');

      live = [aRoom({ title: 'Just started' })];
      await act(() => vi.advanceTimersByTimeAsync(10_500));
      expect(await within(liveSection()).findByText('Just started')).toBeInTheDocument();
    });
  });
});
