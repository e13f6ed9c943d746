/** Thrown by `within` when the time is up. */
export class TimedOut extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
  }
}

/** The promise's result, or TimedOut after `ms` (the promise itself runs on). */
export function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new TimedOut(ms)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
