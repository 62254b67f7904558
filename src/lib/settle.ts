/**
 * Waits until every promise has settled, then returns their values, or throws the rejection that
 * came first. `onFirstError` hears that rejection at once, so the caller can stop the others
 * (work is never left running behind a failure).
 */
export async function settleAll<const T extends readonly unknown[]>(
  promises: T,
  onFirstError?: (err: unknown) => void,
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  let first: { readonly err: unknown } | undefined;
  const results = await Promise.allSettled(
    promises.map((p) =>
      Promise.resolve(p).catch((err: unknown) => {
        if (!first) {
          first = { err };
          onFirstError?.(err);
        }
        throw err;
      }),
    ),
  );
  if (first) throw first.err;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}
