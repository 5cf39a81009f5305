// Argo CD sync waves. In an environment's root (dist/<environment>/): the controller's Application
// first (its webhook must serve before our Ingress is admitted), then the Application of Envoy's
// objects. Inside that one (dist/<environment>/edge/): Envoy's objects, then the Ingress.
export const SYNC_WAVE = {
  lbController: '-1',
  edge: '0',
  envoy: '0',
  ingress: '1',
} as const;

export const SYNC_WAVE_ANNOTATION = 'argocd.argoproj.io/sync-wave';
