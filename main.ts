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
  throw err;
}
