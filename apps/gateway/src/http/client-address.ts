/**
 * The client's IP address for the audit record. X-Forwarded-For is written
 * by whoever sends the request, so it counts only as far as it was appended
 * by proxies the operator listed (GATEWAY_TRUSTED_PROXIES): walking it from
 * the right, the first address that is not a trusted proxy is the client.
 * With no proxy configured, or a peer that is not one, the TCP peer is the
 * client and the header is ignored.
 */
import { BlockList, isIP } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressBlock } from '../../../../libs/config/src/config';

/** More hops than any real proxy chain; past it the header is treated as garbage. */
const MAX_FORWARDED_HOPS = 32;

/** `::ffff:10.0.0.1` is 10.0.0.1: Node reports IPv4 peers of a dual-stack socket that way. */
function unmapped(address: string): string {
  return address.toLowerCase().startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

function family(address: string): 'ipv4' | 'ipv6' | null {
  const version = isIP(address);
  return version === 4 ? 'ipv4' : version === 6 ? 'ipv6' : null;
}

export class ClientAddressResolver {
  private readonly trusted = new BlockList();
  private readonly any: boolean;

  constructor(trustedProxies: readonly AddressBlock[]) {
    for (const block of trustedProxies) this.trusted.addSubnet(unmapped(block.network), block.prefix, block.family);
    this.any = trustedProxies.length > 0;
  }

  isTrustedProxy(address: string): boolean {
    const ip = unmapped(address);
    const kind = family(ip);
    return this.any && kind !== null && this.trusted.check(ip, kind);
  }

  /** The client's address: the peer, or what trusted proxies say they were sent from. */
  resolve(peer: string | null, headers: IncomingHttpHeaders): string | null {
    if (peer === null) return null;
    let client = unmapped(peer);
    if (!this.isTrustedProxy(client)) return client;
    const hops = forwardedFor(headers);
    if (hops === null) return client;
    for (let i = hops.length - 1; i >= 0; i -= 1) {
      const hop = unmapped(hops[i]);
      // A malformed entry ends the chain: what lies left of it was not
      // written by anyone we trust to be well behaved.
      if (family(hop) === null) return client;
      client = hop;
      if (!this.isTrustedProxy(hop)) return client;
    }
    return client;
  }
}

function forwardedFor(headers: IncomingHttpHeaders): string[] | null {
  const raw = headers['x-forwarded-for'];
  if (raw === undefined) return null;
  const hops = (Array.isArray(raw) ? raw.join(',') : raw)
    .split(',')
    .map((hop) => hop.trim())
    .filter((hop) => hop !== '');
  return hops.length === 0 || hops.length > MAX_FORWARDED_HOPS ? null : hops;
}
