// Argo CD sync waves inside dist/: the controller first (its webhook must serve before our
// Ingress is admitted), then Envoy's objects, then the Ingress that makes the ALB.
export const SYNC_WAVE = {
  lbController: '-1',
  envoy: '0',
  ingress: '1',
} as const;

export const SYNC_WAVE_ANNOTATION = 'argocd.argoproj.io/sync-wave';
