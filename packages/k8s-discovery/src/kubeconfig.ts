/**
 * Where the console finds the API server: inside a pod, its ServiceAccount (token, CA and address the kubelet mounts
 * and sets); elsewhere KUBECONFIG or ~/.kube/config, as kubectl does.
 */
import { KubeConfig } from "@kubernetes/client-node";

export function kubeConfigFromEnvironment(env: NodeJS.ProcessEnv = process.env): KubeConfig {
  const kc = new KubeConfig();
  if (env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
  else kc.loadFromDefault();
  return kc;
}
