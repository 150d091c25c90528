import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { PrivateOfferPanel } from '@/features/private/components/private-offer-panel';
import { setAccessToken } from '@/lib/api-client';
import { aUser } from '@/testing/data';
import { anOffer } from '@/testing/private-data';
import { renderWithApp } from '@/testing/render';
import { server } from '@/testing/server';
import type { PrivateOfferInput } from '@/types/api';

const creator = aUser({ id: 'u-creator', username: 'creator' });

function serveOffer(initial = anOffer({ pricePerMinute: 0, accepting: false, pauseRoom: true })) {
  const puts: PrivateOfferInput[] = [];
  server.use(
    http.get('/api/private/offer', () => HttpResponse.json(initial)),
    http.put('/api/private/offer', async ({ request }) => {
      const body = (await request.json()) as PrivateOfferInput;
      puts.push(body);
      return HttpResponse.json({ creatorId: 'u-creator', ...body });
    }),
  );
  return puts;
}

function renderPanel() {
  setAccessToken('token');
  return renderWithApp(<PrivateOfferPanel />, { user: creator });
}

describe('PrivateOfferPanel', () => {
  it("starts from the server's defaults and saves a price, accepting and pausing the room", async () => {
    const puts = serveOffer();
    renderPanel();
    const price = await screen.findByLabelText('Price per minute (coins)');
    expect(price).toHaveValue('');
    const accepting = screen.getByRole('checkbox', { name: /Accept private requests now/ });
    const pause = screen.getByRole('checkbox', { name: /Pause my live rooms/ });
    expect(accepting).not.toBeChecked();
    expect(pause).toBeChecked();

    await userEvent.type(price, '25');
    await userEvent.click(accepting);
    await userEvent.click(pause);
    await userEvent.click(screen.getByRole('button', { name: 'Save private sessions' }));

    expect(await screen.findByText('Saved: accepting requests at 25 coins per minute.')).toBeInTheDocument();
    expect(puts).toEqual([{ pricePerMinute: 25, accepting: true, pauseRoom: false }]);
  });

  it('asks for a price before accepting requests, and sends nothing meanwhile', async () => {
    const puts = serveOffer();
    renderPanel();
    await userEvent.click(await screen.findByRole('checkbox', { name: /Accept private requests now/ }));
    await userEvent.click(screen.getByRole('button', { name: 'Save private sessions' }));
    expect(await screen.findByText('A whole number of coins from 1 to 100,000.')).toBeInTheDocument();
    expect(screen.getByLabelText('Price per minute (coins)')).toHaveAttribute('aria-invalid', 'true');

    await userEvent.type(screen.getByLabelText('Price per minute (coins)'), '100001');
    await userEvent.click(screen.getByRole('button', { name: 'Save private sessions' }));
    expect(await screen.findByText('A whole number of coins from 1 to 100,000.')).toBeInTheDocument();
    expect(puts).toEqual([]);
  });

  it('switches requests off, keeping the price', async () => {
    const puts = serveOffer(anOffer({ pricePerMinute: 40, accepting: true }));
    renderPanel();
    expect(await screen.findByLabelText('Price per minute (coins)')).toHaveValue('40');
    await userEvent.click(screen.getByRole('checkbox', { name: /Accept private requests now/ }));
    await userEvent.click(screen.getByRole('button', { name: 'Save private sessions' }));
    expect(await screen.findByText('Saved: not accepting requests.')).toBeInTheDocument();
    expect(puts).toEqual([{ pricePerMinute: 40, accepting: false, pauseRoom: true }]);
  });

  it("shows the server's refusal of the price next to the field", async () => {
    serveOffer();
    server.use(
      http.put('/api/private/offer', () =>
        HttpResponse.json(
          { error: { code: 'validation_failed', message: 'The price must be at most 100000.', field: 'pricePerMinute' } },
          { status: 422 },
        ),
      ),
    );
    renderPanel();
    await userEvent.type(await screen.findByLabelText('Price per minute (coins)'), '5');
    await userEvent.click(screen.getByRole('checkbox', { name: /Accept private requests now/ }));
    await userEvent.click(screen.getByRole('button', { name: 'Save private sessions' }));
    expect(await screen.findByText('The price must be at most 100000.')).toBeInTheDocument();
    await waitFor(() => expect(screen.getByLabelText('Price per minute (coins)')).toHaveAttribute('aria-invalid', 'true'));
  });
});
