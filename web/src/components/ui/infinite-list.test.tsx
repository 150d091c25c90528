import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';

import { InfiniteList, type InfiniteListQuery } from '@/components/ui/infinite-list';
import { ApiError } from '@/lib/api-client';

const base: InfiniteListQuery<string> = {
  data: undefined,
  isPending: false,
  isError: false,
  error: null,
  refetch: () => undefined,
  hasNextPage: false,
  isFetchingNextPage: false,
  isFetchNextPageError: false,
  fetchNextPage: () => undefined,
};

const pages = (...pageItems: string[][]) => ({ pages: pageItems.map((items) => ({ items })) });

function list(query: InfiniteListQuery<string>) {
  return (
    <InfiniteList
      query={query}
      getKey={(s) => s}
      renderItem={(s) => <li>{s}</li>}
      label="Things"
      loadingLabel="Loading things"
      errorTitle="Things could not be loaded."
      empty={<p>No things</p>}
    />
  );
}

const renderList = (query: InfiniteListQuery<string>) => render(list(query));

describe('InfiniteList', () => {
  it('shows skeletons while loading, then the empty state', () => {
    const { unmount } = renderList({ ...base, isPending: true });
    expect(screen.getByLabelText('Loading things')).toHaveAttribute('aria-busy', 'true');
    expect(screen.queryByText('No things')).not.toBeInTheDocument();
    unmount();
    renderList({ ...base, data: pages([]) });
    expect(screen.getByText('No things')).toBeInTheDocument();
    expect(screen.queryByRole('list')).not.toBeInTheDocument();
  });

  it('says why the first page failed, and "Try again" fetches again', async () => {
    const refetch = vi.fn();
    renderList({ ...base, isError: true, error: new ApiError(503, 'database_unavailable', 'Database unavailable.'), refetch });
    expect(screen.getByRole('alert')).toHaveTextContent('Things could not be loaded.Database unavailable.');
    await userEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect(refetch).toHaveBeenCalledTimes(1);
  });

  it('lists the items of every page in order and loads more while the server has more', async () => {
    const fetchNextPage = vi.fn();
    const { rerender } = renderList({ ...base, data: pages(['a', 'b'], ['c']), hasNextPage: true, fetchNextPage });
    expect(screen.getByRole('list', { name: 'Things' })).toHaveTextContent('abc');
    await userEvent.click(screen.getByRole('button', { name: 'Load more' }));
    expect(fetchNextPage).toHaveBeenCalledTimes(1);

    rerender(list({ ...base, data: pages(['a', 'b'], ['c']), hasNextPage: false }));
    expect(screen.queryByRole('button', { name: 'Load more' })).not.toBeInTheDocument();
  });

  it('shows an item that two overlapping pages both hold once', () => {
    renderList({ ...base, data: pages(['a', 'b'], ['b', 'c']) });
    expect(screen.getAllByRole('listitem').map((li) => li.textContent)).toEqual(['a', 'b', 'c']);
  });

  it('keeps the items when a next page fails, and says why under them', () => {
    renderList({
      ...base,
      data: pages(['a']),
      isError: true,
      isFetchNextPageError: true,
      hasNextPage: true,
      error: new ApiError(0, 'network_error', 'Cannot reach StreamShare.'),
    });
    expect(screen.getByRole('list', { name: 'Things' })).toHaveTextContent('a');
    expect(screen.getByRole('alert')).toHaveTextContent('Cannot reach StreamShare.');
    expect(screen.getByRole('button', { name: 'Load more' })).toBeEnabled();
  });
});
