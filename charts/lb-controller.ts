// The AWS Load Balancer Controller, delivered as one Argo CD Application whose source is the
// upstream Helm chart. Argo CD renders the chart in-cluster: rendering here would put a fresh
// webhook CA and private key into dist/ on every synth (the chart calls genCA).
import { Chart, type ChartProps } from 'cdk8s';
import type { Construct } from 'constructs';
import type { EdgeConfig } from '../config/schema';
import type { ApplicationMetadata } from '../delivery/metadata';
import { ARGOCD_RESOURCES_FINALIZER, childApplicationsNamespace, lbControllerApplicationName, lbControllerProjectName } from '../delivery/names';
import { syncPolicy } from '../delivery/sync-policy';
import { SYNC_WAVE, SYNC_WAVE_ANNOTATION } from '../delivery/sync-waves';
import { Application, type ApplicationSpecIgnoreDifferences } from '../imports/argoproj.io';
import { EKS_CHARTS_REPO_URL, LB_CONTROLLER_CHART, LB_CONTROLLER_GENERATED_TLS, LB_CONTROLLER_NAMESPACE } from '../k8s/names';
import { buildLbControllerValues } from '../lb-controller/values';

export interface LbControllerChartProps extends ChartProps {
  /** The validated config; the single source of every name in the Application. */
  readonly config: EdgeConfig;

  /**
   * Argo CD project the Application belongs to.
   *
   * @default the environment's controller project, `<gitops.project>-lb-controller`
   */
  readonly project?: string;

  /** The environment's labels, and its rollout note and notification subscriptions (delivery/metadata.ts). */
  readonly metadata?: ApplicationMetadata;
}

// Kubernetes object names (an AppProject's too) are DNS-1123 subdomains: up to 253 characters.
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export class LbControllerChart extends Chart {
  /** The Argo CD Application that installs the controller. */
  public readonly application: Application;

  constructor(scope: Construct, id: string, props: LbControllerChartProps) {
    super(scope, id, props);
    const { config } = props;
    const project = props.project ?? lbControllerProjectName(config.gitops);
    if (!DNS_SUBDOMAIN.test(project)) {
      throw new Error(`LbControllerChart props.project: got ${JSON.stringify(project)}; allowed: an Argo CD project name (a DNS-1123 subdomain)`);
    }
    const { releaseName, chartVersion, certManager } = config.lbController;

    this.application = new Application(this, 'application', {
      metadata: {
        // Named after the environment's project: one Argo CD may serve several environments.
        name: lbControllerApplicationName(config.gitops),
        namespace: childApplicationsNamespace(config.gitops),
        // Before Envoy's objects and our Ingress: the controller's webhook must admit the Ingress.
        labels: props.metadata?.labels,
        annotations: { ...props.metadata?.annotations, [SYNC_WAVE_ANNOTATION]: SYNC_WAVE.lbController },
        finalizers: [ARGOCD_RESOURCES_FINALIZER],
      },
      spec: {
        project,
        source: {
          repoUrl: EKS_CHARTS_REPO_URL,
          chart: LB_CONTROLLER_CHART,
          targetRevision: chartVersion,
          helm: {
            releaseName,
            // An object, not a YAML string, so a values change shows as a field diff in git and Argo CD.
            valuesObject: buildLbControllerValues(config),
          },
        },
        destination: { name: config.gitops.destinationName, namespace: LB_CONTROLLER_NAMESPACE },
        // Retried like every Application: the first sync can race the CRDs and the webhook's endpoints.
        syncPolicy: syncPolicy(config.gitops, [
          // Argo CD applies and diffs only the fields it owns; others' fields (cainjector's caBundle) are not drift.
          'ServerSideApply=true',
          // Keep the live caBundle and TLS Secret on sync, not only in the diff (Argo CD sync-options docs).
          'RespectIgnoreDifferences=true',
          // kube-system always exists; never let Argo CD own it.
          'CreateNamespace=false',
        ]),
        ignoreDifferences: certManager ? undefined : generatedTlsDifferences(),
      },
    });
  }
}

/**
 * Without cert-manager the chart generates a new CA and key on every render (`helm template`
 * cannot `lookup` the live Secret), so the webhooks' caBundle and the TLS Secret differ from the
 * live ones on every refresh. Argo CD ignores them; RespectIgnoreDifferences keeps the live pair
 * on sync, so caBundle and Secret stay matched. Names from the chart's webhook.yaml and _helpers.tpl.
 */
export function generatedTlsDifferences(): ApplicationSpecIgnoreDifferences[] {
  const caBundles = ['.webhooks[]?.clientConfig.caBundle'];
  return [
    {
      group: 'admissionregistration.k8s.io',
      kind: 'MutatingWebhookConfiguration',
      name: LB_CONTROLLER_GENERATED_TLS.webhookConfiguration,
      jqPathExpressions: caBundles,
    },
    {
      group: 'admissionregistration.k8s.io',
      kind: 'ValidatingWebhookConfiguration',
      name: LB_CONTROLLER_GENERATED_TLS.webhookConfiguration,
      jqPathExpressions: caBundles,
    },
    {
      kind: 'Secret',
      name: LB_CONTROLLER_GENERATED_TLS.tlsSecret,
      namespace: LB_CONTROLLER_NAMESPACE,
      jqPathExpressions: ['.data'],
    },
  ];
}
