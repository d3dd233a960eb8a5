/**
 * A cluster meshcheck did not create: any kubeconfig and context. By default meshcheck refuses it — a release
 * gate must not install a mesh into somebody's cluster by accident. With --allow-existing-cluster it proceeds,
 * and even then creates and deletes only namespaces it labelled as its own (harness/kube/namespaces.ts).
 *
 * A context counts as meshcheck's when it is `kind-<name>` of a kind cluster meshcheck created (an ownership
 * record in its state directory, clusters/kind/ownership.ts).
 */
import { UsageError } from '../../harness/errors.ts';
import { kubeClient, type KubeClient, type KubeTarget, serverVersion } from '../../harness/kube/client.ts';
import { isOurCluster } from '../kind/ownership.ts';

export interface ExistingClusterOptions extends KubeTarget {
  /** The user said so explicitly (--allow-existing-cluster). */
  allowExisting: boolean;
  /** meshcheck's kind state directory, to recognise its own clusters. */
  stateDir: string;
  /** Decide ownership without asking the server (dry runs: the plan needs no running cluster). */
  offline?: boolean;
}

export interface ConnectedCluster {
  target: KubeTarget & { context: string };
  client: KubeClient;
  /** meshcheck created this cluster (it may do anything in it). */
  ours: boolean;
  /** Undefined when connected offline. */
  serverVersion?: string;
}

/** Pure: which kind cluster a context names, if it is a kind context. */
export function kindClusterOfContext(context: string): string | undefined {
  return context.startsWith('kind-') ? context.slice('kind-'.length) : undefined;
}

export async function connectExisting(o: ExistingClusterOptions): Promise<ConnectedCluster> {
  const client = kubeClient(o);
  const kindName = kindClusterOfContext(client.context);
  const ours = kindName ? await isOurCluster({ stateDir: o.stateDir }, kindName) : false;
  if (!ours && !o.allowExisting) {
    throw new UsageError(
      `context "${client.context}" in ${o.kubeconfig} (${client.server}) is a cluster meshcheck did not create; meshcheck will not change it`,
      'pass --allow-existing-cluster to use it anyway (meshcheck then creates and deletes only namespaces it labels meshcheck.managed=true), or let meshcheck create a cluster (meshcheck cluster up)',
    );
  }
  const target = { kubeconfig: o.kubeconfig, context: client.context };
  if (o.offline) return { target, client, ours };
  const v = await serverVersion(client);
  return { target, client, ours, serverVersion: v.gitVersion };
}
