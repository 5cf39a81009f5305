// The GitOps scenarios share one repository and two clusters, one at a time. Most clean up after
// themselves, so their order is free, but for the ends: first-sync brings the loop up and the next
// ones read what it did (the first sync's diff, status, waves, and the chart it synced); no-key-in-git
// checks every commit the others pushed; destroy takes the loop down. The rest run by name, so a run
// is repeatable (jest's default order follows past durations).
const Sequencer = require('@jest/test-sequencer').default;
const path = require('node:path');

const FIRST = ['first-sync', 'diff-status', 'sync-waves', 'lb-controller'];
const LAST = ['no-key-in-git', 'destroy'];

class GitopsSequencer extends Sequencer {
  sort(tests) {
    const key = (t) => {
      const name = path.basename(t.path, '.gitops.test.ts');
      if (FIRST.includes(name)) return `0 ${FIRST.indexOf(name)}`;
      if (LAST.includes(name)) return `2 ${LAST.indexOf(name)}`;
      return `1 ${name}`;
    };
    return [...tests].sort((a, b) => key(a).localeCompare(key(b)));
  }
}

module.exports = GitopsSequencer;
