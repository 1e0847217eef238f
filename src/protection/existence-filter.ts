import type { ExistenceFilter } from '../options/cache-options.interface';

/**
 * Asks an existence filter whether `key` may exist. Only an explicit `false` means "no";
 * a filter that throws or rejects fails open (the loader runs) after `onError` is told, so
 * a broken filter never hides real data.
 */
export async function mayExist(
  filter: ExistenceFilter,
  key: string,
  onError: (error: unknown) => void,
): Promise<boolean> {
  try {
    return (await filter(key)) !== false;
  } catch (error) {
    onError(error);
    return true;
  }
}
