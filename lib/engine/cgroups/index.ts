// The cgroups concern of the engine: limits (docker's flags, validated), one driver interface,
// a v1 and a v2 driver, and detection of which one this host needs.
export * from './limits.js';
export type { CgroupDriver, CgroupStats, ContainerCgroup, IoDeviceStats } from './driver.js';
export { V1Driver, V1Cgroup, V1_CONTROLLERS, v1Mounts, blkioStats, type V1Options, type V1Mounts } from './v1.js';
export { V2Driver, V2Cgroup, V2_CONTROLLERS, ioStat, type V2Options } from './v2.js';
export { detectCgroups, detectCgroupVersion, cgroupInfo, kernelControllers, type DetectOptions, type CgroupInfo } from './detect.js';
export { kernelDirOps, type DirOps } from './cgfs.js';
