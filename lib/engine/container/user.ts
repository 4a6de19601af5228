// -u USER[:GROUP] resolved against the container's own /etc/passwd and /etc/group, as docker
// does: names are looked up, numbers are taken as they are, supplementary groups come along.
import { EngineError } from '../errors.js';

export interface ResolvedUser {
  uid: number;
  gid: number;
  groups: number[];
  home: string;
}

interface PasswdEntry { name: string; uid: number; gid: number; home: string }
interface GroupEntry { name: string; gid: number; members: string[] }

export function parsePasswd(text: string): PasswdEntry[] {
  return text.split('\n').flatMap((line) => {
    const f = line.split(':');
    if (f.length < 7 || line.startsWith('#')) return [];
    return [{ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]! }];
  });
}

export function parseGroup(text: string): GroupEntry[] {
  return text.split('\n').flatMap((line) => {
    const f = line.split(':');
    if (f.length < 4 || line.startsWith('#')) return [];
    return [{ name: f[0]!, gid: Number(f[2]), members: f[3] ? f[3].split(',') : [] }];
  });
}

const isNum = (s: string) => /^\d+$/.test(s);

export function resolveUser(spec: string, passwdText: string | undefined, groupText: string | undefined): ResolvedUser {
  const [userPart, groupPart] = spec === '' ? ['0', undefined] : spec.split(':', 2) as [string, string | undefined];
  if (userPart === '' || (groupPart !== undefined && groupPart === '')) {
    throw new EngineError('bad_user', `invalid user "${spec}"`, { hint: 'use -u UID[:GID] or -u NAME[:GROUP]' });
  }
  const passwd = parsePasswd(passwdText ?? '');
  const group = parseGroup(groupText ?? '');
  const entry = isNum(userPart) ? passwd.find((p) => p.uid === Number(userPart)) : passwd.find((p) => p.name === userPart);
  if (!entry && !isNum(userPart)) {
    throw new EngineError('unknown_user', `unable to find user ${userPart}: no matching entries in passwd file`, {
      hint: 'use a numeric uid, or a user listed in the image\'s /etc/passwd',
    });
  }
  const uid = entry ? entry.uid : Number(userPart);
  let gid = entry ? entry.gid : 0;
  if (groupPart !== undefined) {
    const g = isNum(groupPart) ? undefined : group.find((x) => x.name === groupPart);
    if (!isNum(groupPart) && !g) {
      throw new EngineError('unknown_group', `unable to find group ${groupPart}: no matching entries in group file`);
    }
    gid = g ? g.gid : Number(groupPart);
  }
  if (uid > 2 ** 32 - 2 || gid > 2 ** 32 - 2) throw new EngineError('bad_user', `invalid user "${spec}": id out of range`);
  const groups = entry ? group.filter((g) => g.members.includes(entry.name) && g.gid !== gid).map((g) => g.gid) : [];
  return { uid, gid, groups, home: entry?.home || '/' };
}
