/**
 * A Kubernetes client for one cluster, from an explicit kubeconfig file and context. Never the user's default
 * kubeconfig by accident: client-node's loadFromDefault() silently falls back to http://localhost:8080 when it
 * finds nothing, so meshcheck always names the file.
 */
import { existsSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { InfrastructureError, UsageError } from '../errors.ts';

export interface KubeTarget {
  kubeconfig: string;
  /** The context to use; the file's current-context when absent. */
  context?: string;
}

export interface KubeClient {
  target: KubeTarget;
  /** The context actually used. */
  context: string;
  server: string;
  kc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  objects: k8s.KubernetesObjectApi;
  version: k8s.VersionApi;
}

export function kubeClient(target: KubeTarget): KubeClient {
  if (!existsSync(target.kubeconfig)) {
    throw new UsageError(`kubeconfig ${target.kubeconfig} does not exist`, 'pass --kubeconfig with the path of an existing kubeconfig file');
  }
  const kc = new k8s.KubeConfig();
  try {
    kc.loadFromFile(target.kubeconfig);
  } catch (err) {
    throw new UsageError(`kubeconfig ${target.kubeconfig} cannot be read: ${(err as Error).message}`, 'check that the file is a valid kubeconfig (kubectl config view --kubeconfig FILE)');
  }
  if (target.context) {
    if (!kc.getContextObject(target.context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new UsageError(
        `context "${target.context}" is not in ${target.kubeconfig}`,
        known.length ? `use one of: ${known.join(', ')}` : 'the file has no contexts',
      );
    }
    kc.setCurrentContext(target.context);
  }
  const context = kc.getCurrentContext();
  const cluster = kc.getCurrentCluster();
  if (!context || !cluster) throw new UsageError(`kubeconfig ${target.kubeconfig} has no current context`, 'pass --context NAME');
  return {
    target,
    context,
    server: cluster.server,
    kc,
    core: kc.makeApiClient(k8s.CoreV1Api),
    apps: kc.makeApiClient(k8s.AppsV1Api),
    objects: k8s.KubernetesObjectApi.makeApiClient(kc),
    version: kc.makeApiClient(k8s.VersionApi),
  };
}

/** The server's version, or an InfrastructureError naming the server and the fix. */
export async function serverVersion(client: KubeClient): Promise<k8s.VersionInfo> {
  try {
    return await client.version.getCode();
  } catch (err) {
    throw new InfrastructureError(
      `the Kubernetes API server ${client.server} (context ${client.context}) does not answer: ${(err as Error).message.split('\n')[0]}`,
      'check that the cluster is running (meshcheck cluster status) and that the kubeconfig points at it',
      err,
    );
  }
}
