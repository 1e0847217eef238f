import { DistributedCacheError, ImCacheError } from '../../errors';
import type { ImStorage } from './im-storage';

/** Injection token of the {@link ImStorageHandle}. */
export const IM_STORAGE = 'nest-im-cache:IM_STORAGE';

/**
 * The repositories' access to their storage: the storage itself, or the error every call
 * fails with when the repositories are off (`im: false`, or a driver that cannot serve
 * them and `im` was not asked for).
 */
export class ImStorageHandle {
  /**
   * @param storage the storage, or `undefined` when the repositories are off
   * @param unavailable builds the error a call fails with when they are off
   */
  constructor(
    readonly storage: ImStorage | undefined,
    private readonly unavailable?: (repository: string) => ImCacheError,
  ) {}

  /**
   * The storage.
   *
   * @throws the reason the repositories are off, naming `repository`
   */
  get(repository: string): ImStorage {
    if (this.storage !== undefined) return this.storage;
    throw this.unavailable?.(repository) ?? new Error(`${repository} has no storage`);
  }
}

/**
 * Runs one storage step, turning a backend failure (Redis down, a timeout) into a
 * `DistributedCacheError` naming the operation and what it was about. Typed errors of the
 * repositories pass through unchanged.
 */
export async function storageStep<T>(
  operation: string,
  subject: string | undefined,
  step: () => Promise<T>,
): Promise<T> {
  try {
    return await step();
  } catch (cause) {
    throw storageFailure(operation, subject, cause);
  }
}

/** The error a failed storage step is reported with (see {@link storageStep}). */
export function storageFailure(operation: string, subject: string | undefined, cause: unknown) {
  if (cause instanceof ImCacheError) return cause;
  const what = subject === undefined ? operation : `${operation} (${subject})`;
  return new DistributedCacheError(what, undefined, { cause });
}
