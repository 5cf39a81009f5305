// Where a person reads a file of this repository in a browser: from gitops.repoURL, when it names a
// host that serves files at /blob/<revision>/<path> (GitHub, GitLab, Gitea and Bitbucket Server's
// mirrors do); undefined for other URLs.
export function browsableFile(repoURL: string, revision: string, file: string): string | undefined {
  const https = /^https:\/\/([^\s]+?)(\.git)?$/.exec(repoURL)?.[1] ?? /^git@([^:\s]+):([^\s]+?)(\.git)?$/.exec(repoURL)?.slice(1, 3).join('/');
  return https ? `https://${https}/blob/${revision}/${file}` : undefined;
}
