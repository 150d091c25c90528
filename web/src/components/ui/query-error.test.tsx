import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';

import { QueryError } from '@/components/ui/query-error';
import { ApiError } from '@/lib/api-client';

describe('QueryError', () => {
  it("announces what failed with the server's reason, and retries on request", async () => {
    const onRetry = vi.fn();
    render(<QueryError title="Earnings could not be loaded." error={new ApiError(429, 'rate_limited', 'Slow down.')} onRetry={onRetry} />);
    expect(screen.getByRole('alert')).toHaveTextContent('Earnings could not be loaded.Slow down.');
    await userEvent.click(screen.getByRole('button', { name: 'Try again' }));
    await userEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect(onRetry).toHaveBeenCalledTimes(2);
  });

  it('says something for a person when the error has no message, and takes its own words when given', () => {
    const { unmount } = render(<QueryError title="Failed." error={{}} onRetry={() => undefined} />);
    expect(screen.getByRole('alert')).toHaveTextContent('Something went wrong. Please try again.');
    unmount();
    render(
      <QueryError title="Your camera could not be opened." onRetry={() => undefined}>
        Permission denied.
      </QueryError>,
    );
    expect(screen.getByRole('alert')).toHaveTextContent('Your camera could not be opened.Permission denied.');
  });
});
