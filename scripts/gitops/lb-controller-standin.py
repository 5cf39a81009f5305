#!/usr/bin/env python3
"""Plays the part of the AWS Load Balancer Controller that a test cluster cannot have.

Verification tooling only (scripts/gitops/harness.sh starts it: gitops_lb_controller_standin).
No controller pod runs in the harness, yet the chart that Argo CD syncs registers the
controller's admission webhooks (the pod readiness-gate mutator on namespaces labelled
elbv2.k8s.aws/pod-readiness-gate-inject=enabled, failurePolicy Ignore; the Ingress validator,
failurePolicy Fail) on its webhook Service. The API server calls them on that Service's
ClusterIP. This process does what the controller pod would:

  * webhook: once the chart's webhook Service and TLS Secret exist, it adds the Service's
    ClusterIP to the loopback interface (only inside the harness's own network namespace,
    --add-address) and serves HTTPS there with the Secret's tls.crt/tls.key, the same Secret
    the controller mounts. So a call succeeds only if the webhook configurations' caBundle
    still matches the live Secret, as for the real controller. Every AdmissionReview is
    allowed unchanged and logged: with no TargetGroupBinding the real pod mutator adds no
    readiness gate, and the real validator accepts our Ingress (verify-cluster.sh and the
    chart tests check its annotations).
  * Ingress: for each Ingress of the class, it adds the controller's finalizer
    (ingress.k8s.aws/resources) and writes status.loadBalancer (an .invalid hostname), as the
    controller does once the ALB exists; when such an Ingress is being deleted it records
    which Deployments are still in its namespace (destroy must delete the Ingress first) and
    then removes the finalizer, as the controller does once the ALB is gone.

Every event is one JSON line in --events. It polls the API server every 0.25 s; it stops on
SIGTERM (harness_stop) and then removes the address it added.
"""
import argparse
import base64
import hashlib
import http.server
import json
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

FINALIZER = 'ingress.k8s.aws/resources'


class Api:
    def __init__(self, server, ca, cert, key):
        self.server = server.rstrip('/')
        self.ctx = ssl.create_default_context(cafile=ca)
        self.ctx.load_cert_chain(cert, key)

    def call(self, method, path, body=None, content_type='application/merge-patch+json'):
        data = json.dumps(body).encode() if body is not None else None
        headers = {'Accept': 'application/json'}
        if data is not None:
            headers['Content-Type'] = content_type
        request = urllib.request.Request(self.server + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, context=self.ctx, timeout=5) as response:
                return response.status, json.loads(response.read() or b'null')
        except urllib.error.HTTPError as err:
            return err.code, None
        except (urllib.error.URLError, OSError, TimeoutError):
            return 0, None


class Events:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()

    def __call__(self, event, **fields):
        line = json.dumps({'t': round(time.time(), 3), 'event': event, **fields}, sort_keys=True)
        with self.lock, open(self.path, 'a') as f:
            f.write(line + '\n')


def admission_handler(events):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'

        def do_POST(self):  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get('Content-Length', '0')))
            review = json.loads(body or b'{}')
            req = review.get('request') or {}
            obj = req.get('object') or req.get('oldObject') or {}
            meta = obj.get('metadata') or {}
            events('admission', path=self.path, kind=(req.get('kind') or {}).get('kind'), operation=req.get('operation'),
                   namespace=req.get('namespace'), name=req.get('name') or meta.get('name') or meta.get('generateName'),
                   dryRun=bool(req.get('dryRun')))
            answer = json.dumps({'apiVersion': review.get('apiVersion', 'admission.k8s.io/v1'), 'kind': 'AdmissionReview',
                                 'response': {'uid': req.get('uid', ''), 'allowed': True}}).encode()
            self.send_response(200)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    return Handler


