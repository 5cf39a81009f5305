// Whole-project synthesis: deterministic output, the shipped default, and the committed files.
import * as path from 'node:path';
import { OUTPUT_DIRS, synthesizeProject } from '../synth/pipeline';
import { PROJECT_ROOT, snapshotTree, tempProject } from './helpers';

const synthTwice = () =>
  [0, 1].map(() => {
    const { root } = tempProject();
    synthesizeProject(root, path.join(PROJECT_ROOT, 'config'));
    return OUTPUT_DIRS.map((dir) => snapshotTree(path.join(root, dir)));
  });

test('GIVEN the same config WHEN synthesizing twice in different folders THEN the files are byte-identical', () => {
  const [first, second] = synthTwice();
  expect(Object.keys(first[0]).length).toBeGreaterThan(0);
  expect(second).toEqual(first);
});

test('GIVEN the generated files THEN they carry no timestamps, temp or machine paths', () => {
  const [files] = synthTwice();
  const text = JSON.stringify(files);
  expect(text).not.toMatch(/\/tmp\/|\/home\/|\/root\/|\/work\/|edge-test-|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
});
