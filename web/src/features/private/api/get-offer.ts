import { queryOptions, useQuery } from '@tanstack/react-query';

import { privateKeys } from '@/features/private/api/keys';
import { api } from '@/lib/api-client';
import type { PrivateOffer } from '@/types/api';

/** `GET /api/private/offer`: the signed-in creator's own terms (defaults when never set). */
export const getMyOffer = (signal?: AbortSignal) => api.get<PrivateOffer>('/private/offer', { signal });

export const myOfferQueryOptions = () =>
  queryOptions({
    queryKey: privateKeys.myOffer,
    queryFn: ({ signal }) => getMyOffer(signal),
  });

export function useMyOffer() {
  return useQuery(myOfferQueryOptions());
}
