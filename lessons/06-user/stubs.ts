// The learner's scaffold (container-lab init): what lesson 6 asks them to write.
export default {
  'lesson-06-user-ns': `  // TODO lesson 6: when a uid or gid map is given (req.uidMap?.length || req.gidMap?.length),
  // give the container its own user namespace: ns.push('user') (CLONE_NEWUSER).`,
  'lesson-06-become-root': `  // TODO lesson 6: a process starts unmapped in a new user namespace; once the parent has written
  // the maps, become the namespace's root before mounting anything:
  // if (ns.has('user')) child.push({ op: 'setgid', gid: 0 }, { op: 'setuid', uid: 0 });`,
  'lesson-06-write-maps': `    // TODO lesson 6: while the child waits on the sync pipe, write its maps from outside:
    // if (config.namespaces.includes('user')) writeIdMaps(handle.pid, config.uidMap, config.gidMap);
    // (/proc/PID/uid_map and gid_map, "0 BASE 65536"; lib/engine/namespaces/idmap.ts has the helper)`,
};
