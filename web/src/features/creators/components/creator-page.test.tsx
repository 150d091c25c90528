import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { CreatorPage } from '@/features/creators/components/creator-page';
import { aRoom, aUser } from '@/testing/data';
import { renderWithApp } from '@/testing/render';
import { server } from '@/testing/server';
import type { CreatorProfile } from '@/types/api';

const aProfile = (over: Partial<CreatorProfile> = {}): CreatorProfile => ({
  user: { id: 'u-creator', username: 'cleo', displayName: 'Cleo Creator' },
  createdAt: '2025-01-01T10:00:00Z',
  schedule: 'Weeknights 8–11 pm',
  followerCount: 4,
  following: false,
  rooms: [aRoom()],
  pastSessions: [
    { id: 's-0', roomId: 'r-1', roomTitle: 'Speedrun night', startedAt: '2025-01-01T18:00:00Z', endedAt: '2025-01-01T20:00:00Z' },
  ],
  ...over,
});

describe('CreatorPage', () => {
  it('shows the profile, schedule, rooms and past sessions, and follows with the count going up', async () => {
    let followed = false;
    server.use(
      http.get('/api/creators/cleo', () => HttpResponse.json(aProfile())),
      http.put('/api/creators/cleo/follow', () => {
        followed = true;
        return HttpResponse.json({ following: true, followerCount: 5 });
      }),
    );
    renderWithApp(<CreatorPage username="cleo" user={aUser()} />);
    expect(await screen.findByRole('heading', { level: 1, name: 'Cleo Creator' })).toBeInTheDocument();
    expect(screen.getByTestId('schedule')).toHaveTextContent('Weeknights 8–11 pm');
    expect(screen.getByTestId('follower-count')).toHaveTextContent('4');
    const past = screen.getByRole('region', { name: 'Past sessions' });
    expect(within(past).getByText('Speedrun night')).toBeInTheDocument();

    const follow = screen.getByRole('button', { name: 'Follow' });
    expect(follow).toHaveAttribute('aria-pressed', 'false');
    await userEvent.click(follow);
    expect(await screen.findByRole('button', { name: 'Following' })).toHaveAttribute('aria-pressed', 'true');
    expect(screen.getByTestId('follower-count')).toHaveTextContent('5');
    expect(followed).toBe(true);
  });

  it('lets the creator edit their schedule (trimmed like the server does)', async () => {
    let saved: unknown = null;
    server.use(
      http.get('/api/creators/cleo', () => HttpResponse.json(aProfile({ schedule: '' }))),
      http.put('/api/users/me/profile', async ({ request }) => {
        saved = await request.json();
        return HttpResponse.json({ schedule: 'Sundays at noon' });
      }),
    );
    renderWithApp(<CreatorPage username="cleo" user={aUser({ id: 'u-creator', username: 'cleo' })} />);
    await userEvent.click(await screen.findByRole('button', { name: 'Edit' }));
    expect(screen.queryByRole('button', { name: 'Follow' })).not.toBeInTheDocument();
    const field = screen.getByLabelText('Your schedule');
    // The box takes no more than the server's 500 characters.
    expect(field).toHaveAttribute('maxlength', '500');
    await userEvent.type(field, ' Sundays at noon ');
    await userEvent.click(screen.getByRole('button', { name: 'Save schedule' }));
    expect(await screen.findByTestId('schedule')).toHaveTextContent('Sundays at noon');
    expect(saved).toEqual({ schedule: 'Sundays at noon' });
  });

  it('says when there is no such creator, and asks the signed-out to log in to follow', async () => {
    server.use(
      http.get('/api/creators/ghost', () =>
        HttpResponse.json({ error: { code: 'user_not_found', message: 'There is no such user.' } }, { status: 404 }),
      ),
      http.get('/api/creators/cleo', () => HttpResponse.json(aProfile())),
    );
    const { unmount } = renderWithApp(<CreatorPage username="ghost" user={null} />);
    expect(await screen.findByText('No such creator')).toBeInTheDocument();
    unmount();
    renderWithApp(<CreatorPage username="cleo" user={null} />);
    expect(await screen.findByRole('link', { name: 'Log in to follow' })).toHaveAttribute('href', '/login?redirectTo=%2Fu%2Fcleo');
  });
});
