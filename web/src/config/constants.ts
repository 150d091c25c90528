/** Product constants shared by several features. */

/** Categories offered in the home filter and the studio (the server accepts any short text). */
export const CATEGORIES = [
  'gaming',
  'music',
  'talk',
  'art',
  'education',
  'sports',
  'cooking',
  'tech',
  'other',
] as const;

export const CHAT_MAX_LENGTH = 500;

export const PRICE_MAX = 1_000_000;

/** How often the studio uploads a thumbnail while publishing. */
export const THUMBNAIL_INTERVAL_MS = 30_000;

/** The server's upload cap for thumbnails. */
export const THUMBNAIL_MAX_BYTES = 512 * 1024;
