// Signs Stripe webhook payloads with Stripe's official library, for the
// Rust tests: reads JSON lines `{payload, secret, timestamp}` on stdin and
// writes one `Stripe-Signature` header value a line.
import Stripe from 'stripe';
import { createInterface } from 'node:readline';

const stripe = new Stripe('sk_test_unused');
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  const { payload, secret, timestamp } = JSON.parse(line);
  const header = stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });
  process.stdout.write(header + '\n');
}
