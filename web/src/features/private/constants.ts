/** Limits of private sessions the server enforces too (docs/openapi.yaml). */

/** The highest price per minute a creator may ask. */
export const PRIVATE_PRICE_MAX = 100_000;
