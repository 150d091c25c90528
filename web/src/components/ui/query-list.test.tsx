import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';

import { QueryList, type ListQuery } from '@/components/ui/query-list';
import { ApiError } from '@/lib/api-client';

const base: ListQuery = { isPending: false, isError: false, error: null, refetch: () => undefined };

function renderList(query: ListQuery, items: string[] = []) {
  return render(
    <QueryList
      query={query}
      items={items}
      getKey={(s) => s}
      renderItem={(s) => <li>{s}</li>}
      label="Things"
      loadingLabel="Loading things"
      errorTitle="Things could not be loaded."
      empty={<p>No things</p>}
    />,
  );
}

describe('QueryList', () => {
  it('shows loading, then the empty state', () => {
    const { rerender } = renderList({ ...base, isPending: true });
    expect(screen.getByLabelText('Loading things')).toHaveAttribute('aria-busy', 'true');
    rerender(
      <QueryList query={base} items={[]} getKey={(s: string) => s} renderItem={(s) => <li>{s}</li>} loadingLabel="Loading things" errorTitle="x" empty={<p>No things</p>} />,
    );
    expect(screen.getByText('No things')).toBeInTheDocument();
  });

  it('shows the error with a working "Try again"', async () => {
    const refetch = vi.fn();
    renderList({ ...base, isError: true, error: new ApiError(500, 'internal', 'Database unavailable.'), refetch });
    expect(screen.getByRole('alert')).toHaveTextContent('Things could not be loaded.Database unavailable.');
    await userEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect(refetch).toHaveBeenCalledTimes(1);
  });

  it('lists the items and loads more while there are pages', async () => {
    const fetchNextPage = vi.fn();
    renderList({ ...base, hasNextPage: true, fetchNextPage }, ['a', 'b']);
    expect(screen.getByRole('list', { name: 'Things' })).toHaveTextContent('ab');
    await userEvent.click(screen.getByRole('button', { name: 'Load more' }));
    expect(fetchNextPage).toHaveBeenCalledTimes(1);
  });
});
