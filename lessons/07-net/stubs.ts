// The learner's scaffold (container-lab init): what lesson 7 asks them to write.
export default {
  'lesson-07-net-ns': `  // TODO lesson 7: unless --network host, give the container its own network namespace:
  // ns.push('net') (CLONE_NEWNET: it starts with nothing but a loopback device, down).`,
  'lesson-07-lo-up': `  // TODO lesson 7: bring the new namespace's loopback up before exec:
  // if (ns.has('net')) child.push({ op: 'ifup', name: 'lo' });`,
};
