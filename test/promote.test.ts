// npm run promote's reading of Argo CD's Application status, and its git checks. The whole command runs
// against the real Argo CD in verify:gitops (test/gitops/promotion.gitops.test.ts); these pin down the
// cases that run rarely there. Statuses are written as Argo CD v3.5 reports them (appcontroller.go:
// a failed attempt waiting for its retry is Running with finishedAt set; the retry clears it).
import { parseApplication, parsePromoteArgs, repositoryKey, verdict } from '../cli/promote';

const C = '1111111111111111111111111111111111111111';
const OLD = '2222222222222222222222222222222222222222';
const app = (status: Record<string, unknown>) => parseApplication('envoy-edge-staging-apps/envoy-edge-staging-edge', JSON.stringify({ status }));
const synced = (revision: string, health = 'Healthy') => ({
  sync: { status: 'Synced', revision },
  health: { status: health },
  operationState: { phase: 'Succeeded', operation: { sync: { revision } }, syncResult: { revision } },
});

describe('whether an Application runs a commit Synced and Healthy', () => {
  test('GIVEN Synced and Healthy at the commit THEN ready; at an older commit THEN waiting, naming both', () => {
    expect(verdict(app(synced(C)), C, true)).toEqual({ state: 'ready' });
    expect(verdict(app(synced(OLD)), C, true)).toEqual({ state: 'waiting', why: 'envoy-edge-staging-apps/envoy-edge-staging-edge runs 2222222, not 1111111' });
  });

  test('GIVEN Progressing at the commit (a Deployment not yet Available) THEN waiting', () => {
    expect(verdict(app(synced(C, 'Progressing')), C, true).state).toBe('waiting');
  });

  test('GIVEN Degraded at the commit THEN failed; Degraded at an older commit THEN still waiting for the commit', () => {
    expect(verdict(app({ ...synced(C, 'Degraded'), health: { status: 'Degraded', message: 'Deployment exceeded its progress deadline' } }), C, true)).toEqual({
      state: 'failed',
      why: 'envoy-edge-staging-apps/envoy-edge-staging-edge is Degraded at 1111111: Deployment exceeded its progress deadline',
    });
    expect(verdict(app(synced(OLD, 'Degraded')), C, true).state).toBe('waiting');
  });

  test('GIVEN an attempt at the commit that failed and waits for its retry THEN failed', () => {
    const retrying = {
      sync: { status: 'OutOfSync', revision: C },
      health: { status: 'Healthy' },
      operationState: {
        phase: 'Running',
        finishedAt: '2026-12-05T11:45:00Z',
        retryCount: 1,
        message: 'one or more synchronization tasks are not valid. Retrying attempt #1 at 11:45AM.',
        operation: { sync: { revision: C } },
        syncResult: { revision: C },
      },
    };
    expect(verdict(app(retrying), C, true)).toMatchObject({ state: 'failed', why: expect.stringContaining('its sync of 1111111 failed') });
  });

  test('GIVEN the retry running on a newer commit (retry.refresh cleared finishedAt and syncResult) THEN waiting, not failed', () => {
    const retryRunning = {
      sync: { status: 'OutOfSync', revision: C },
      health: { status: 'Healthy' },
      operationState: {
        phase: 'Running',
        retryCount: 1,
        message: 'Retrying operation with latest revisions. Attempt #1',
        operation: { sync: { revision: '' } },
      },
    };
    expect(verdict(app(retryRunning), C, true).state).toBe('waiting');
  });

  test("GIVEN a chart's Application (its revision is the chart version) THEN only Synced and Healthy count", () => {
    expect(verdict(app(synced('3.5.0')), C, false)).toEqual({ state: 'ready' });
    expect(verdict(app(synced('3.5.0', 'Progressing')), C, false).state).toBe('waiting');
  });

  test('GIVEN no Application THEN waiting, saying so', () => {
    expect(verdict(parseApplication('argocd/envoy-edge-staging', undefined), C, true)).toEqual({
      state: 'waiting',
      why: 'argocd/envoy-edge-staging does not exist',
    });
  });
});

describe('the repository promote pushes to must be the one Argo CD follows', () => {
  test.each([
    ['git@github.com:example-org/envoy-websocket-edge.git', 'https://github.com/example-org/envoy-websocket-edge.git'],
    ['ssh://git@github.com/example-org/envoy-websocket-edge', 'https://github.com/example-org/envoy-websocket-edge.git'],
    ['https://GitHub.com/example-org/envoy-websocket-edge/', 'https://github.com/example-org/envoy-websocket-edge'],
    ['git://127.0.0.1:9418/repo.git', 'git://127.0.0.1:9418/repo.git'],
  ])('GIVEN %s and %s THEN one repository', (a, b) => {
    expect(repositoryKey(a)).toBe(repositoryKey(b));
  });

  test.each([
    ['git@github.com:example-org/other.git', 'https://github.com/example-org/envoy-websocket-edge.git'],
    ['https://gitlab.com/example-org/envoy-websocket-edge.git', 'https://github.com/example-org/envoy-websocket-edge.git'],
    ['git://127.0.0.1:9418/repo.git', 'git://127.0.0.1:9419/repo.git'],
  ])('GIVEN %s and %s THEN two repositories', (a, b) => {
    expect(repositoryKey(a)).not.toBe(repositoryKey(b));
  });
});

describe('arguments', () => {
  test('GIVEN no --env, or a --wait that is not whole seconds THEN a usage error naming what is allowed', () => {
    expect(() => parsePromoteArgs([])).toThrow('promote needs --env <environment>');
    expect(() => parsePromoteArgs(['--env', 'prod', '--wait', '1.5'])).toThrow('--wait: got "1.5"; allowed: whole seconds from 0 to 86400');
    expect(parsePromoteArgs(['--env', 'prod', '--wait', '120'])).toEqual({
      env: 'prod',
      waitSeconds: 120,
      remote: 'origin',
      dryRun: false,
      revision: undefined,
    });
  });
});
