// argocd/settings/: what Argo CD's own configuration must hold for our Applications, as ConfigMap
// fragments to merge into Argo CD's install (Helm values `configs.params`, `configs.cm`,
// `notifications.cm`, or a kustomize patch). Never applied by `npm run bootstrap`: applying a partial
// ConfigMap over Argo CD's would drop its other keys. Bootstrap reads the live ConfigMaps: it stops when
// argocd-cmd-params-cm lacks our namespaces, and says whether the other two are in (cli/day2.ts).
import { Chart, type ChartProps } from 'cdk8s';
import * as k8s from 'cdk8s-plus-28/lib/imports/k8s';
import type { Construct } from 'constructs';
import type { Environment } from '../config/load';
import { browsableFile } from '../config/repository';
import { childApplicationsNamespace } from '../delivery/names';
import { NOTIFICATIONS, notificationSettings, RUNBOOK_FILE } from '../delivery/notifications';

/** Argo CD's ConfigMap of command-line parameters, and the key that lists the namespaces Applications may live in. */
export const ARGOCD_CMD_PARAMS = { configMap: 'argocd-cmd-params-cm', applicationNamespacesKey: 'application.namespaces' } as const;

/** Argo CD's main ConfigMap, and the key of the health check it runs on Applications. */
export const ARGOCD_CM = { configMap: 'argocd-cm', applicationHealthKey: 'resource.customizations.health.argoproj.io_Application' } as const;

/**
 * Argo CD's documented health check for an Application (docs: "Health: Argo CD App"), which v1.8 took
 * out of the defaults: without it a root counts as Healthy as soon as its children exist, whatever they
 * run. With it a root is as healthy as its worst child, so the root's status says what the environment runs.
 */
export const APPLICATION_HEALTH_LUA = `hs = {}
hs.status = "Progressing"
hs.message = ""
if obj.status ~= nil then
  if obj.status.health ~= nil then
    hs.status = obj.status.health.status
    if obj.status.health.message ~= nil then
      hs.message = obj.status.health.message
    end
  end
end
return hs
`;

export const ARGOCD_SETTINGS_FILES = [ARGOCD_CM.configMap, ARGOCD_CMD_PARAMS.configMap, NOTIFICATIONS.configMap] as const;
export type ArgocdSettingsFile = (typeof ARGOCD_SETTINGS_FILES)[number];

export interface ArgocdSettingsChartProps extends ChartProps {
  readonly environments: readonly Environment[];
  readonly configMap: ArgocdSettingsFile;
}

export class ArgocdSettingsChart extends Chart {
  constructor(scope: Construct, id: string, props: ArgocdSettingsChartProps) {
    super(scope, id, props);
    const { configMap, environments } = props;
    new k8s.KubeConfigMap(this, 'config-map', {
      metadata: {
        name: configMap,
        namespace: environments[0].config.gitops.argocdNamespace,
        labels: { 'app.kubernetes.io/name': configMap, 'app.kubernetes.io/part-of': 'argocd' },
      },
      data: settingsData(configMap, environments),
    });
  }
}

function settingsData(configMap: ArgocdSettingsFile, environments: readonly Environment[]): Record<string, string> {
  switch (configMap) {
    case ARGOCD_CMD_PARAMS.configMap:
      // The application controller and the API server read it at start (ARGOCD_APPLICATION_NAMESPACES):
      // without it they ignore the child Applications, which then never sync.
      return { [ARGOCD_CMD_PARAMS.applicationNamespacesKey]: environments.map((e) => childApplicationsNamespace(e.config.gitops)).join(',') };
    case ARGOCD_CM.configMap:
      return { [ARGOCD_CM.applicationHealthKey]: APPLICATION_HEALTH_LUA };
    case NOTIFICATIONS.configMap: {
      // The runbook is read on the branch stage 1 follows, where docs are newest; every environment agrees on the URL (config/rules.ts).
      const { gitops } = [...environments].sort((a, b) => a.config.gitops.stage - b.config.gitops.stage)[0].config;
      const file = browsableFile(gitops.repoURL, gitops.targetRevision, RUNBOOK_FILE) ?? RUNBOOK_FILE;
      return notificationSettings(gitops.notifications, (anchor) => `${file}#${anchor}`);
    }
  }
}
