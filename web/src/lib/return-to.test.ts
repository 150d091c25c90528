import { describe, expect, it } from 'vitest';

import { forgetReturnTo, readReturnTo, rememberReturnTo, safeReturnPath } from '@/lib/return-to';

describe('return paths', () => {
  it('accepts paths of this origin only', () => {
    expect(safeReturnPath('/rooms/r-1')).toBe('/rooms/r-1');
    expect(safeReturnPath('/rooms/r-1?x=1#y')).toBe('/rooms/r-1?x=1#y');
    expect(safeReturnPath('https://evil.example/rooms')).toBeNull();
    expect(safeReturnPath('//evil.example/rooms')).toBeNull();
    expect(safeReturnPath('/\\evil.example')).toBeNull();
    expect(safeReturnPath('javascript:alert(1)')).toBeNull();
    expect(safeReturnPath('rooms/r-1')).toBeNull();
    expect(safeReturnPath('')).toBeNull();
    expect(safeReturnPath(null)).toBeNull();
  });

  it('keeps a safe path across the checkout and refuses an unsafe one', () => {
    rememberReturnTo('/rooms/r-1');
    expect(readReturnTo()).toBe('/rooms/r-1');
    rememberReturnTo('https://evil.example/');
    expect(readReturnTo()).toBeNull();
    // Tampered storage is checked again on the way out.
    sessionStorage.setItem('streamshare.returnTo', '//evil.example');
    expect(readReturnTo()).toBeNull();
    rememberReturnTo('/rooms/r-2');
    forgetReturnTo();
    expect(readReturnTo()).toBeNull();
  });
});
