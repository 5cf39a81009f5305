// What the AWS Load Balancer Controller reads from our Ingress to build the ALB: its annotations,
// decided here from the config (annotation names: the controller's "Ingress annotations" docs).
import type { EdgeConfig } from '../config/schema';

const A = 'alb.ingress.kubernetes.io';

export interface AlbInputs {
  readonly alb: Pick<EdgeConfig['alb'], 'scheme' | 'idleTimeoutSeconds' | 'deregistrationDelaySeconds' | 'certificateArn' | 'sslPolicy' | 'wafAclArn'>;
  /** Where the ALB health-checks each Envoy pod. */
  readonly healthCheck: { readonly port: number; readonly path: string };
}

export function albIngressAnnotations({ alb, healthCheck }: AlbInputs): Record<string, string> {
  const annotations: Record<string, string> = {
    [`${A}/scheme`]: alb.scheme,
    // ip targets: the ALB sends to pod IPs, so readiness gates and per-pod health checks work.
    [`${A}/target-type`]: 'ip',
    [`${A}/backend-protocol`]: 'HTTP',
    [`${A}/backend-protocol-version`]: 'HTTP1',
    [`${A}/healthcheck-protocol`]: 'HTTP',
    [`${A}/healthcheck-port`]: String(healthCheck.port),
    [`${A}/healthcheck-path`]: healthCheck.path,
    [`${A}/success-codes`]: '200',
    [`${A}/load-balancer-attributes`]: [
      // The ALB default of 60 s closes idle WebSockets.
      `idle_timeout.timeout_seconds=${alb.idleTimeoutSeconds}`,
      // Requests with header names that are not valid HTTP are dropped, not passed to Envoy (Security Hub ELB.4).
      'routing.http.drop_invalid_header_fields.enabled=true',
    ].join(','),
    [`${A}/target-group-attributes`]: `deregistration_delay.timeout_seconds=${alb.deregistrationDelaySeconds}`,
  };
  if (alb.certificateArn) {
    annotations[`${A}/certificate-arn`] = alb.certificateArn;
    annotations[`${A}/listen-ports`] = '[{"HTTP":80},{"HTTPS":443}]';
    annotations[`${A}/ssl-redirect`] = '443';
    annotations[`${A}/ssl-policy`] = alb.sslPolicy;
  } else {
    // Only with alb.allowPlainHttp (or an internal ALB): the config rules refuse it otherwise.
    annotations[`${A}/listen-ports`] = '[{"HTTP":80}]';
  }
  if (alb.wafAclArn) annotations[`${A}/wafv2-acl-arn`] = alb.wafAclArn;
  return annotations;
}
