// A container's cgroup: made when it starts (fresh each time, so counters such as oom_kill speak
// of this run), joined by its first process and by every exec while the child waits, and removed
// with the container. It lives under the engine's parent cgroup, "mini-docker" unless
// --cgroup-parent (or MINI_DOCKER_CGROUP_PARENT) says otherwise.
import type { CgroupDriver, ContainerCgroup } from '../cgroups/driver.js';
import { detectCgroups } from '../cgroups/detect.js';
import type { ContainerConfig } from './config.js';

export const DEFAULT_CGROUP_PARENT = 'mini-docker';

export function cgroupParent(flag?: string): string {
  return flag || process.env.MINI_DOCKER_CGROUP_PARENT || DEFAULT_CGROUP_PARENT;
}

const drivers = new Map<string, CgroupDriver>();

export function driverFor(parent: string): CgroupDriver {
  let d = drivers.get(parent);
  if (!d) drivers.set(parent, (d = detectCgroups({ parent })));
  return d;
}

/** The container's cgroup with its limits, new for this run. */
export async function freshCgroup(config: ContainerConfig): Promise<ContainerCgroup> {
  const driver = driverFor(config.cgroupParent);
  const old = driver.open(config.id);
  if (old) await old.remove();
  return driver.create(config.id, config.limits);
}

export function openCgroup(config: ContainerConfig): ContainerCgroup | undefined {
  try {
    return driverFor(config.cgroupParent).open(config.id);
  } catch {
    return undefined; // no cgroup filesystem at all
  }
}

/** Remove the container's cgroup (killing what is left in it), and the parent once empty. */
export async function removeCgroup(config: ContainerConfig): Promise<void> {
  const cg = openCgroup(config);
  if (cg) await cg.remove();
  try {
    driverFor(config.cgroupParent).removeParent();
  } catch {
    // another container still has its cgroup there
  }
}
