// The learner's scaffold (container-lab init): what lesson 9 asks them to write. The cgroup is
// made and its limits written for them (lib/engine/cgroups); the container's process must join it.
export default {
  'lesson-09-join-cgroup': `    // TODO lesson 9: the child waits on the sync pipe: put it in its cgroup now, before any of its
    // code runs, so that its limits hold from its first instruction:
    // cgroup.addProcess(handle.pid);`,
  'lesson-09-v1-add': `  addProcess(pid: number): void {
    // TODO lesson 9: a process joins a v1 cgroup when its PID is written to cgroup.procs of the
    // container's directory in every hierarchy (this.unique lists them; cpu and cpuacct may be
    // one directory):  for (const dir of this.unique) writeRaw(dir, 'cgroup.procs', String(pid));
    // The kernel says ESRCH when the process is gone: throw an EngineError that says so.
    void pid;
  }`,
};
