import { queryOptions, useQuery } from '@tanstack/react-query';

import { privateKeys } from '@/features/private/api/keys';
import { body, client } from '@/lib/api-client';

/** `GET /api/private/offer`: the signed-in creator's own terms (defaults when never set). */
export const getMyOffer = (signal?: AbortSignal) => body(client.GET('/api/private/offer', { signal }));

export const myOfferQueryOptions = () =>
  queryOptions({
    queryKey: privateKeys.myOffer,
    queryFn: ({ signal }) => getMyOffer(signal),
  });

export function useMyOffer() {
  return useQuery(myOfferQueryOptions());
}
