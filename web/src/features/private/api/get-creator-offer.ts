import { queryOptions, useQuery } from '@tanstack/react-query';

import { privateKeys } from '@/features/private/api/keys';
import { body, client } from '@/lib/api-client';

/** `GET /api/private/offers/{creatorId}`: public; `accepting: false` when the creator has none. */
export const getCreatorOffer = (creatorId: string, signal?: AbortSignal) =>
  body(client.GET('/api/private/offers/{creatorId}', { params: { path: { creatorId } }, signal }));

/** A creator may switch requests on or off at any time: look again now and then. */
const OFFER_REFETCH_MS = 30_000;

export const creatorOfferQueryOptions = (creatorId: string) =>
  queryOptions({
    queryKey: privateKeys.offer(creatorId),
    queryFn: ({ signal }) => getCreatorOffer(creatorId, signal),
    refetchInterval: OFFER_REFETCH_MS,
  });

export function useCreatorOffer(creatorId: string, enabled = true) {
  return useQuery({ ...creatorOfferQueryOptions(creatorId), enabled: enabled && creatorId !== '' });
}
