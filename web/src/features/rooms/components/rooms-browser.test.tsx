import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { delay, http, HttpResponse } from 'msw';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { prefetchHomeRooms } from '@/features/rooms/api/get-rooms';
import { RoomsBrowser } from '@/features/rooms/components/rooms-browser';
import { setAccessToken } from '@/lib/api-client';
import { aRoom, aUser } from '@/testing/data';
import { createTestQueryClient, fakeSocket, renderWithApp } from '@/testing/render';
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

const liveSection = () => screen.getByRole('region', { name: 'Live now' });
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
    expect(await within(liveSection()).findByText('Nothing matches your filters')).toBeInTheDocument();
  });

  describe('live over the lobby, no polling (issue 19)', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('adds a card when a room goes live and moves the viewer count as viewers join, without asking again', async () => {
      vi.useFakeTimers({ shouldAdvanceTime: true });
      const requests = { count: 0 };
      serveRooms((status) => {
        if (status === 'live') requests.count += 1;
        return [];
      });
      fakeSocket().onEmit('lobby:join', () => ({ ok: true }));
      renderWithApp(<RoomsBrowser />, { user: null, realtime: true });
      await within(liveSection()).findByText('No one is live right now');
      await waitFor(() => expect(fakeSocket().emitsOf('lobby:join')).toEqual([{}]));

      act(() => fakeSocket().serverEmit('room:live', { room: aRoom({ id: 'n', title: 'Just started', viewerCount: 0 }) }));
      const card = await within(liveSection()).findByRole('article');
      expect(within(card).getByText('Just started')).toBeInTheDocument();
      expect(within(card).getByTestId('viewer-count')).toHaveTextContent('0');

      act(() => fakeSocket().serverEmit('room:count', { roomId: 'n', viewerCount: 7 }));
      await waitFor(() => expect(within(card).getByTestId('viewer-count')).toHaveTextContent('7'));
      act(() => fakeSocket().serverEmit('room:updated', { room: aRoom({ id: 'n', title: 'Renamed live', viewerCount: 7 }) }));
      expect(await within(liveSection()).findByText('Renamed live')).toBeInTheDocument();

      // Nothing polls: a minute later the list was still fetched once.
      await act(() => vi.advanceTimersByTimeAsync(60_000));
      expect(requests.count).toBe(1);
    });

    it('keeps the cards sorted by viewers as counts change', async () => {
      serveRooms((status) =>
        status === 'live'
          ? [aRoom({ id: 'a', title: 'Big', viewerCount: 9 }), aRoom({ id: 'b', title: 'Small', viewerCount: 2 })]
          : [],
      );
      fakeSocket().onEmit('lobby:join', () => ({ ok: true }));
      renderWithApp(<RoomsBrowser />, { user: null, realtime: true });
      await within(liveSection()).findAllByRole('article');
      const titles = () => within(liveSection()).getAllByRole('heading', { level: 3 }).map((h) => h.textContent);
      expect(titles()).toEqual(['Big', 'Small']);
      act(() => fakeSocket().serverEmit('room:count', { roomId: 'b', viewerCount: 20 }));
      await waitFor(() => expect(titles()).toEqual(['Small', 'Big']));
    });

    it('does not add a paid room to a list filtered to free rooms', async () => {
      const seen: string[] = [];
      serveRooms((_status, url) => {
        seen.push(url.search);
        return [];
      });
      fakeSocket().onEmit('lobby:join', () => ({ ok: true }));
      renderWithApp(<RoomsBrowser />, { user: null, realtime: true, url: '/?price=free' });
      await within(liveSection()).findByText('Nothing matches your filters');
      expect(seen).toContain('?status=live&price=free&limit=24');
      act(() => fakeSocket().serverEmit('room:live', { room: aRoom({ id: 'p', title: 'Paid show', price: 50 }) }));
      act(() => fakeSocket().serverEmit('room:live', { room: aRoom({ id: 'f', title: 'Free show', price: 0 }) }));
      expect(await within(liveSection()).findByText('Free show')).toBeInTheDocument();
      expect(within(liveSection()).queryByText('Paid show')).not.toBeInTheDocument();
    });

    it('signed in, shows the live rooms of followed creators first, under "Following"', async () => {
      setAccessToken('token');
      serveRooms((_status, url) =>
        url.searchParams.get('following') === 'true' ? [aRoom({ id: 'f', title: 'My favourite' })] : [],
      );
      fakeSocket().onEmit('lobby:join', () => ({ ok: true }));
      renderWithApp(<RoomsBrowser />, { user: aUser(), realtime: true });
      const following = screen.getByRole('region', { name: 'Following' });
      expect(await within(following).findByText('My favourite')).toBeInTheDocument();
      const regions = screen.getAllByRole('region').map((r) => r.getAttribute('aria-labelledby'));
      expect(regions.indexOf('following-heading')).toBeLessThan(regions.indexOf('live-heading'));
    });
  });

  describe('rooms whose creator is away (issue 25)', () => {
    it('marks an away room "Reconnecting"', async () => {
      serveRooms((status) =>
        status === 'live'
          ? [aRoom({ id: 'a', title: 'Away now', awayUntil: '2099-01-01T00:00:00Z' }), aRoom({ id: 'b', title: 'On air' })]
          : [],
      );
      renderWithApp(<RoomsBrowser />);
      const [away, onAir] = (await within(liveSection()).findAllByRole('article')) as [HTMLElement, HTMLElement];
      expect(within(away).getByTestId('room-away')).toHaveTextContent('Reconnecting');
      expect(within(onAir).queryByTestId('room-away')).not.toBeInTheDocument();
    });

    it('signed in, joins the lobby and updates the cards on room:away, room:back and room:ended', async () => {
      setAccessToken('token');
      const requests = { count: 0 };
      let live = [aRoom({ id: 'a', title: 'Lo-fi beats' }), aRoom({ id: 'b', title: 'Chess with chat' })];
      serveRooms((status, url) => {
        if (status !== 'live' || url.searchParams.has('following')) return [];
        requests.count += 1;
        return live;
      });
      fakeSocket().onEmit('lobby:join', () => ({ ok: true }));
      const { unmount } = renderWithApp(<RoomsBrowser />, { user: aUser(), realtime: true });
      await within(liveSection()).findAllByRole('article');
      await waitFor(() => expect(fakeSocket().emitsOf('lobby:join')).toEqual([{}]));
      const card = (title: string) => within(liveSection()).getByText(title).closest('article') as HTMLElement;

      act(() => fakeSocket().serverEmit('room:away', { roomId: 'a', awayUntil: '2099-01-01T00:00:00Z' }));
      await waitFor(() => expect(within(card('Lo-fi beats')).getByTestId('room-away')).toBeInTheDocument());
      expect(within(card('Chess with chat')).queryByTestId('room-away')).not.toBeInTheDocument();

      act(() => fakeSocket().serverEmit('room:back', { roomId: 'a' }));
      await waitFor(() => expect(within(card('Lo-fi beats')).queryByTestId('room-away')).not.toBeInTheDocument());
      // Straight from the events: no list was fetched again for them.
      expect(requests.count).toBe(1);

      live = live.filter((room) => room.id !== 'b');
      act(() => fakeSocket().serverEmit('room:ended', { roomId: 'b' }));
      await waitFor(() => expect(within(liveSection()).queryByText('Chess with chat')).not.toBeInTheDocument());

      unmount();
      await waitFor(() => expect(fakeSocket().emitsOf('lobby:leave')).toEqual([{}]));
    });

    it('joins the lobby signed out too (a guest connection)', async () => {
      serveRooms(() => []);
      fakeSocket().onEmit('lobby:join', () => ({ ok: true }));
      renderWithApp(<RoomsBrowser />, { user: null, realtime: true });
      await within(liveSection()).findByText('No one is live right now');
      await waitFor(() => expect(fakeSocket().emitsOf('lobby:join')).toEqual([{}]));
    });
  });

  describe('the first paint (issue 23)', () => {
    it("uses the loader's prefetch of both lists instead of asking again", async () => {
      const seen: string[] = [];
      serveRooms((status, url) => {
        seen.push(url.search);
        return status === 'live' ? [aRoom({ title: 'Prefetched' })] : [];
      });
      const queryClient = createTestQueryClient();
      prefetchHomeRooms(queryClient, new URLSearchParams('q=%20chess%20&category=music'));
      renderWithApp(<RoomsBrowser />, { queryClient, url: '/?q=%20chess%20&category=music' });

      expect(await within(liveSection()).findByText('Prefetched')).toBeInTheDocument();
      await within(offlineSection()).findByText('Nothing matches your filters');
      // One request per list, the prefetch's, with the page's exact params.
      expect(seen.sort()).toEqual([
        '?status=live&q=chess&category=music&limit=24',
        '?status=offline&q=chess&category=music&limit=12',
      ]);
    });

    it('loads the first row of live thumbnails eagerly at high priority, the rest lazily, each with its size', async () => {
      const live = Array.from({ length: 6 }, (_, i) =>
        aRoom({ id: `l${i}`, title: `Live ${i}`, thumbnailUrl: `/api/rooms/l${i}/thumbnail` }),
      );
      const offline = [aRoom({ id: 'o1', status: 'offline', liveSessionId: null, thumbnailUrl: '/api/rooms/o1/thumbnail' })];
      serveRooms((status) => (status === 'live' ? live : offline));
      const { container } = renderWithApp(<RoomsBrowser />);
      await within(liveSection()).findByText('Live 5');
      await within(offlineSection()).findByRole('article');

      const images = Array.from(container.querySelectorAll('img'));
      expect(images.map((img) => [img.getAttribute('loading'), img.getAttribute('fetchpriority')])).toEqual([
        ['eager', 'high'],
        ['eager', 'high'],
        ['eager', 'high'],
        ['eager', 'high'],
        ['lazy', 'auto'],
        ['lazy', 'auto'],
        ['lazy', 'auto'],
      ]);
      for (const img of images) {
        expect(img).toHaveAttribute('width', '640');
        expect(img).toHaveAttribute('height', '360');
      }
    });
  });
});
