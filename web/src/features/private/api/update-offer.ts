import { useMutation, useQueryClient } from '@tanstack/react-query';

import { privateKeys } from '@/features/private/api/keys';
import { body, client } from '@/lib/api-client';
import type { PrivateOfferInput } from '@/types/api';

/** `PUT /api/private/offer`: price per minute, accepting requests, pausing the room. */
export const updateOffer = (input: PrivateOfferInput) => body(client.PUT('/api/private/offer', { body: input }));

export function useUpdateOffer() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: updateOffer,
    onSuccess: (offer) => {
      queryClient.setQueryData(privateKeys.myOffer, offer);
      queryClient.setQueryData(privateKeys.offer(offer.creatorId), offer);
    },
  });
}
