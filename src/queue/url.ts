/**
 * The queue address: `redis://[[USER]:PASSWORD@]HOST:PORT[/DB]` (also `rediss://` for TLS).
 * Parsing is strict: a bad scheme, host, port, database number, or anything unexpected
 * (query string, fragment, extra path) is a QueueUrlError naming the bad part.
 */
import { QueueUrlError } from './errors.js';

export interface QueueAddress {
  host: string;
  port: number;
  db: number;
  tls: boolean;
  username?: string;
  password?: string;
  /** The URL without the password (for messages and logs). */
  display: string;
}

export function parseQueueUrl(text: string): QueueAddress {
  const bad = (part: string) =>
    new QueueUrlError(`bad queue URL '${redact(text)}': ${part}; expected redis://HOST:PORT[/DB], e.g. redis://127.0.0.1:6379/0`);
  if (typeof text !== 'string' || text.trim() === '') throw bad('it is empty');
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/.exec(text.trim());
  if (!m) throw bad("it does not start with 'redis://'");
  const scheme = m[1]!.toLowerCase();
  if (scheme !== 'redis' && scheme !== 'rediss') throw bad(`the scheme '${m[1]}' is not 'redis' (or 'rediss' for TLS)`);
  let rest = m[2]!;
  if (rest.includes('?')) throw bad(`the query string '${rest.slice(rest.indexOf('?'))}' is not supported`);
  if (rest.includes('#')) throw bad(`the fragment '${rest.slice(rest.indexOf('#'))}' is not supported`);
  let username: string | undefined;
  let password: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const cred = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = cred.indexOf(':');
    try {
      if (colon < 0) password = decodeURIComponent(cred);
      else {
        username = decodeURIComponent(cred.slice(0, colon)) || undefined;
        password = decodeURIComponent(cred.slice(colon + 1));
      }
    } catch {
      throw bad('the credentials are not valid percent-encoding');
    }
  }
  const slash = rest.indexOf('/');
  const hostPort = slash >= 0 ? rest.slice(0, slash) : rest;
  const path = slash >= 0 ? rest.slice(slash + 1) : '';
  let host: string;
  let portText: string | undefined;
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close < 0) throw bad(`the IPv6 host '${hostPort}' has no closing ']'`);
    host = hostPort.slice(1, close);
    const after = hostPort.slice(close + 1);
    if (after && !after.startsWith(':')) throw bad(`unexpected '${after}' after the host`);
    portText = after ? after.slice(1) : undefined;
  } else {
    const colon = hostPort.lastIndexOf(':');
    host = colon >= 0 ? hostPort.slice(0, colon) : hostPort;
    portText = colon >= 0 ? hostPort.slice(colon + 1) : undefined;
  }
  if (host === '') throw bad('the host is missing');
  if (!/^[A-Za-z0-9.\-_:%]+$/.test(host)) throw bad(`the host '${host}' has characters a host name cannot have`);
  if (portText === undefined) throw bad(`the port is missing (write ${host}:6379 for Redis's default)`);
  if (!/^\d+$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535)
    throw bad(`the port '${portText}' is not a number from 1 to 65535`);
  const port = Number(portText);
  let db = 0;
  if (path !== '') {
    if (!/^\d+$/.test(path) || Number(path) > 1_000_000) throw bad(`the database '/${path}' is not a database number (/0, /1, ...)`);
    db = Number(path);
  }
  const auth = password !== undefined ? `${username ?? ''}:***@` : '';
  const hostShown = host.includes(':') ? `[${host}]` : host;
  return { host, port, db, tls: scheme === 'rediss', username, password, display: `${scheme}://${auth}${hostShown}:${port}/${db}` };
}

/** The URL with any password replaced by *** (for error messages). */
export function redact(text: string): string {
  return String(text).replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^/@]*?:)[^/@]*@/, '$1***@');
}
