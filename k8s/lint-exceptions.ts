// Linter exceptions, written on the object in each linter's own annotation, each with a one-line reason.
// kube-linter's annotation carries the reason itself; kube-score's takes only check names, so each
// reason sits beside it under kube-score-reason.envoy-edge/<check>.

export interface LintExceptions {
  /** kube-score check id → why it does not apply here. */
  readonly kubeScore?: Record<string, string>;
  /** kube-linter check name → why it does not apply here. */
  readonly kubeLinter?: Record<string, string>;
}

export function lintExceptionAnnotations(exceptions: LintExceptions): Record<string, string> {
  const annotations: Record<string, string> = {};
  const kubeScore = Object.entries(exceptions.kubeScore ?? {});
  if (kubeScore.length) {
    annotations['kube-score/ignore'] = kubeScore.map(([check]) => check).join(',');
    for (const [check, reason] of kubeScore) annotations[`kube-score-reason.envoy-edge/${check}`] = reason;
  }
  for (const [check, reason] of Object.entries(exceptions.kubeLinter ?? {})) {
    annotations[`ignore-check.kube-linter.io/${check}`] = reason;
  }
  return annotations;
}
