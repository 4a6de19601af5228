// The learner's scaffold (container-lab init): what lesson 4 asks them to write.
export default {
  'lesson-04-uts-ipc-ns': `  // TODO lesson 4: unless the request shares the host's (req.uts / req.ipc === 'host'), give the
  // container its own UTS and IPC namespaces: ns.push('uts') and ns.push('ipc')
  // (cloneFlagsFor turns them into CLONE_NEWUTS and CLONE_NEWIPC).`,
  'lesson-04-sethostname': `  // TODO lesson 4: in its own UTS namespace, the child names itself before exec:
  // if (ns.has('uts')) child.push({ op: 'sethostname', name: config.hostname });`,
};
