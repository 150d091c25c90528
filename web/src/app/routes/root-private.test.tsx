import { act, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import { RootLayout } from '@/app/routes/root';
import { setAccessToken } from '@/lib/api-client';
import { aUser } from '@/testing/data';
import { aPrivateSession } from '@/testing/private-data';
import { fakeSocket, renderWithApp } from '@/testing/render';

describe('The root layout and private sessions', () => {
  it("shows a viewer's request to the creator on whatever page is open", async () => {
    setAccessToken('token');
    renderWithApp(<RootLayout />, { user: aUser({ id: 'u-creator' }), realtime: true });
    // The host loads with its own chunk; the page is already there.
    expect(await screen.findByRole('link', { name: /^Balance:/ })).toBeInTheDocument();
    // Pushed until the host listens (the same request twice shows once).
    await waitFor(() => {
      act(() => fakeSocket().serverEmit('private:request', { session: aPrivateSession() }));
      expect(screen.getByRole('alertdialog', { name: 'Vera Viewer asks for a private session' })).toBeInTheDocument();
    });
    expect(screen.getAllByRole('alertdialog')).toHaveLength(1);
  });

  it('loads nothing of it for an anonymous visitor', async () => {
    renderWithApp(<RootLayout />, { user: null, realtime: true });
    await act(() => new Promise((r) => setTimeout(r, 50)));
    act(() => fakeSocket().serverEmit('private:request', { session: aPrivateSession() }));
    await act(() => new Promise((r) => setTimeout(r, 20)));
    expect(screen.queryByRole('alertdialog')).not.toBeInTheDocument();
  });
});
