import type { ObjectRecord } from '../repo/manifest.js';

/** Format tag of file lists (first line of each list) and of the manifest's files part. */
export const FILES_FORMAT = 'lifeboat-files/1';

/**
 * One configured file area: a directory below the backup root and the globs that select what is
 * backed up. Globs are picomatch patterns relative to the area directory, dot files included; an
 * excluded directory is not descended into.
 */
export interface AreaSpec {
  /** unique name, e.g. `pub/media`; names the file list object */
  readonly name: string;
  /** directory relative to the backup root */
  readonly path: string;
  /** default `['**']` */
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
}

/** A byte range of a pack object holding one or more whole zstd frames. */
export interface FrameRef {
  /** first byte of the frame in the stored (compressed) pack object */
  readonly offset: number;
  /** compressed length in bytes */
  readonly length: number;
}

/** Where one content blob lives: the tar entry named by its sha256 inside a frame of a pack. */
export interface ContentLocation {
  /** key of the pack object, e.g. `packs/3f/3f9c….tar.zst` */
  readonly pack: string;
  readonly frame: FrameRef;
  /** offset of the entry's tar header within the decompressed frame */
  readonly entry: number;
}

interface EntryBase {
  /** `/`-separated, relative to the area directory, never empty, no `.` or `..` segments */
  readonly path: string;
  /** permission bits (including setuid, setgid, sticky) as 4 octal digits, e.g. `0644` */
  readonly mode: string;
  readonly uid: number;
  readonly gid: number;
  /** modification time, UTC, nanosecond precision: `2026-11-26T06:00:00.123456789Z` */
  readonly mtime: string;
  /**
   * Change detection only (restores ignore it): ctime and inode as the local Gluster brick named
   * in the list header showed them, when the snapshot read that brick instead of the mount.
   */
  readonly brick?: BrickKey;
}

/**
 * An entry's stat on a Gluster brick, which differs from the mount's (own inodes, server-side
 * times). The ctime moves with every change of content, metadata or Gluster's own xattrs.
 */
export interface BrickKey {
  readonly ctime: string;
  readonly inode: string;
}

export interface RegularFileEntry extends EntryBase {
  readonly type: 'file';
  readonly size: number;
  /** decimal inode number (a string: Gluster inode numbers exceed 2^53) */
  readonly inode: string;
  readonly sha256: string;
  /** where the content is (`pack`, `frame`, `entry`); absent for empty files, which have no content in any pack */
  readonly pack?: string;
  readonly frame?: FrameRef;
  readonly entry?: number;
  /** size or mtime changed while the file was read, on every try: content may be inconsistent */
  readonly changedDuringBackup?: true;
}

export interface DirectoryEntry extends EntryBase {
  readonly type: 'dir';
}

export interface SymlinkEntry extends EntryBase {
  readonly type: 'symlink';
  /** the link's target as stored, never followed */
  readonly target: string;
}

export type FileEntry = RegularFileEntry | DirectoryEntry | SymlinkEntry;

/** First line of a file list. */
export interface FileListHeader {
  readonly format: typeof FILES_FORMAT;
  readonly area: string;
  readonly path: string;
  readonly include: readonly string[];
  readonly exclude: readonly string[];
  readonly snapshot: string;
  /** number of entry lines that follow */
  readonly entries: number;
  /** the brick the entries' `brick` keys come from (`<volume id>:<host>:<path>`); absent when read through the mount */
  readonly brick?: string;
  /** the area directory's own metadata (as the mount shows it); absent in lists written before it was recorded */
  readonly root?: { readonly mode: string; readonly uid: number; readonly gid: number; readonly mtime: string };
}

/** A file that could not be backed up; it is missing from the snapshot. */
export interface FileProblem {
  readonly area: string;
  /** relative to the area directory; `''` for the area directory itself */
  readonly path: string;
  /** errno code when there is one (`EACCES`, `EIO`, …) */
  readonly code: string;
  readonly message: string;
}

/** Per-area summary in the manifest. */
export interface FilesArea {
  readonly name: string;
  readonly path: string;
  readonly include: readonly string[];
  readonly exclude: readonly string[];
  /** key of the area's file list object (also listed in the manifest's objects) */
  readonly list: string;
  readonly files: number;
  readonly dirs: number;
  readonly symlinks: number;
  /** total size of the regular files */
  readonly bytes: number;
  readonly changedDuringBackup: number;
  readonly vanished: number;
  readonly problems: number;
  /** where the files were read: the mount, or a local brick (`host:/path`) of a healthy replica volume */
  readonly source?: string;
}

/** The `files` part of a snapshot manifest. */
export interface FilesPart {
  readonly format: typeof FILES_FORMAT;
  readonly startedAt: string;
  readonly finishedAt: string;
  /** `partial` when any file or directory could not be read */
  readonly status: 'complete' | 'partial';
  readonly areas: readonly FilesArea[];
  /**
   * Every pack the lists reference, new or written by earlier snapshots: a pack may be deleted
   * only when no manifest lists it here.
   */
  readonly packs: readonly ObjectRecord[];
  /** the first problems (at most 100); `problemCount` has the total */
  readonly problems: readonly FileProblem[];
  readonly problemCount: number;
}

/** A pack and where each blob in it is (see pack-index.ts). */
export interface PackIndex {
  readonly pack: ObjectRecord;
  /** `[sha256, frame offset, frame length, entry offset]` per blob */
  readonly blobs: readonly (readonly [string, number, number, number])[];
}
