// The cdk8s app: `npm run synth` and `npx cdk8s synth` run it, bundled by cli/synth.cjs. It only
// wires the synth pipeline (synth/) to the process; docs/architecture.md has the whole picture.
import { ConfigError } from './config/errors';
import { EnvoyBootstrapError } from './envoy/validate';
import { synthesizeProject } from './synth/pipeline';
import { synthSummary } from './synth/summary';
import { EmptyOutputError } from './synth/write-outputs';

try {
  console.log(synthSummary(synthesizeProject(process.cwd())));
} catch (err) {
  if (err instanceof ConfigError || err instanceof EnvoyBootstrapError || err instanceof EmptyOutputError) {
    console.error(`synth stopped, nothing was written: ${err.message}`);
    process.exit(1);
  }
  // Anything else is a bug, not the config: the staging folder is dropped, so nothing was written either.
  console.error('synth failed unexpectedly, nothing was written (please report this with the trace):', err);
  process.exit(2);
}
