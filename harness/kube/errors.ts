/**
 * What the API server said, without the noise. client-node's ApiException embeds the body and every response
 * header in `message` (src/gen/apis/exception.ts); for codes the OpenAPI spec does not declare, `body` is the raw
 * JSON string. This reads the metav1.Status out of either and names the object it was about.
 */
import * as k8s from '@kubernetes/client-node';
import { MeshcheckError } from '../errors.ts';

export interface ApiStatus {
  code?: number;
  reason?: string;
  message?: string;
  causes: { reason?: string; field?: string; message?: string }[];
}

/** The metav1.Status of an API error, when there is one. */
export function apiStatus(err: unknown): ApiStatus | undefined {
  if (!(err instanceof k8s.ApiException)) return undefined;
  let body: unknown = err.body;
  if (typeof body === 'string') {
    const text: string = body;
    try {
      body = JSON.parse(text);
    } catch {
      return { code: err.code, message: text.slice(0, 500), causes: [] };
    }
  }
  const s = (body ?? {}) as { code?: number; reason?: string; message?: string; details?: { causes?: ApiStatus['causes'] } };
  return { code: s.code ?? err.code, reason: s.reason, message: s.message, causes: s.details?.causes ?? [] };
}

export interface ObjectRef {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string };
}

export function describeRef(o: ObjectRef): string {
  const ns = o.metadata?.namespace ? `${o.metadata.namespace}/` : '';
  return `${o.kind ?? 'object'} ${ns}${o.metadata?.name ?? '(no name)'}`;
}

/**
 * One error from the API server as a person reads it: what, the server's verdict, each cause on its own line.
 * An invalid object is the input's fault (exit 2); anything else is the cluster's (exit 3).
 */
export class KubeApiError extends MeshcheckError {
  override name = 'KubeApiError';
  readonly status: ApiStatus | undefined;
  readonly code: number | undefined;
  /** The object itself is wrong (schema, types, validation rules), as opposed to the cluster or the connection. */
  readonly invalid: boolean;
  constructor(action: string, err: unknown, fix?: string) {
    const status = apiStatus(err);
    const head = status
      ? `${action}: the API server answered ${status.code ?? '?'}${status.reason ? ` ${status.reason}` : ''}: ${status.message ?? '(no message)'}`
      : `${action}: ${(err as Error)?.message?.split('\n')[0] ?? String(err)}`;
    const causes = status?.causes.filter((c) => c.message && !status.message?.includes(c.message)) ?? [];
    const invalid = isInvalid(status);
    const f = fix ?? defaultFix(status);
    super([head, ...causes.map((c) => `  - ${c.field ? `${c.field}: ` : ''}${c.message}`)].join('\n'), { category: invalid ? 'usage' : 'infrastructure', ...(f ? { fix: f } : {}), cause: err });
    this.status = status;
    this.code = status?.code;
    this.invalid = invalid;
  }
}

/**
 * Server-side apply reports a field of the wrong type (a string where the schema says integer) as 500
 * InternalError "failed to create typed patch object (…): .spec.x: expected numeric (int or float), got string",
 * before validation runs (structured-merge-diff's typed conversion in the apiserver's fieldmanager). It is still
 * the object's fault, not the server's.
 */
const TYPED_PATCH = /failed to create typed patch object/;

function isInvalid(s: ApiStatus | undefined): boolean {
  return s?.reason === 'Invalid' || s?.code === 422 || Boolean(s?.message && TYPED_PATCH.test(s.message));
}

function defaultFix(s: ApiStatus | undefined): string | undefined {
  if (s?.message && TYPED_PATCH.test(s.message)) return 'correct the types of the fields named above (the CRD schema says what each must be)';
  switch (s?.reason) {
    case 'Invalid':
      return 'correct the fields named above; the API server validated the object against its schema';
    case 'NotFound':
      return s.message?.includes('the server could not find the requested resource')
        ? 'the resource type is not installed in this cluster: install its CRDs first'
        : undefined;
    case 'Forbidden':
      return 'the kubeconfig user lacks permission: use a context with rights in this namespace';
    case 'AlreadyExists':
      return 'the object exists already';
    default:
      return undefined;
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof k8s.ApiException && err.code === 404;
}
