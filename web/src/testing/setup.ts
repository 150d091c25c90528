import '@testing-library/jest-dom/vitest';
import { cleanup } from '@testing-library/react';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';

import { clearAccountRefusal, setAccessToken } from '@/lib/api-client';
import { resetPayTimelineForTesting } from '@/lib/pay-timeline';
import { setSocketForTesting } from '@/lib/socket';
import { FakeSocket } from '@/testing/fake-socket';
import { server } from '@/testing/server';

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));

beforeEach(() => {
  setSocketForTesting(new FakeSocket());
});

afterEach(() => {
  cleanup();
  server.resetHandlers();
  setAccessToken(null);
  clearAccountRefusal();
  localStorage.clear();
  sessionStorage.clear();
  setSocketForTesting(null);
  resetPayTimelineForTesting();
});

afterAll(() => server.close());
