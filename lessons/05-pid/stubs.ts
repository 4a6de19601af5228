// The learner's scaffold (container-lab init): what lesson 5 asks them to write.
export default {
  'lesson-05-pid-ns': `  // TODO lesson 5: unless req.pid === 'host', give the container its own PID namespace:
  // ns.push('pid') (CLONE_NEWPID: the command becomes PID 1 of it).`,
};
