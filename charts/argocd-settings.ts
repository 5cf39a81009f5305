// argocd/settings/: what Argo CD's own configuration must hold for our Applications, as ConfigMap
// fragments to merge into Argo CD's install (Helm values `configs.params`, or a kustomize patch). Never
// applied by `npm run bootstrap`: applying a partial ConfigMap over Argo CD's would drop its other keys.
// Bootstrap reads the live ConfigMaps and stops if a setting is missing (cli/day2.ts).
import { Chart, type ChartProps } from 'cdk8s';
import * as k8s from 'cdk8s-plus-28/lib/imports/k8s';
import type { Construct } from 'constructs';
import type { Environment } from '../config/load';
import { childApplicationsNamespace } from '../delivery/names';

/** Argo CD's ConfigMap of command-line parameters, and the key that lists the namespaces Applications may live in. */
export const ARGOCD_CMD_PARAMS = { configMap: 'argocd-cmd-params-cm', applicationNamespacesKey: 'application.namespaces' } as const;

export interface ArgocdSettingsChartProps extends ChartProps {
  readonly environments: readonly Environment[];
}

export class ArgocdSettingsChart extends Chart {
  constructor(scope: Construct, id: string, props: ArgocdSettingsChartProps) {
    super(scope, id, props);
    const [first] = props.environments;
    new k8s.KubeConfigMap(this, 'cmd-params', {
      metadata: {
        name: ARGOCD_CMD_PARAMS.configMap,
        namespace: first.config.gitops.argocdNamespace,
        labels: { 'app.kubernetes.io/name': ARGOCD_CMD_PARAMS.configMap, 'app.kubernetes.io/part-of': 'argocd' },
      },
      // The application controller and the API server read it at start (ARGOCD_APPLICATION_NAMESPACES):
      // without it they ignore the child Applications, which then never sync.
      data: { [ARGOCD_CMD_PARAMS.applicationNamespacesKey]: props.environments.map((e) => childApplicationsNamespace(e.config.gitops)).join(',') },
    });
  }
}
