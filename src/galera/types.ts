/** Where a database snapshot stands in the cluster's history. */
export interface GaleraPositionInfo {
  /** null when the method cannot know it (logical dumps) */
  readonly galera: { readonly uuid: string; readonly seqno: number } | null;
  readonly gtid: string | null;
  readonly binlog: { readonly file: string; readonly position: number } | null;
}
