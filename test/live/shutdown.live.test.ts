// What a leaving pod does to an open WebSocket, on the real Envoy: the Deployment's own preStop
// command runs (Envoy is untouched and keeps serving), then the kubelet's SIGTERM stops Envoy.
import { spawn } from 'node:child_process';
import { closed, echo, upgrade } from './harness/clients';
import { Edge } from './harness/edge';
import { synthesizedEdge } from './harness/envoy-fleet';
import { report, s, sleep } from './harness/report';

let edge: Edge | undefined;
afterEach(async () => {
  await edge?.stop();
  edge = undefined;
});

test('GIVEN an open WebSocket on a leaving pod THEN it keeps echoing through the whole preStop hook, and SIGTERM then closes it at once (code 1006)', async () => {
  // The shortest preStop the config allows: deregistration delay 0 plus the controller's propagation time.
  const synthesized = synthesizedEdge({ alb: { deregistrationDelaySeconds: 0 } });
  const deployment = synthesized.objects.find((o) => o.kind === 'Deployment')!;
  const container = deployment.spec.template.spec.containers[0];
  const preStop: string[] = container.lifecycle.preStop.exec.command;
  edge = await Edge.start(synthesized, { replicas: 1 });
  const [replica] = edge.replicas;
  const socket = (await upgrade(edge.target(0))).socket!;

  const hookStart = performance.now();
  const hook = spawn('setpriv', ['--pdeathsig', 'KILL', '--', ...preStop], { stdio: 'ignore' });
  const hookDone = new Promise<number | null>((resolve) => hook.on('exit', resolve));
  let hookRunning = true;
  void hookDone.then(() => (hookRunning = false));
  let echoes = 0;
  while (hookRunning) {
    expect(await echo(socket, `during preStop ${echoes}`)).toBe(`during preStop ${echoes}`);
    echoes++;
    await Promise.race([sleep(1000), hookDone]);
  }
  expect(await hookDone).toBe(0);
  const hookMs = performance.now() - hookStart;

  const termAt = performance.now();
  const closing = closed(socket, termAt);
  await replica.stop('SIGTERM');
  const { code, ms } = await closing;
  report(
    `preStop \`${preStop.join(' ')}\` ran ${s(hookMs)}: ${echoes} echoes, all answered; SIGTERM then closed the socket after ${ms.toFixed(0)} ms with code ${code}; Envoy exited ${replica.exitCode}`,
  );
  expect(code).toBe(1006);
  expect(ms).toBeLessThan(1000);
  expect(echoes).toBeGreaterThanOrEqual(Math.floor(hookMs / 1000));
});