class Webhook:
    """Serves the controller's webhook on the Service's ClusterIP with the chart's TLS Secret."""

    def __init__(self, args, api, events):
        self.args, self.api, self.events = args, api, events
        self.address = None  # (ip, port) being served
        self.secret_version = None  # resourceVersion of the Secret served
        self.added_ip = None
        self.server = None
        self.collision_logged = None

    def step(self):
        a = self.args
        status, svc = self.api.call('GET', f'/api/v1/namespaces/{a.namespace}/services/{a.service}')
        if status != 200:
            return
        ip, port = svc['spec'].get('clusterIP'), svc['spec']['ports'][0]['port']
        status, secret = self.api.call('GET', f'/api/v1/namespaces/{a.namespace}/secrets/{a.secret}')
        if status != 200 or not ip or ip == 'None':
            return
        version = secret['metadata']['resourceVersion']
        if self.address == (ip, port) and self.secret_version == version:
            return
        if self.address == (ip, port):
            # The controller's certwatcher reloads a changed Secret (the kubelet updates the mounted
            # file within about a minute); the stand-in reloads at once and says so.
            self.events('webhook-secret-changed', secret=a.secret)
        self.stop()  # a new Secret, or the Service re-created with another address
        if a.add_address:
            added = subprocess.run(['ip', 'addr', 'add', f'{ip}/32', 'dev', 'lo'], capture_output=True, text=True)
            if added.returncode != 0:
                if self.collision_logged != ip:
                    self.events('webhook-address-unavailable', address=ip, error=added.stderr.strip())
                    self.collision_logged = ip
                return
            self.added_ip = ip
        cert = os.path.join(a.workdir, 'tls.crt')
        key = os.path.join(a.workdir, 'tls.key')
        with open(cert, 'wb') as f:
            f.write(base64.b64decode(secret['data']['tls.crt']))
        with open(os.open(key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 'wb') as f:
            f.write(base64.b64decode(secret['data']['tls.key']))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        server = http.server.ThreadingHTTPServer((ip, port), admission_handler(self.events))
        server.daemon_threads = True
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.server, self.address, self.secret_version = server, (ip, port), version
        ca = base64.b64decode(secret['data'].get('ca.crt', ''))
        self.events('webhook-serving', address=f'{ip}:{port}', secret=a.secret,
                    caSha256=hashlib.sha256(ca).hexdigest()[:16])

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        if self.added_ip:
            subprocess.run(['ip', 'addr', 'del', f'{self.added_ip}/32', 'dev', 'lo'], capture_output=True)
            self.added_ip = None
        self.address = None


def ingress_step(args, api, events, seen):
    status, listed = api.call('GET', '/apis/networking.k8s.io/v1/ingresses')
    if status != 200:
        return
    for ing in listed.get('items') or []:
        if (ing.get('spec') or {}).get('ingressClassName') != args.ingress_class:
            continue
        meta = ing['metadata']
        ns, name = meta['namespace'], meta['name']
        path = f'/apis/networking.k8s.io/v1/namespaces/{ns}/ingresses/{name}'
        finalizers = meta.get('finalizers') or []
        if meta.get('deletionTimestamp'):
            if FINALIZER in finalizers:
                _, deployments = api.call('GET', f'/apis/apps/v1/namespaces/{ns}/deployments')
                present = sorted(d['metadata']['name'] for d in (deployments or {}).get('items') or [])
                patch = {'metadata': {'finalizers': [f for f in finalizers if f != FINALIZER],
                                      'resourceVersion': meta['resourceVersion']}}
                code, _ = api.call('PATCH', path, patch)
                if code == 200:
                    events('alb-deleted-finalizer-released', namespace=ns, name=name, deploymentsStillInNamespace=present)
            continue
        if FINALIZER not in finalizers:
            code, _ = api.call('PATCH', path, {'metadata': {'finalizers': finalizers + [FINALIZER],
                                                            'resourceVersion': meta['resourceVersion']}})
            if code == 200:
                events('finalizer-added', namespace=ns, name=name)
            continue
        lb = ((ing.get('status') or {}).get('loadBalancer') or {}).get('ingress') or []
        if not lb:
            hostname = f'{name}.{ns}.{args.cluster}.alb.invalid'
            code, _ = api.call('PATCH', path + '/status', {'status': {'loadBalancer': {'ingress': [{'hostname': hostname}]}}})
            if code == 200 and (ns, name) not in seen:
                seen.add((ns, name))
                events('alb-ready', namespace=ns, name=name, hostname=hostname)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--cluster', required=True, help='a name for the events and the hostname')
    p.add_argument('--server', required=True)
    p.add_argument('--ca', required=True)
    p.add_argument('--cert', required=True)
    p.add_argument('--key', required=True)
    p.add_argument('--namespace', default='kube-system')
    p.add_argument('--service', default='aws-load-balancer-webhook-service')
    p.add_argument('--secret', default='aws-load-balancer-tls')
    p.add_argument('--ingress-class', default='alb')
    p.add_argument('--workdir', required=True)
    p.add_argument('--events', required=True)
    p.add_argument('--add-address', action='store_true',
                   help="add the Service's ClusterIP to lo (only in the harness's own network namespace)")
    args = p.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    api = Api(args.server, args.ca, args.cert, args.key)
    events = Events(args.events)
    webhook = Webhook(args, api, events)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    events('started', cluster=args.cluster, addAddress=args.add_address)
    seen = set()
    while not stopping.is_set():
        try:
            webhook.step()
            ingress_step(args, api, events, seen)
        except Exception as err:  # keep playing the controller; say what went wrong
            events('error', error=repr(err))
        stopping.wait(0.25)
    webhook.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
