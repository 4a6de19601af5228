// Image references as docker reads them: the grammar of github.com/distribution/reference
// (regexp.go) and docker's normalisation of short names (normalize.go).
import { EngineError } from '../errors.js';

export const DEFAULT_DOMAIN = 'docker.io';
export const DEFAULT_TAG = 'latest';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
const NAME_TOTAL_LENGTH_MAX = 255;

export interface ImageRef {
  /** Registry host[:port]: 'docker.io', 'localhost:5000'. */
  domain: string;
  /** Repository path in the registry: 'library/busybox', 'a/b'. */
  path: string;
  /** 'latest' when neither a tag nor a digest was given; undefined for a digest-only reference. */
  tag?: string;
  digest?: string;
  /** Full repository name: 'docker.io/library/busybox'. */
  repository: string;
  /** Docker's short repository name: 'busybox', 'localhost:5000/a/b'. */
  name: string;
  /** Docker's short form with tag and digest: 'busybox:latest'. */
  familiar: string;
  /** The full form: 'docker.io/library/busybox:latest'. */
  canonical: string;
}

// distribution/reference regexp.go, one to one.
const alphanumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const domainNameComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const optionalPort = '(?::[0-9]+)?';
const tagPat = '[\\w][\\w.-]{0,127}';
const digestPat = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const ipv6address = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainName = `${domainNameComponent}(?:\\.${domainNameComponent})*`;
const host = `(?:${domainName}|${ipv6address})`;
const domainAndPort = `${host}${optionalPort}`;
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const remoteName = `${pathComponent}(?:/${pathComponent})*`;
const namePat = `(?:${domainAndPort}/)?${remoteName}`;

const REFERENCE = new RegExp(`^(${namePat})(?::(${tagPat}))?(?:@(${digestPat}))?$`);
const ANCHORED_NAME = new RegExp(`^(?:(${domainAndPort})/)?(${remoteName})$`);
const ANCHORED_TAG = new RegExp(`^${tagPat}$`);
const IDENTIFIER = /^[a-f0-9]{64}$/;
const ID_PREFIX = /^(?:sha256:)?[a-f0-9]{1,64}$/;
const DIGEST_LENGTHS: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

const HINT = 'an image reference looks like NAME[:TAG] or NAME@sha256:DIGEST, in lowercase, e.g. busybox:latest or localhost:5000/team/app:1.0';

function invalid(message: string): EngineError {
  return new EngineError('invalid_reference', message, { exitCode: 125, hint: HINT });
}

/** Parse an image reference the way `docker pull NAME` does (ParseNormalizedNamed). */
export function parseReference(s: string): ImageRef {
  if (IDENTIFIER.test(s)) {
    throw invalid(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  }
  const [domainGuess, remainder] = splitDockerDomain(s);
  const tagSep = remainder.indexOf(':');
  const remote = tagSep === -1 ? remainder : remainder.slice(0, tagSep);
  if (remote.toLowerCase() !== remote) {
    throw invalid(`invalid reference format: repository name (${remote}) must be lowercase`);
  }
  const full = `${domainGuess}/${remainder}`;
  const m = REFERENCE.exec(full);
  if (!m) {
    if (REFERENCE.test(full.toLowerCase())) throw invalid('invalid reference format: repository name must be lowercase');
    throw invalid('invalid reference format');
  }
  const [, name, tag, digest] = m;
  if (name!.length > NAME_TOTAL_LENGTH_MAX) {
    throw invalid(`invalid reference format: repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }
  if (digest !== undefined) validateDigest(digest);
  const nm = ANCHORED_NAME.exec(name!)!;
  const domain = nm[1]!;
  const path = nm[2]!;
  const effectiveTag = tag ?? (digest === undefined ? DEFAULT_TAG : undefined);
  const short = familiarName(domain, path);
  const suffix = (effectiveTag !== undefined ? `:${effectiveTag}` : '') + (digest !== undefined ? `@${digest}` : '');
  return {
    domain,
    path,
    tag: effectiveTag,
    digest,
    repository: `${domain}/${path}`,
    name: short,
    familiar: short + suffix,
    canonical: `${domain}/${path}${suffix}`,
  };
}

/** True for what can only be meant as an image ID (or a prefix of one): hex, maybe 'sha256:'. */
export function isImageIdPrefix(s: string): boolean {
  return ID_PREFIX.test(s);
}

/** A reference that can name an image: NAME[:TAG], never a digest (docker tag's rule). */
export function parseTagName(s: string): ImageRef {
  const ref = parseReference(s);
  if (ref.digest !== undefined) {
    throw new EngineError('invalid_reference', 'refusing to create a tag with a digest reference', { exitCode: 125, hint: 'a tag looks like NAME[:TAG], e.g. busybox:mine' });
  }
  return ref;
}

export function isValidTag(s: string): boolean {
  return ANCHORED_TAG.test(s);
}

/**
 * Split off the registry: the first component is a registry only if it looks like a host
 * (has a '.' or a ':', is 'localhost', or has capitals, which repository names never do).
 */
function splitDockerDomain(name: string): [string, string] {
  const slash = name.indexOf('/');
  if (slash === -1) return [DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX + name];
  const maybeDomain = name.slice(0, slash);
  const maybeRemote = name.slice(slash + 1);
  let domain: string;
  let remote: string;
  if (maybeDomain === 'localhost' || /[.:]/.test(maybeDomain) || maybeDomain.toLowerCase() !== maybeDomain) {
    [domain, remote] = [maybeDomain, maybeRemote];
  } else {
    [domain, remote] = [DEFAULT_DOMAIN, name];
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remote.includes('/')) remote = OFFICIAL_REPO_PREFIX + remote;
  return [domain, remote];
}

/** Docker Hub's official images drop 'docker.io/library/'; other Hub images drop 'docker.io/'. */
function familiarName(domain: string, path: string): string {
  if (domain !== DEFAULT_DOMAIN) return `${domain}/${path}`;
  if (path.startsWith(OFFICIAL_REPO_PREFIX)) {
    const rest = path.slice(OFFICIAL_REPO_PREFIX.length);
    if (!rest.includes('/')) return rest;
  }
  return path;
}

/** go-digest's Digest.Validate, for the algorithms it knows. */
function validateDigest(digest: string): void {
  const colon = digest.indexOf(':');
  const algorithm = digest.slice(0, colon);
  const encoded = digest.slice(colon + 1);
  const length = DIGEST_LENGTHS[algorithm];
  if (length === undefined) throw invalid('unsupported digest algorithm');
  if (encoded.length !== length) throw invalid('invalid checksum digest length');
  if (!/^[a-f0-9]+$/.test(encoded)) throw invalid('invalid checksum digest format');
}
