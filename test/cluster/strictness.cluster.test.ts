// The guards above are only worth what they refuse. A Deployment of ours with one field misspelt
// (spec.replicas → spec.replica, a mistake a hand edit or a builder bug makes) is refused by both:
// kubeconform -strict on the schemas, and the API server's strict field validation on a dry run,
// which is what `kubectl apply` and Argo CD's sync meet.
import { Cluster, report, tool } from './harness';

const cluster = new Cluster();
const env = cluster.ctx.argocdEnvironment;
const misspelt = () => {
  const deployment = cluster.objects(cluster.path('dist', env, 'edge')).find((o) => o.kind === 'Deployment') as any;
  const { replicas, ...spec } = deployment.spec;
  return cluster.writeObjects('misspelt-deployment', [{ ...deployment, spec: { ...spec, replica: replicas } }]);
};

test(`GIVEN ${env}'s Deployment with spec.replicas misspelt as spec.replica WHEN kubeconform -strict reads it THEN it refuses the field`, () => {
  const out = tool(cluster.ctx.kubeconform, [...cluster.ctx.kubeconformArgs, misspelt()], cluster.ctx.root);
  const line = out.stdout.split('\n').find((l) => l.includes('replica')) ?? out.stdout;
  report(`kubeconform -strict on the misspelt Deployment: exit ${out.status}: …${line.trim().slice(-160)}`);
  expect(out.status).not.toBe(0);
  expect(line).toContain("'replica'");
});

test(`GIVEN the same Deployment WHEN it is applied with --dry-run=server to ${env}'s API server THEN the server refuses the unknown field`, () => {
  const out = cluster.run(cluster.contextOf(env), ['apply', '--dry-run=server', '-f', misspelt()]);
  report(`kubectl apply --dry-run=server of the misspelt Deployment: exit ${out.status}: ${out.stderr.trim().slice(0, 240)}`);
  expect(out.status).not.toBe(0);
  expect(out.stderr).toContain('unknown field "spec.replica"');
});
