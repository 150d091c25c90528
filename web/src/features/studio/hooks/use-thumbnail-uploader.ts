import { useEffect, useEffectEvent, type RefObject } from 'react';

import { THUMBNAIL_INTERVAL_MS, THUMBNAIL_MAX_BYTES } from '@/config/constants';
import { useUploadThumbnail } from '@/features/studio/api/upload-thumbnail';
import { captureJpeg } from '@/lib/media';

/** The first frame is taken shortly after going live, when the picture has settled. */
const FIRST_CAPTURE_MS = 3_000;

/** While `active`, uploads a JPEG of the preview every 30 s as the room's thumbnail. */
export function useThumbnailUploader(roomId: string, videoRef: RefObject<HTMLVideoElement | null>, active: boolean) {
  const upload = useUploadThumbnail(roomId);

  const capture = useEffectEvent(async () => {
    const video = videoRef.current;
    if (!video || upload.isPending) return;
    const image = await captureJpeg(video, THUMBNAIL_MAX_BYTES);
    if (image) upload.mutate(image);
  });

  useEffect(() => {
    if (!active) return;
    const first = setTimeout(() => void capture(), FIRST_CAPTURE_MS);
    const every = setInterval(() => void capture(), THUMBNAIL_INTERVAL_MS);
    return () => {
      clearTimeout(first);
      clearInterval(every);
    };
  }, [active]);

  return { lastError: upload.error, uploadedAt: upload.isSuccess ? upload.submittedAt : null };
}
