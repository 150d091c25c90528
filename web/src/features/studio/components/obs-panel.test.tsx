import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { delay, http, HttpResponse } from 'msw';
import { describe, expect, it, vi } from 'vitest';

import { ObsPanel } from '@/features/studio/components/obs-panel';
import { setAccessToken } from '@/lib/api-client';
import { renderWithApp } from '@/testing/render';
import { server } from '@/testing/server';

function renderPanel() {
  setAccessToken('token');
  return renderWithApp(<ObsPanel roomId="r-1" />, { user: null });
}

function serveKey(key = 'sk_first') {
  server.use(
    http.get('/api/rooms/r-1/stream-key', () => HttpResponse.json({ streamKey: key, whipPath: '/api/media/whip/r-1' })),
  );
}

const keyInput = () => screen.getByLabelText('Stream key');

describe('ObsPanel', () => {
  it('shows the WHIP URL and a hidden stream key, and reveals it on request', async () => {
    serveKey();
    renderPanel();

    expect(await screen.findByLabelText('Stream key')).toHaveValue('sk_first');
    expect(keyInput()).toHaveAttribute('type', 'password');
    expect(screen.getByLabelText('WHIP server URL')).toHaveValue(`${window.location.origin}/api/media/whip/r-1`);

    await userEvent.click(screen.getByRole('button', { name: 'Show' }));
    expect(keyInput()).toHaveAttribute('type', 'text');
    expect(screen.getByRole('button', { name: 'Hide' })).toHaveAttribute('aria-pressed', 'true');
    await userEvent.click(screen.getByRole('button', { name: 'Hide' }));
    expect(keyInput()).toHaveAttribute('type', 'password');
  });

  it('copies the stream key and the WHIP URL to the clipboard', async () => {
    const user = userEvent.setup();
    serveKey('sk_secret');
    renderPanel();
    await screen.findByLabelText('Stream key');

    await user.click(screen.getByRole('button', { name: 'Copy stream key' }));
    expect(await navigator.clipboard.readText()).toBe('sk_secret');
    expect(screen.getByRole('button', { name: 'Copy stream key' })).toHaveTextContent('Copied');
    // Only the button that was used says so.
    expect(screen.getByRole('button', { name: 'Copy WHIP URL' })).toHaveTextContent('Copy');

    await user.click(screen.getByRole('button', { name: 'Copy WHIP URL' }));
    expect(await navigator.clipboard.readText()).toBe(`${window.location.origin}/api/media/whip/r-1`);
  });

  it('rotates the key after confirmation and shows the new one', async () => {
    serveKey('sk_old');
    let rotations = 0;
    server.use(
      http.post('/api/rooms/r-1/stream-key/rotate', async () => {
        rotations += 1;
        await delay(50);
        return HttpResponse.json({ streamKey: 'sk_new', whipPath: '/api/media/whip/r-1' });
      }),
    );
    const confirm = vi.spyOn(window, 'confirm').mockReturnValue(false);
    renderPanel();
    await screen.findByLabelText('Stream key');

    // Declined: nothing happens.
    await userEvent.click(screen.getByRole('button', { name: 'Rotate' }));
    expect(confirm).toHaveBeenCalledWith('Make a new stream key? The current one stops working.');
    expect(rotations).toBe(0);
    expect(keyInput()).toHaveValue('sk_old');

    confirm.mockReturnValue(true);
    await userEvent.click(screen.getByRole('button', { name: 'Rotate' }));
    // Busy while the server makes the key: no double rotation.
    expect(screen.getByRole('button', { name: 'Rotate' })).toBeDisabled();
    await waitFor(() => expect(keyInput()).toHaveValue('sk_new'));
    expect(screen.getByRole('button', { name: 'Rotate' })).toBeEnabled();
    expect(rotations).toBe(1);
  });

  it('says why a rotation failed and keeps the old key', async () => {
    serveKey('sk_old');
    server.use(
      http.post('/api/rooms/r-1/stream-key/rotate', () =>
        HttpResponse.json({ error: { code: 'forbidden', message: 'Only the creator can do that.' } }, { status: 403 }),
      ),
    );
    vi.spyOn(window, 'confirm').mockReturnValue(true);
    renderPanel();
    await screen.findByLabelText('Stream key');

    await userEvent.click(screen.getByRole('button', { name: 'Rotate' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Only the creator can do that.');
    expect(keyInput()).toHaveValue('sk_old');
  });

  it('explains that stream keys are not available when the server has no such endpoint (404)', async () => {
    server.use(
      http.get('/api/rooms/r-1/stream-key', () =>
        HttpResponse.json({ error: { code: 'not_found', message: 'Not found.' } }, { status: 404 }),
      ),
    );
    renderPanel();

    expect(
      await screen.findByText('Stream keys are not available on this server yet. Go live from the browser instead.'),
    ).toBeInTheDocument();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Rotate' })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Copy stream key' })).not.toBeInTheDocument();
    // The WHIP URL still has its default.
    expect(screen.getByLabelText('WHIP server URL')).toHaveValue(`${window.location.origin}/api/media/whip/r-1`);
  });

  it('shows other failures as errors', async () => {
    server.use(
      http.get('/api/rooms/r-1/stream-key', () =>
        HttpResponse.json({ error: { code: 'internal', message: 'The server had a problem.' } }, { status: 500 }),
      ),
    );
    renderPanel();
    expect(await screen.findByRole('alert')).toHaveTextContent('The server had a problem.');
    expect(screen.queryByText(/not available on this server/)).not.toBeInTheDocument();
  });
});
