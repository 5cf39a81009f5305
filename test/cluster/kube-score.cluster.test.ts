// kube-score over every environment's dist/<env>/edge/: zero findings. The exceptions are written on the
// objects themselves (kube-score/ignore, with the reason in kube-score-reason.envoy-edge/<check>).
import { Cluster, objectsOfFiles, report, tool, yamlFilesIn } from './harness';

const cluster = new Cluster();

test('GIVEN every dist/<env>/edge/ WHEN kube-score scores it for Kubernetes 1.28 THEN it exits 0 with no finding', () => {
  const files = cluster.environments.flatMap((env) => yamlFilesIn(cluster.path('dist', env, 'edge')));
  const out = tool(cluster.ctx.kubeScore, ['score', '--kubernetes-version', 'v1.28', '--output-format', 'ci', ...files], cluster.ctx.root);
  const lines = out.stdout.split('\n').filter(Boolean);
  const ok = lines.filter((l) => l.startsWith('[OK] '));
  const skipped = lines.filter((l) => l.startsWith('[SKIPPED] '));
  expect({ exit: out.status, findings: lines.filter((l) => !ok.includes(l) && !skipped.includes(l)), stderr: out.stderr.trim() }).toEqual({
    exit: 0,
    findings: [],
    stderr: '',
  });
  expect(ok.length).toBeGreaterThan(0);
  // kube-score names an object "<name>/<namespace> <apiVersion>/<Kind>".
  const declared = new Set(
    objectsOfFiles(files).flatMap((o) =>
      (o.metadata.annotations?.['kube-score/ignore'] ?? '')
        .split(',')
        .filter(Boolean)
        .map((check) => `${o.metadata.name}/${o.metadata.namespace ?? ''} ${o.kind} ${check.trim()}`),
    ),
  );
  const byAnnotation = skipped.filter((l) => {
    const m = /^\[SKIPPED\] (\S+) \S+\/(\w+): Skipped because (\S+) is ignored$/.exec(l);
    return m !== null && declared.has(`${m[1]} ${m[2]} ${m[3]}`);
  });
  report(
    `kube-score: zero findings in ${cluster.environments.join(', ')} (${files.length} files): ${ok.length} checks OK, ${skipped.length} skipped ` +
      `(${byAnnotation.length} by the objects' kube-score/ignore annotations, the rest checks kube-score leaves off or finds not applicable)`,
  );
});
