import net from 'node:net';

/** `webhooks.allowDestinations` of the engine config, parsed: host name patterns and address ranges. */
export interface DestinationList {
  /** Exact names (`hooks.slack.com`) and suffixes (`.example.com`, from `*.example.com`), lower case. */
  names: { exact: ReadonlySet<string>; suffixes: readonly string[] };
  /** The listed IP addresses and CIDR ranges. */
  addresses: net.BlockList;
  hasAddresses: boolean;
}

const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;
const CIDR = /^([^/]+)\/(\d{1,3})$/;
const EXAMPLES = 'like hooks.slack.com, *.example.com, 10.20.0.0 or 10.20.0.0/16';

/** A host name as it is compared: lower case, without the trailing dot of a fully qualified name. */
export const normalizeHostName = (host: string): string => host.toLowerCase().replace(/\.$/, '');

/** An address without the brackets of a URL or the zone of a link-local IPv6 address (`fe80::1%eth0`). */
export const bareAddress = (host: string): string => host.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');

export const addressFamily = (address: string): 'ipv4' | 'ipv6' => (net.isIPv4(address) ? 'ipv4' : 'ipv6');

function isHostName(name: string): boolean {
  return name.length <= 253 && name.split('.').every((label) => LABEL.test(label));
}

interface Building extends DestinationList {
  names: { exact: Set<string>; suffixes: string[] };
}

/** Adds one entry to the list; returns what is wrong with it instead when it is invalid. */
function addEntry(list: Building, entry: string): string | null {
  const text = entry.trim();
  const address = bareAddress(text);
  if (net.isIP(address)) {
    list.addresses.addAddress(address, addressFamily(address));
    list.hasAddresses = true;
    return null;
  }
  const cidr = CIDR.exec(text);
  if (cidr && net.isIP(cidr[1]!)) {
    const family = addressFamily(cidr[1]!);
    const prefix = Number(cidr[2]);
    if (prefix > (family === 'ipv4' ? 32 : 128))
      return `${JSON.stringify(entry)}: the prefix is at most /${family === 'ipv4' ? 32 : 128} for an ${family === 'ipv4' ? 'IPv4' : 'IPv6'} range`;
    list.addresses.addSubnet(cidr[1]!, prefix, family);
    list.hasAddresses = true;
    return null;
  }
  const name = normalizeHostName(text);
  const wildcard = name.startsWith('*.');
  const base = wildcard ? name.slice(2) : name;
  if (!isHostName(base)) {
    return `${JSON.stringify(entry)} is not a host name, *.domain, IP address or CIDR range (${EXAMPLES}); no scheme, port or path`;
  }
  if (wildcard) list.names.suffixes.push(`.${base}`);
  else list.names.exact.add(base);
  return null;
}

/** Parses the configured entries; `problems` names each invalid one by its index. */
export function parseDestinationList(entries: readonly string[]): {
  list: DestinationList;
  problems: string[];
} {
  const list: Building = {
    names: { exact: new Set(), suffixes: [] },
    addresses: new net.BlockList(),
    hasAddresses: false,
  };
  const problems: string[] = [];
  entries.forEach((entry, i) => {
    const problem = addEntry(list, entry);
    if (problem) problems.push(`webhooks.allowDestinations[${i}]: ${problem}`);
  });
  return { list, problems };
}

/** True when the host name is listed, exactly or below a `*.` wildcard (which does not match the bare domain). */
export function listsName(list: DestinationList, host: string): boolean {
  const name = normalizeHostName(host);
  return list.names.exact.has(name) || list.names.suffixes.some((suffix) => name.endsWith(suffix));
}

export function listsAddress(list: DestinationList, address: string): boolean {
  const bare = bareAddress(address);
  return net.isIP(bare) !== 0 && list.addresses.check(bare, addressFamily(bare));
}
