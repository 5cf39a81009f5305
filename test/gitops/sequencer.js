// The GitOps scenarios share one repository and two clusters, one at a time. Each cleans up after
// itself, so their order is free but for one: no-key-in-git runs last, to check every commit the
// others pushed. The rest run by name, so a run is repeatable (jest's default order follows past durations).
const Sequencer = require('@jest/test-sequencer').default;
const path = require('node:path');

const LAST = ['no-key-in-git'];

class GitopsSequencer extends Sequencer {
  sort(tests) {
    const key = (t) => {
      const name = path.basename(t.path, '.gitops.test.ts');
      return `${LAST.includes(name) ? 1 : 0} ${name}`;
    };
    return [...tests].sort((a, b) => key(a).localeCompare(key(b)));
  }
}

module.exports = GitopsSequencer;
