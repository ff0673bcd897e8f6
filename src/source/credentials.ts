import { redactCredentials } from '../text/redact.js';
import { SourceError } from './errors.js';

/** A repository URL taken apart so that its credential never reaches git's config, a path or a message. */
export interface Remote {
  /** What git is given and keeps in `.git/config`: no password, and for http(s) no user name either. */
  url: string;
  /** For messages and status: the URL as given, its userinfo shown as `***`. */
  display: string;
  /** The user and password taken out of an http(s) URL, handed to git per command. */
  credential?: { username: string; password: string };
}

/** `scheme://` + userinfo (up to the last `@` of the authority) + the rest. */
const WITH_USERINFO = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)@(.*)$/is;

/**
 * Splits the userinfo off a URL. http(s) user and password both go to the credential (a token often stands
 * in the user name alone); other schemes keep the user name (ssh needs it, and it is no secret) and cannot
 * carry a password at all. Local paths and scp-like `git@host:path` pass through unchanged.
 */
export function splitRemote(repo: string): Remote {
  const m = WITH_USERINFO.exec(repo);
  if (!m) return { url: repo, display: redactCredentials(repo) };
  const [, scheme = '', userinfo = '', rest = ''] = m;
  const display = `${scheme}://***@${rest}`;
  const colon = userinfo.indexOf(':');
  const user = colon < 0 ? userinfo : userinfo.slice(0, colon);
  const password = colon < 0 ? '' : userinfo.slice(colon + 1);
  if (/^https?$/i.test(scheme)) {
    const credential = { username: decode(user, display), password: decode(password, display) };
    return { url: `${scheme}://${rest}`, display, credential };
  }
  if (colon >= 0) {
    throw new SourceError(
      `--repo ${display}: a ${scheme}:// URL cannot carry a password; use an SSH key or agent, or an https:// URL with a token`,
      { repo: display },
    );
  }
  return { url: repo, display };
}

function decode(part: string, display: string): string {
  let value: string;
  try {
    value = decodeURIComponent(part);
  } catch {
    throw new SourceError(`--repo ${display}: the user name or password is not valid percent-encoding`, {
      repo: display,
    });
  }
  // git's credential protocol is one `key=value` per line.
  if (/[\0\r\n]/.test(value)) {
    throw new SourceError(`--repo ${display}: the user name or password contains a line break or NUL`, {
      repo: display,
    });
  }
  return value;
}

const USER_VAR = 'TASKOPS_GIT_USERNAME';
const PASSWORD_VAR = 'TASKOPS_GIT_PASSWORD';

/**
 * Prints the credential from the environment of the one git command that needs it, and only for `get`: a
 * `store` after a successful fetch must not write the token anywhere.
 */
const HELPER = `!f() { if [ "$1" = get ]; then printf 'username=%s\\npassword=%s\\n' "$${USER_VAR}" "$${PASSWORD_VAR}"; fi; }; f`;

/**
 * What one network git command needs to authenticate without the credential in its URL, its config or its
 * argv: `-c` switches and environment variables for that child only. The operator's own helpers are reset
 * for the command (a `credential.helper=store` of theirs would save the token), and ours answers only for
 * the repository's origin, so a redirect to another host never gets it.
 */
export function credentialOptions(remote: Remote): { args: string[]; env: Record<string, string> } {
  if (!remote.credential) return { args: [], env: {} };
  const origin = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(remote.url)?.[0] ?? remote.url;
  return {
    args: ['-c', 'credential.helper=', '-c', `credential.${origin}.helper=${HELPER}`],
    env: { [USER_VAR]: remote.credential.username, [PASSWORD_VAR]: remote.credential.password },
  };
}
