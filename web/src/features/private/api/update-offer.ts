import { useMutation, useQueryClient } from '@tanstack/react-query';

import { privateKeys } from '@/features/private/api/keys';
import { api } from '@/lib/api-client';
import type { PrivateOffer, PrivateOfferInput } from '@/types/api';

/** `PUT /api/private/offer`: price per minute, accepting requests, pausing the room. */
export const updateOffer = (input: PrivateOfferInput) => api.put<PrivateOffer>('/private/offer', input);

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
