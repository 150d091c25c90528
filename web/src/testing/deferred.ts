/** A promise a test settles by hand: hold an MSW answer to see a pending state. */
export type Deferred<T = void> = {
  promise: Promise<T>;
  resolve: (value: T) => void;
};

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
