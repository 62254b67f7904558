export { ByteBudget } from './byte-budget.js';
export { entryLine, type FileListReader, openFileList, parseEntry, writeFileList } from './file-list.js';
export { type FrameBlob, frameBlobs } from './frame-reader.js';
export { findLeftovers, type Leftovers } from './leftovers.js';
export {
  areaSlug,
  fileListKey,
  isSafeRelative,
  modeBits,
  modeString,
  utimesSeconds,
  validateAreas,
} from './meta.js';
export { mountStat, mountView } from './mount-view.js';
export {
  checkPack,
  indexLocations,
  isPackIndexKey,
  packIndexKey,
  readPackIndex,
  writePackIndex,
} from './pack-index.js';
export {
  compressChunks,
  DEFAULT_FRAME_BYTES,
  DEFAULT_PACK_BYTES,
  END_OF_ARCHIVE_FRAME,
  type LocationSink,
  PackWriter,
  type PackWriterOptions,
  type PackWriterStats,
  packKey,
} from './pack-writer.js';
export { filesPartOf } from './part.js';
export { loadPrevious, noPrevious, type PreviousArea, type PreviousSnapshot } from './previous.js';
export {
  type FileContent,
  type ReadHook,
  type ReadOutcome,
  readStable,
  SPOOL_CHUNK,
  type StableReadOptions,
} from './read-file.js';
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
  type PackIndex,
  type RegularFileEntry,
  type SymlinkEntry,
} from './types.js';
export {
  areaDir,
  type BrickEntry,
  brickEntry,
  type MountEntry,
  mountEntry,
  statFields,
  type WalkedEntry,
  type WalkOptions,
  type WalkResult,
  WalkThreads,
  walkArea,
} from './walk.js';
