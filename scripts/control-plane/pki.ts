/**
 * Certificates and keys of the test control plane, made with openssl (argument arrays, no shell): a CA, the API
 * server's serving certificate for loopback, an admin client certificate in system:masters (bound to
 * cluster-admin by the RBAC bootstrap policy), and the service-account signing key pair kube-apiserver requires
 * (--service-account-signing-key-file, --service-account-issuer: pkg/controlplane/apiserver/options/validation.go).
 * EC P-256 keys: generated in milliseconds, accepted by every component.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runChecked } from '../../harness/process/run.ts';

export interface Pki {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  adminCert: string;
  adminKey: string;
  saKey: string;
  saPub: string;
}

export function pkiPaths(dir: string): Pki {
  const p = (f: string) => path.join(dir, f);
  return {
    dir,
    caCert: p('ca.crt'),
    caKey: p('ca.key'),
    serverCert: p('apiserver.crt'),
    serverKey: p('apiserver.key'),
    adminCert: p('admin.crt'),
    adminKey: p('admin.key'),
    saKey: p('sa.key'),
    saPub: p('sa.pub'),
  };
}

async function ecKey(file: string): Promise<void> {
  await runChecked('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file]);
}

async function signed(pki: Pki, name: string, subject: string, extensions: string, key: string, cert: string): Promise<void> {
  const csr = path.join(pki.dir, `${name}.csr`);
  const ext = path.join(pki.dir, `${name}.ext`);
  await ecKey(key);
  await runChecked('openssl', ['req', '-new', '-key', key, '-subj', subject, '-out', csr]);
  await writeFile(ext, extensions);
  await runChecked('openssl', ['x509', '-req', '-in', csr, '-CA', pki.caCert, '-CAkey', pki.caKey, '-CAcreateserial', '-days', '825', '-sha256', '-extfile', ext, '-out', cert]);
}

/** Create what is missing (idempotent: an existing CA is reused, so kubeconfigs stay valid across restarts). */
export async function ensurePki(dir: string): Promise<Pki> {
  const pki = pkiPaths(dir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (!existsSync(pki.caCert)) {
    await ecKey(pki.caKey);
    await runChecked('openssl', ['req', '-x509', '-new', '-key', pki.caKey, '-subj', '/CN=meshcheck-test-ca', '-days', '3650', '-sha256', '-out', pki.caCert]);
  }
  if (!existsSync(pki.serverCert)) {
    // The names a client may use for the API server: loopback, and the in-cluster service names (istioctl and
    // webhooks address kubernetes.default.svc).
    const san = 'subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local';
    await signed(pki, 'apiserver', '/CN=kube-apiserver', `${san}\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n`, pki.serverKey, pki.serverCert);
  }
  if (!existsSync(pki.adminCert)) {
    await signed(pki, 'admin', '/O=system:masters/CN=meshcheck-admin', 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n', pki.adminKey, pki.adminCert);
  }
  if (!existsSync(pki.saKey)) {
    await ecKey(pki.saKey);
    await runChecked('openssl', ['pkey', '-in', pki.saKey, '-pubout', '-out', pki.saPub]);
  }
  return pki;
}
