// The cluster scenarios share two API servers and build on each other (a dry run on fresh servers,
// then a real apply, then what reads it; destroy ends it): jest runs them in this order, one at a time.
// A scenario file not listed here stops the run, so a new one is placed deliberately.
const Sequencer = require('@jest/test-sequencer').default;
const path = require('node:path');

const ORDER = [
  'kubeconform', // no server needed
  'kube-score', // no server needed
  'workflows', // no server needed: actionlint on .github/workflows/
  'dry-run', // must see fresh servers: nothing of ours applied yet but the Namespaces
  'strictness', // a misspelt field refused by kubeconform and by the API server (its Namespace applied by dry-run)
  'object-limits',
  'apply-diff',
  'config-change',
  'day2',
  'destroy', // takes an environment down: last
];

class ClusterSequencer extends Sequencer {
  sort(tests) {
    const rank = (t) => {
      const i = ORDER.indexOf(path.basename(t.path, '.cluster.test.ts'));
      if (i < 0) throw new Error(`${path.basename(t.path)} is not in ORDER (test/cluster/sequencer.js): place the scenario there`);
      return i;
    };
    return [...tests].sort((a, b) => rank(a) - rank(b));
  }
}

module.exports = ClusterSequencer;
