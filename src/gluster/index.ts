export {
  BRICK_INTERNAL,
  type BrickChoice,
  type BrickOptions,
  type BrickView,
  chooseBrick,
  mountedVolume,
  parseMountinfo,
  stillHealed,
} from './brick.js';
export {
  cliGlusterAdmin,
  cliGlusterd,
  defaultGlusterd,
  type GlusterAdmin,
  type GlusterCli,
  type Glusterd,
  glusterCli,
  memoizedGlusterd,
  rpcGlusterd,
} from './glusterd.js';
export { healCountsFromDict, healProblem, parseHealCount } from './heal.js';
export { parseVolumeInfo, type VolumeInfo, volumeInfoFromDict } from './volume.js';
export { getfattr, type MountTimes, mountTimesFromBrick, parseGetfattr, type XattrReader } from './xattrs.js';
