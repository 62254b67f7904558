export { ByteBudget } from './byte-budget.js';
export { type Blob, ContentStore } from './content-store.js';
export { openFileList, writeFileList } from './file-list.js';
export { frameBlobs } from './frame-reader.js';
export { findLeftovers, type Leftovers } from './leftovers.js';
export { fileListKey, isSafeRelative, modeBits, modeString, utimesSeconds, validateAreas } from './meta.js';
export { mountStat, mountView } from './mount-view.js';
export { writePackIndex } from './pack-index.js';
export { DEFAULT_FRAME_BYTES, DEFAULT_PACK_BYTES, PackWriter } from './pack-writer.js';
export { filesPartOf } from './part.js';
export { loadPrevious, type PreviousArea, type PreviousSnapshot } from './previous.js';
export { type FileContent, type ReadHook, readStable, SPOOL_CHUNK } from './read-file.js';
export { Spool } from './spool.js';
export {
  type AreaSpec,
  type BrickKey,
  type ContentLocation,
  type DirectoryEntry,
  FILES_FORMAT,
  type FileEntry,
  type FileListHeader,
  type FileProblem,
  type FilesArea,
  type FilesPart,
  type FrameRef,
  type RegularFileEntry,
  type SymlinkEntry,
} from './types.js';
export { areaDir, brickEntry, type MountEntry, mountEntry, statFields, type WalkedEntry, WalkThreads, walkArea } from './walk.js';
