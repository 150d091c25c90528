import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { StudioHome } from '@/features/studio/components/studio-home';
import { setAccessToken } from '@/lib/api-client';
import { aRoom, aUser } from '@/testing/data';
import { renderWithApp } from '@/testing/render';
import { server } from '@/testing/server';

const creator = aUser({ id: 'u-creator', username: 'creator', displayName: 'Cleo Creator' });

function serveMyRooms(items = [aRoom({ id: 'r-1', title: 'Speedrun night', status: 'offline', liveSessionId: null })]) {
  const queries: string[] = [];
  server.use(
    http.get('/api/rooms', ({ request }) => {
      queries.push(new URL(request.url).search);
      return HttpResponse.json({ items, nextCursor: null });
    }),
  );
  return queries;
}

function renderStudio() {
  setAccessToken('token');
  return renderWithApp(<StudioHome user={creator} />, { url: '/studio', path: '/studio', user: creator });
}

async function openNewRoomForm() {
  await userEvent.click(screen.getByRole('button', { name: 'New room' }));
  return screen.getByRole('button', { name: 'Create room' });
}

describe('StudioHome', () => {
  it('lists only my rooms, with their state and price', async () => {
    const queries = serveMyRooms([
      aRoom({ id: 'r-1', title: 'Speedrun night', status: 'live', viewerCount: 3, price: 10 }),
      aRoom({ id: 'r-2', title: 'Quiet coding', status: 'offline', liveSessionId: null, price: 0 }),
    ]);
    renderStudio();

    const live = (await screen.findByRole('link', { name: 'Speedrun night' })).closest('li')!;
    expect(live).toHaveTextContent('3 viewers');
    expect(live).toHaveTextContent('10 coins');
    expect(within(live).getByRole('link')).toHaveAttribute('href', '/studio/r-1');
    const offline = screen.getByRole('link', { name: 'Quiet coding' }).closest('li')!;
    expect(offline).toHaveTextContent('Offline');
    expect(offline).toHaveTextContent('Free');
    expect(queries[0]).toContain('creatorId=u-creator');
  });

  it('does not send a room without a title or with a bad price', async () => {
    serveMyRooms();
    const posts: unknown[] = [];
    server.use(
      http.post('/api/rooms', async ({ request }) => {
        posts.push(await request.json());
        return HttpResponse.json(aRoom({ id: 'r-new' }), { status: 201 });
      }),
    );
    renderStudio();
    const create = await openNewRoomForm();

    await userEvent.click(create);
    expect(screen.getByText('Give the room a title.')).toBeInTheDocument();
    expect(screen.getByLabelText('Title')).toHaveAttribute('aria-invalid', 'true');

    await userEvent.type(screen.getByLabelText('Title'), '   ');
    await userEvent.click(create);
    expect(screen.getByText('Give the room a title.')).toBeInTheDocument();

    await userEvent.type(screen.getByLabelText('Title'), 'Late show');
    // Typing into the field clears its error.
    expect(screen.queryByText('Give the room a title.')).not.toBeInTheDocument();
    const price = screen.getByLabelText('Price (coins)');
    for (const bad of ['1.5', '-3', 'ten', '1000001', '']) {
      await userEvent.clear(price);
      if (bad) await userEvent.type(price, bad);
      await userEvent.click(create);
      expect(screen.getByText('A whole number of coins from 0 to 1,000,000.')).toBeInTheDocument();
    }
    expect(posts).toEqual([]);
  });

  it('creates a room with trimmed values and opens it in the studio', async () => {
    serveMyRooms([]);
    const posts: unknown[] = [];
    server.use(
      http.post('/api/rooms', async ({ request }) => {
        posts.push(await request.json());
        return HttpResponse.json(aRoom({ id: 'r-new', title: 'Late show', status: 'offline' }), { status: 201 });
      }),
    );
    const { router } = renderStudio();
    // The empty state offers the form too.
    await userEvent.click(await screen.findByRole('button', { name: 'Create your first room' }));

    await userEvent.type(screen.getByLabelText('Title'), '  Late show ');
    await userEvent.type(screen.getByLabelText('Description'), ' Chatting about the day ');
    await userEvent.type(screen.getByLabelText('Category'), ' Talk ');
    const price = screen.getByLabelText('Price (coins)');
    await userEvent.clear(price);
    await userEvent.type(price, ' 25 ');
    await userEvent.click(screen.getByRole('button', { name: 'Create room' }));

    await waitFor(() => expect(router.state.location.pathname).toBe('/studio/r-new'));
    expect(posts).toEqual([{ title: 'Late show', description: 'Chatting about the day', category: 'talk', price: 25, e2ee: false }]);
  });

  it('shows a 422 next to the field the server names, and other refusals above the form', async () => {
    serveMyRooms([]);
    let answer = 422;
    server.use(
      http.post('/api/rooms', () =>
        answer === 422
          ? HttpResponse.json(
              { error: { code: 'validation_failed', message: 'Price is too high for this account.', field: 'price' } },
              { status: 422 },
            )
          : HttpResponse.json({ error: { code: 'rate_limited', message: 'Too many rooms today.' } }, { status: 429 }),
      ),
    );
    const { router } = renderStudio();
    const create = await openNewRoomForm();
    await userEvent.type(screen.getByLabelText('Title'), 'Late show');
    await userEvent.click(create);

    expect(await screen.findByText('Price is too high for this account.')).toBeInTheDocument();
    expect(screen.getByLabelText('Price (coins)')).toHaveAttribute('aria-invalid', 'true');
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();

    answer = 429;
    await userEvent.click(create);
    expect(await screen.findByRole('alert')).toHaveTextContent('Too many rooms today.');
    expect(router.state.location.pathname).toBe('/studio');

    // Cancel closes the form and forgets the failure.
    await userEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('button', { name: 'Create room' })).not.toBeInTheDocument();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });
});
