import { errors } from 'undici';
import { describe, expect, test } from 'vitest';
import { errorKind, statusKind } from './error-kinds.ts';

describe('error kinds', () => {
  test('status classes: 2xx is success, the rest are errors of their class', () => {
    expect(statusKind(200)).toBeUndefined();
    expect(statusKind(204)).toBeUndefined();
    expect(statusKind(101)).toBe('http-1xx');
    expect(statusKind(302)).toBe('http-3xx');
    expect(statusKind(404)).toBe('http-4xx');
    expect(statusKind(503)).toBe('http-5xx');
    expect(statusKind(0)).toBe('http-other');
    expect(statusKind(999)).toBe('http-other');
  });

  test("undici's and Node's errors", () => {
    expect(errorKind(new errors.HeadersTimeoutError())).toBe('timeout');
    expect(errorKind(new errors.BodyTimeoutError())).toBe('timeout');
    expect(errorKind(new errors.ConnectTimeoutError())).toBe('connect-timeout');
    expect(errorKind(new errors.SocketError('other side closed'))).toBe('connection-reset');
    expect(errorKind(new errors.RequestAbortedError())).toBe('aborted');
    expect(errorKind(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe('connection-reset');
    expect(errorKind(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe('connection-refused');
    expect(errorKind(Object.assign(new Error('getaddrinfo ENOTFOUND x'), { code: 'ENOTFOUND' }))).toBe('dns');
    expect(errorKind(new Error('x', { cause: Object.assign(new Error('y'), { code: 'ECONNRESET' }) }))).toBe('connection-reset');
    expect(errorKind(new Error('strange'))).toBe('other');
    expect(errorKind(undefined)).toBe('other');
    expect(errorKind('a string')).toBe('other');
  });
});
