/** The MSW server every unit test shares: the network mocked at the fetch level. */
import { setupServer } from 'msw/node';

export const server = setupServer();
