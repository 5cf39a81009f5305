// A stand-in for the cluster DNS: answers A queries for the Services' names with the addresses of
// the local "pods", so Envoy's STRICT_DNS discovery runs its real code path against loopback.
// The answers can change while Envoy runs (a pod joins, a pod leaves).
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import * as dnsPacket from 'dns-packet';

export class DnsStandin {
  private readonly records = new Map<string, string[]>();
  private readonly socket: Socket = createSocket('udp4');
  /** How many A queries each name received: a refresh of Envoy's DNS cluster shows up here. */
  readonly queries = new Map<string, number>();
  private readonly waiters: { name: string; count: number; resolve: () => void }[] = [];

  private constructor() {}

  static async start(address = '127.0.0.1'): Promise<DnsStandin> {
    const dns = new DnsStandin();
    dns.socket.on('message', (msg, rinfo) => dns.answer(msg, rinfo));
    await new Promise<void>((resolve) => dns.socket.bind(0, address, resolve));
    return dns;
  }

  get address(): { address: string; port: number } {
    const { address, port } = this.socket.address() as AddressInfo;
    return { address, port };
  }

  /** Sets the addresses a name resolves to; an empty list answers NXDOMAIN-free "no records". */
  set(name: string, addresses: readonly string[]): void {
    this.records.set(name.toLowerCase(), [...addresses]);
  }

  /** Resolves once `name` has been queried `count` more times from now. */
  nextQueries(name: string, count = 1): Promise<void> {
    const target = (this.queries.get(name.toLowerCase()) ?? 0) + count;
    return new Promise((resolve) => this.waiters.push({ name: name.toLowerCase(), count: target, resolve }));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  private answer(msg: Buffer, rinfo: RemoteInfo): void {
    let query: dnsPacket.Packet;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return;
    }
    const question = query.questions?.[0];
    if (!question) return;
    const name = question.name.toLowerCase();
    const addresses = this.records.get(name);
    const answers: dnsPacket.Answer[] =
      question.type === 'A' && addresses ? addresses.map((data) => ({ type: 'A', class: 'IN', name: question.name, ttl: 1, data })) : [];
    const response = dnsPacket.encode({
      type: 'response',
      id: query.id,
      // Authoritative, recursion available; NXDOMAIN (rcode 3) for names we do not serve.
      flags: dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_AVAILABLE | (addresses ? 0 : 3),
      questions: [question],
      answers,
    });
    this.socket.send(response, rinfo.port, rinfo.address);
    if (question.type === 'A') {
      this.queries.set(name, (this.queries.get(name) ?? 0) + 1);
      for (const w of [...this.waiters]) {
        if (w.name === name && (this.queries.get(name) ?? 0) >= w.count) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    }
  }
}
