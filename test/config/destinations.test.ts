import { describe, expect, it } from 'vitest';
import { listsAddress, listsName, parseDestinationList } from '../../src/config/destinations.js';

describe('webhooks.allowDestinations entries', () => {
  const { list, problems } = parseDestinationList([
    'Hooks.Slack.com.',
    '*.ops.example.com',
    '10.20.0.0/16',
    '192.168.1.5',
    '2001:db8::/32',
    '[::1]',
  ]);

  it('accepts host names, wildcards, addresses and ranges of both families', () => {
    expect(problems).toEqual([]);
  });

  it('matches names without regard to case or a trailing dot; a wildcard does not match its bare domain', () => {
    expect(listsName(list, 'hooks.slack.com')).toBe(true);
    expect(listsName(list, 'HOOKS.SLACK.COM.')).toBe(true);
    expect(listsName(list, 'evil-hooks.slack.com')).toBe(false);
    expect(listsName(list, 'a.b.ops.example.com')).toBe(true);
    expect(listsName(list, 'ops.example.com')).toBe(false);
    expect(listsName(list, 'evilops.example.com')).toBe(false);
  });

  it('matches addresses in listed ranges, IPv4-mapped IPv6 forms included', () => {
    expect(listsAddress(list, '10.20.255.1')).toBe(true);
    expect(listsAddress(list, '10.21.0.1')).toBe(false);
    expect(listsAddress(list, '::ffff:10.20.0.9')).toBe(true);
    expect(listsAddress(list, '2001:db8:1::5')).toBe(true);
    expect(listsAddress(list, '::1')).toBe(true);
    expect(listsAddress(list, '192.168.1.6')).toBe(false);
  });

  it('names each invalid entry by its index and says what an entry may be', () => {
    expect(
      parseDestinationList([
        'https://hooks.slack.com',
        'x.com:443',
        '10.0.0.0/33',
        '*.',
        'a..b',
        'ok.example',
      ]).problems,
    ).toEqual([
      expect.stringMatching(
        /^webhooks\.allowDestinations\[0\]: "https:\/\/hooks\.slack\.com" is not a host name/,
      ),
      expect.stringMatching(/^webhooks\.allowDestinations\[1\]: "x\.com:443" is not a host name/),
      'webhooks.allowDestinations[2]: "10.0.0.0/33": the prefix is at most /32 for an IPv4 range',
      expect.stringMatching(/^webhooks\.allowDestinations\[3\]: "\*\." is not a host name/),
      expect.stringMatching(/^webhooks\.allowDestinations\[4\]: "a\.\.b" is not a host name/),
    ]);
  });
});
