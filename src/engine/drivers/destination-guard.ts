import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net, { type LookupFunction } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  addressFamily,
  bareAddress,
  listsAddress,
  listsName,
  normalizeHostName,
  parseDestinationList,
  type DestinationList,
} from '../../config/destinations.js';
import { DriverConfigError } from './types.js';

/** Link-local ranges and the addresses where clouds serve instance metadata (and instance credentials). */
const FORBIDDEN_ADDRESSES = new net.BlockList();
FORBIDDEN_ADDRESSES.addSubnet('169.254.0.0', 16, 'ipv4'); // link-local; AWS, GCP, Azure, OpenStack metadata
FORBIDDEN_ADDRESSES.addSubnet('fe80::', 10, 'ipv6');
FORBIDDEN_ADDRESSES.addAddress('fd00:ec2::254', 'ipv6'); // AWS metadata over IPv6
FORBIDDEN_ADDRESSES.addAddress('100.100.100.200', 'ipv4'); // Alibaba Cloud
FORBIDDEN_ADDRESSES.addAddress('192.0.0.192', 'ipv4'); // Oracle Cloud, older instances
FORBIDDEN_ADDRESSES.addSubnet('64:ff9b::a9fe:0', 112, 'ipv6'); // 169.254.0.0/16 reached through NAT64

/** Metadata service names, refused by name before they are resolved. */
const METADATA_NAMES: ReadonlySet<string> = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
  'metadata.tencentyun.com',
]);

const CONFIG_KEY = 'webhooks.allowDestinations of the engine config';

/** A delivery the operator's destination rules refuse; permanent: retrying cannot change the answer. */
export class DestinationRefusedError extends Error {
  readonly code = 'ERR_TASKOPS_DESTINATION_REFUSED';
  constructor(message: string) {
    super(message);
    this.name = 'DestinationRefusedError';
  }
}

/** Where webhooks may connect: decided on the name before resolving it, then on every address it resolves to. */
export interface DestinationPolicy {
  checkName(host: string): string | null;
  checkAddress(host: string, address: string): string | null;
}

/**
 * The rules of `webhooks.allowDestinations`. Unset: anywhere but link-local and metadata addresses (loopback
 * and private networks are fine: LAN receivers are common). Set: only what it lists. A link-local or metadata
 * address is reached only when its address or range is listed; a listed host name is not enough, or a
 * name whose DNS answer changes (rebinding) would reach it.
 */
export function destinationPolicy(allowDestinations?: readonly string[]): DestinationPolicy {
  let list: DestinationList | undefined;
  if (allowDestinations) {
    const parsed = parseDestinationList(allowDestinations);
    if (parsed.problems.length > 0) throw new DriverConfigError(parsed.problems.join('; '));
    list = parsed.list;
  }
  const notListed = `is not in ${CONFIG_KEY}; ask the operator to list it`;
  return {
    checkName(host) {
      const name = normalizeHostName(host);
      if (METADATA_NAMES.has(name) && !(list && listsName(list, name))) {
        return `${host} is a cloud metadata service; webhooks may not reach it unless ${CONFIG_KEY} lists it and its address`;
      }
      // Only addresses could still allow an unlisted name: without any, refuse before asking DNS.
      if (list && !list.hasAddresses && !listsName(list, name)) return `${host} ${notListed}`;
      return null;
    },
    checkAddress(host, address) {
      const bare = bareAddress(address);
      if (list && listsAddress(list, bare)) return null;
      const literal = bareAddress(host) === bare;
      const subject = literal ? bare : `${host} resolves to ${bare}, which`;
      if (FORBIDDEN_ADDRESSES.check(bare, addressFamily(bare))) {
        return `${subject} is a link-local or cloud metadata address; webhooks may not reach it unless ${CONFIG_KEY} lists that address or its range`;
      }
      if (list && (literal || !listsName(list, host))) return `${subject} ${notListed}`;
      return null;
    },
  };
}

/** Resolves a host and checks the name and each address; throws DestinationRefusedError, or the lookup's error. */
export async function resolveDestination(
  host: string,
  policy: DestinationPolicy,
  lookup: LookupFunction = dns.lookup,
): Promise<dns.LookupAddress[]> {
  const refuse = (reason: string | null) => {
    if (reason) throw new DestinationRefusedError(reason);
  };
  const literal = bareAddress(host);
  if (net.isIP(literal)) {
    refuse(policy.checkAddress(literal, literal));
    return [{ address: literal, family: net.isIP(literal) }];
  }
  refuse(policy.checkName(host));
  const addresses = await new Promise<dns.LookupAddress[]>((resolve, reject) => {
    lookup(host, { all: true }, (err, address, family) => {
      if (err) reject(err);
      else
        resolve(typeof address === 'string' ? [{ address, family: family ?? net.isIP(address) }] : address);
    });
  });
  // Every answer is checked: the connection may try any of them (happy eyeballs).
  for (const { address } of addresses) refuse(policy.checkAddress(host, address));
  return addresses;
}

/** A lookup that answers only with addresses already checked, so nothing is resolved twice (no rebinding window). */
function checkedLookup(addresses: dns.LookupAddress[]): LookupFunction {
  return (_host, options, callback) => {
    if (options.all) callback(null, addresses);
    else callback(null, addresses[0]!.address, addresses[0]!.family);
  };
}

export interface DestinationGuard {
  policy: DestinationPolicy;
  /** Resolves host names; dns.lookup unless a test injects one. */
  lookup?: LookupFunction;
}

type OnCreate = (err: Error | null, stream: Duplex) => void;

/** http.Agent ignores the stream argument when there is an error; there is no socket to give. */
const failWith = (callback: OnCreate, err: Error) => (callback as (err: Error) => void)(err);

/** Resolves and checks first, and only then opens the socket: a refused destination never sees a packet. */
function connectChecked(
  guard: DestinationGuard,
  options: http.ClientRequestArgs,
  callback: OnCreate | undefined,
  open: (options: http.ClientRequestArgs) => Duplex | null | undefined,
): undefined {
  // http.Agent always passes a callback; a socket given to it later is how an agent connects asynchronously.
  if (!callback) throw new TypeError('the webhook agents connect asynchronously and need a callback');
  resolveDestination(options.host ?? 'localhost', guard.policy, guard.lookup).then(
    (addresses) => {
      try {
        const socket = open({ ...options, lookup: checkedLookup(addresses) });
        if (socket) callback(null, socket);
        else failWith(callback, new Error('the agent opened no socket'));
      } catch (err) {
        failWith(callback, err as Error);
      }
    },
    (err: Error) => failWith(callback, err),
  );
  return undefined;
}

/** An http.Agent that connects only where the destination policy allows. */
export class GuardedHttpAgent extends http.Agent {
  constructor(
    options: http.AgentOptions,
    private readonly guard: DestinationGuard,
  ) {
    super(options);
  }

  override createConnection(options: http.ClientRequestArgs, callback?: OnCreate): undefined {
    return connectChecked(this.guard, options, callback, (o) => super.createConnection(o));
  }
}

/** An https.Agent that connects only where the destination policy allows; TLS still verifies the URL's name. */
export class GuardedHttpsAgent extends https.Agent {
  constructor(
    options: https.AgentOptions,
    private readonly guard: DestinationGuard,
  ) {
    super(options);
  }

  override createConnection(options: https.RequestOptions, callback?: OnCreate): undefined {
    return connectChecked(this.guard, options, callback, (o) => super.createConnection(o));
  }
}
