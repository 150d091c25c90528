import { screen, within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { PrivateSessionList } from '@/features/private/components/private-session-list';
import { setAccessToken } from '@/lib/api-client';
import { aUser } from '@/testing/data';
import { aPrivateSession, anActiveSession } from '@/testing/private-data';
import { renderWithApp } from '@/testing/render';
import { server } from '@/testing/server';

const ended = anActiveSession(400, {
  id: 'p-1',
  state: 'ended',
  endReason: 'viewer',
  endedAt: new Date().toISOString(),
  seconds: 185,
  coins: 40,
  held: 0,
});
const declined = aPrivateSession({ id: 'p-2', state: 'declined' });
const running = anActiveSession(20, { id: 'p-3', coins: 10, seconds: 0 });

function renderList(meId: string) {
  setAccessToken('token');
  server.use(
    http.get('/api/private/sessions', () => HttpResponse.json({ items: [running, ended, declined], nextCursor: null })),
  );
  return renderWithApp(<PrivateSessionList meId={meId} />, { user: aUser({ id: meId }) });
}

const rows = async () => within(await screen.findByRole('list', { name: 'Private sessions' })).getAllByRole('listitem');

describe('PrivateSessionList', () => {
  it("shows the viewer each session's duration and the coins paid", async () => {
    renderList('u-viewer');
    const [now, done, refused] = await rows();
    expect(done).toHaveTextContent('Private session with Cleo Creator');
    expect(within(done).getByTestId('private-session-duration')).toHaveTextContent('3 min 5 s');
    expect(within(done).getByTestId('private-session-coins')).toHaveTextContent('Paid −40 coins');
    expect(refused).toHaveTextContent('Declined');
    expect(within(refused).getByTestId('private-session-coins')).toHaveTextContent('0');
    // A running session links back to its page.
    expect(within(now).getByRole('link', { name: 'Private session with Cleo Creator' })).toHaveAttribute('href', '/private/p-3');
    expect(now).toHaveTextContent('Running now');
  });

  it('shows the creator the same sessions as earnings', async () => {
    renderList('u-creator');
    const [, done] = await rows();
    expect(done).toHaveTextContent('Private session for Vera Viewer');
    expect(done).toHaveTextContent('you were the creator');
    expect(within(done).getByTestId('private-session-coins')).toHaveTextContent('Earned +40 coins');
  });

  it('says when there are none', async () => {
    setAccessToken('token');
    server.use(http.get('/api/private/sessions', () => HttpResponse.json({ items: [], nextCursor: null })));
    renderWithApp(<PrivateSessionList meId="u-viewer" />, { user: aUser() });
    expect(await screen.findByText('No private sessions yet')).toBeInTheDocument();
  });
});
