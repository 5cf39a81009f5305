// kubeconform -strict over dist/ (every environment) and argocd/, on the Kubernetes 1.28 schemas and the
// CRDs' schemas (scripts/cluster/build-tools.sh generates both offline): every object found, every one valid.
import { Cluster, objectsOfFiles, report, tool, yamlFilesUnder } from './harness';

const cluster = new Cluster();

test('GIVEN dist/ and argocd/ WHEN kubeconform -strict reads them THEN it finds every object of every file and all are valid', () => {
  const files = [...yamlFilesUnder(cluster.path('dist')), ...yamlFilesUnder(cluster.path('argocd'))];
  const objects = objectsOfFiles(files).length;
  const out = tool(cluster.ctx.kubeconform, [...cluster.ctx.kubeconformArgs, 'dist', 'argocd'], cluster.ctx.root);
  const summary = /Summary: (\d+) resources? found in (\d+) files? - Valid: (\d+), Invalid: (\d+), Errors: (\d+), Skipped: (\d+)/.exec(out.stdout);
  expect({ exit: out.status, problems: out.stdout.split('\n').filter((l) => l && !l.startsWith('Summary:')) }).toEqual({ exit: 0, problems: [] });
  expect(summary?.slice(1).map(Number)).toEqual([objects, files.length, objects, 0, 0, 0]);
  report(
    `kubeconform -strict: ${objects} objects in ${files.length} files of dist/ (${cluster.environments.join(', ')}) and argocd/, all valid: ${summary?.[0]}`,
  );
});
