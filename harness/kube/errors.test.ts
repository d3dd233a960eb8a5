import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { apiStatus, KubeApiError } from './errors.ts';

const status = (code: number, reason: string, message: string, causes: object[] = []) => ({ kind: 'Status', status: 'Failure', code, reason, message, details: { causes } });

describe('KubeApiError', () => {
  it('reads the Status from a JSON string body (undeclared status codes) and from an object body', () => {
    const s = status(404, 'NotFound', 'namespaces "x" not found');
    expect(apiStatus(new k8s.ApiException(404, 'Unknown API Status Code!', JSON.stringify(s), { 'content-type': 'application/json' }))).toMatchObject({ code: 404, reason: 'NotFound' });
    expect(apiStatus(new k8s.ApiException(404, 'x', s, {}))).toMatchObject({ message: 'namespaces "x" not found' });
    expect(apiStatus(new Error('plain'))).toBeUndefined();
  });

  it('shows the verdict and each cause not already in the message, never the headers', () => {
    const e = new KubeApiError(
      'apply VirtualService a/b',
      new k8s.ApiException(422, 'HTTP-Code: 422 Message: ... Headers: {"audit-id":"123"}', status(422, 'Invalid', 'VirtualService "b" is invalid: spec.hosts: Required value', [{ field: 'spec.hosts', message: 'Required value' }, { field: 'spec.http', message: 'Too many: 3' }]), { 'audit-id': '123' }),
    );
    expect(e.message).toBe('apply VirtualService a/b: the API server answered 422 Invalid: VirtualService "b" is invalid: spec.hosts: Required value\n  - spec.http: Too many: 3');
    expect(e.invalid).toBe(true);
    expect(e.fix).toMatch(/correct the fields/);
  });

  it("treats server-side apply's typed-patch failure (a 500) as the object's fault", () => {
    const e = new KubeApiError('apply X', new k8s.ApiException(500, 'x', status(500, 'InternalError', 'failed to create typed patch object (ns/x; g/v1, Kind=X): .spec.n: expected numeric (int or float), got string'), {}));
    expect(e.invalid).toBe(true);
    expect(e.fix).toMatch(/types of the fields/);
  });

  it('a connection error is not an invalid object', () => {
    const e = new KubeApiError('apply X', new Error('connect ECONNREFUSED 127.0.0.1:6443'));
    expect(e.message).toBe('apply X: connect ECONNREFUSED 127.0.0.1:6443');
    expect(e.invalid).toBe(false);
  });
});
