// Fails when src/types/openapi.gen.ts is not what docs/openapi.yaml generates
// today: regenerates into a temporary file with the same command as
// `npm run gen:api` and compares.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const checkedIn = new URL('../src/types/openapi.gen.ts', import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'streamshare-api-'));
const fresh = join(dir, 'openapi.gen.ts');
try {
  execFileSync('npx', ['openapi-typescript', '../docs/openapi.yaml', '-o', fresh], {
    cwd: new URL('..', import.meta.url),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let current = '';
  try {
    current = readFileSync(checkedIn, 'utf8');
  } catch {
    // Missing counts as stale.
  }
  if (current !== readFileSync(fresh, 'utf8')) {
    console.error('src/types/openapi.gen.ts is stale against docs/openapi.yaml: run npm run gen:api');
    process.exit(1);
  }
  console.log('API types match docs/openapi.yaml.');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
