import { XMLParser } from 'fast-xml-parser';
import type { GlusterDict } from './rpc.js';

export interface VolumeInfo {
  readonly id: string;
  readonly type: string;
  readonly bricks: readonly { readonly name: string; readonly hostUuid: string; readonly arbiter: boolean }[];
  readonly options: ReadonlyMap<string, string>;
}

/** `gluster volume info <v> --xml` of one volume. */
export function parseVolumeInfo(xml: string): VolumeInfo {
  const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  const doc = new XMLParser({ ignoreAttributes: true, parseTagValue: false }).parse(xml) as {
    cliOutput?: { opRet?: string; opErrstr?: string; volInfo?: { volumes?: { volume?: unknown } } };
  };
  const out = doc.cliOutput;
  if (out?.opRet !== '0') throw new Error(`volume info failed: ${out?.opErrstr || 'no cliOutput'}`);
  const volume = list(out.volInfo?.volumes?.volume)[0] as
    | { id?: string; typeStr?: string; bricks?: { brick?: unknown }; options?: { option?: unknown } }
    | undefined;
  if (!volume?.id || !volume.typeStr) throw new Error('volume info lists no volume');
  const bricks = list(volume.bricks?.brick).map((b) => {
    const brick = b as { name?: string; hostUuid?: string; isArbiter?: string };
    if (!brick.name || !brick.hostUuid) throw new Error('volume info lists a brick without name or host');
    return { name: brick.name, hostUuid: brick.hostUuid, arbiter: brick.isArbiter === '1' };
  });
  const options = new Map<string, string>();
  for (const o of list(volume.options?.option)) {
    const option = o as { name?: string; value?: string };
    if (option.name) options.set(option.name, String(option.value ?? ''));
  }
  return { id: volume.id, type: volume.typeStr, bricks, options };
}

/** The first volume of a `volume info` reply dict, as parseVolumeInfo reads the CLI's XML. */
export function volumeInfoFromDict(dict: GlusterDict): VolumeInfo {
  const get = (key: string): string | undefined => dict.get(`volume0.${key}`);
  const id = get('volume_id');
  const type = Number(get('type'));
  const brickCount = Number(get('brick_count'));
  if (!id || !Number.isInteger(type) || !Number.isInteger(brickCount)) throw new Error('volume info lists no volume');
  const bricks = Array.from({ length: brickCount }, (_, i) => {
    const name = get(`brick${i + 1}`);
    const hostUuid = get(`brick${i + 1}.uuid`);
    if (!name || !hostUuid) throw new Error('volume info lists a brick without name or host');
    return { name, hostUuid, arbiter: dict.has(`volume0.brick${i + 1}.isArbiter`) };
  });
  const options = new Map<string, string>();
  for (const [key, value] of dict) if (key.startsWith('volume0.option.')) options.set(key.slice('volume0.option.'.length), value);
  return { id, type: volumeType(type, brickCount, Number(get('dist_count'))), bricks, options };
}

/**
 * The CLI's name of a volume type (GF_CLUSTER_TYPE_*); `dist_count` is the bricks per distribute
 * leg. A layout that cannot be told gets a name of its own, never `Replicate`.
 */
function volumeType(type: number, bricks: number, perLeg: number): string {
  if (!Number.isInteger(perLeg) || perLeg <= 0 || perLeg > bricks) return `type ${type}, layout unknown`;
  const distributed = bricks > perLeg ? 'Distributed-' : '';
  if (type === 0) return 'Distribute';
  if (type === 2) return `${distributed}Replicate`;
  if (type === 4) return `${distributed}Disperse`;
  return `type ${type}`;
}
