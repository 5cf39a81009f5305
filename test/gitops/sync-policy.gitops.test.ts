// The sync policy is written once (delivery/sync-policy.ts): each root gets it through its
// ApplicationSet element and the template patch, rendered by the real ApplicationSet controller, and
// each child has it in its file. On the live objects, the three must agree with the config.
import * as path from 'node:path';
import { loadEnvironments } from '../../config/load';
import { syncPolicy } from '../../delivery/sync-policy';
import { Gitops, report } from './harness';

const gitops = new Gitops();
const { environments } = loadEnvironments(path.join(gitops.ctx.worktree, 'config'));

test.each(environments.map((e) => [e.name, e]))(
  "GIVEN %s's config THEN its root (made by the ApplicationSet controller) and its edge Application carry the one sync policy it describes",
  (name, environment) => {
    const env = gitops.ctx.environments[name as string];
    const expected = syncPolicy((environment as (typeof environments)[number]).config.gitops);
    const root = JSON.parse(gitops.app(env.rootApp, '{.spec.syncPolicy}'));
    const edge = JSON.parse(gitops.app(env.edgeApp, '{.spec.syncPolicy}'));
    report(`sync policy, ${name}: root ${JSON.stringify(root)}; edge Application ${JSON.stringify(edge)}`);
    expect(root).toEqual(expected);
    expect(edge).toEqual(expected);
  },
);
