// The sync waves, read from what the clusters and Argo CD recorded of the first sync: the controller's
// Application (wave -1 in dist/<env>/) is created before the edge's (wave 0); in the edge, every object
// of a lower wave than the Ingress exists, and the Deployment is Available, before the Ingress is
// created (wave 1), so the ALB never points at pods that are not serving. Argo CD waits 2 s between
// waves (ARGOCD_SYNC_WAVE_DELAY), so whole seconds of creationTimestamp tell them apart.
import { Gitops, report } from './harness';

const gitops = new Gitops();
const { facts } = gitops.ctx;
const envs = Object.keys(gitops.ctx.environments);
const WAVE = 'argocd.argoproj.io/sync-wave';
const epoch = (t: string | undefined) => (t ? Date.parse(t) / 1000 : Number.NaN);
const wave = (o: any) => Number(o.metadata.annotations?.[WAVE] ?? 0);

test.each(envs)(
  'GIVEN %s after the first sync THEN the controller Application came first, and the Ingress only after its wave before and the Deployment Available',
  (env) => {
    const e = gitops.ctx.environments[env];
    const lbCreated = epoch(gitops.app(e.lbApp, '{.metadata.creationTimestamp}'));
    const edgeCreated = epoch(gitops.app(e.edgeApp, '{.metadata.creationTimestamp}'));
    const objects = gitops.distObjects(env);
    const ingress = objects.find((o) => o.kind === 'Ingress');
    const before = objects.filter((o) => wave(o) < wave(ingress));
    const live = gitops.liveObjects(env);
    const created = (o: any) =>
      epoch(
        live.find((l) => l.kind === o.kind && l.metadata.name === o.metadata.name && l.metadata.namespace === o.metadata.namespace)?.metadata.creationTimestamp,
      );
    const ingressCreated = created(ingress);
    const lastBefore = Math.max(...before.map(created));
    const deployment = live.find((l) => l.kind === 'Deployment' && l.metadata.name === facts.edge.deployment);
    const available = epoch(deployment?.status?.conditions?.find((c: any) => c.type === 'Available')?.lastTransitionTime);
    let figures =
      `controller Application created ${edgeCreated - lbCreated} s before the edge Application; the last of ${before.length} objects of waves < ${wave(ingress)} ` +
      `${ingressCreated - lastBefore} s and the Deployment Available ${ingressCreated - available} s before the Ingress (wave ${wave(ingress)})`;
    if (gitops.ctx.realClock) {
      const ready = gitops
        .json(
          env,
          '-n',
          e.envoyNamespace,
          'get',
          'pods',
          '-l',
          Object.entries(deployment.spec.selector.matchLabels)
            .map(([k, v]) => `${k}=${v}`)
            .join(','),
        )
        .items.map((p: any) => epoch(p.status.conditions.find((c: any) => c.type === 'Ready')?.lastTransitionTime));
      figures += `; the Ingress ${ingressCreated - Math.max(...ready)} s after the last Envoy pod turned Ready (minReadySeconds ${facts.minReadySeconds})`;
    }
    report(`sync waves, ${env}: ${figures}`);
    expect(before.length).toBeGreaterThan(0);
    expect(lbCreated).toBeLessThan(edgeCreated);
    expect(lastBefore).toBeLessThan(ingressCreated);
    expect(available).toBeLessThanOrEqual(ingressCreated);
  },
);
