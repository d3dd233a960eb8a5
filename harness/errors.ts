/**
 * Errors a person can act on: what failed, and the fix. Each carries the exit-code category it maps to; the
 * mapping to numbers lives in one place (harness/cli/exit-codes.ts).
 */
export type ErrorCategory = 'check-failed' | 'usage' | 'infrastructure';

export class MeshcheckError extends Error {
  override name = 'MeshcheckError';
  readonly category: ErrorCategory;
  /** What to do about it, in one sentence. */
  readonly fix: string | undefined;
  constructor(message: string, opts: { category: ErrorCategory; fix?: string; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.category = opts.category;
    this.fix = opts.fix;
  }
}

/** Bad command line or configuration: exit 2. */
export class UsageError extends MeshcheckError {
  override name = 'UsageError';
  constructor(message: string, fix?: string) {
    super(message, { category: 'usage', ...(fix ? { fix } : {}) });
  }
}

/** Something meshcheck depends on is missing or broken (Docker, a registry, a cluster): exit 3. */
export class InfrastructureError extends MeshcheckError {
  override name = 'InfrastructureError';
  constructor(message: string, fix?: string, cause?: unknown) {
    super(message, { category: 'infrastructure', ...(fix ? { fix } : {}), cause });
  }
}
