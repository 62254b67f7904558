import { InvalidArgumentError } from 'commander';
import { snapshotRefProblem } from '../../repo/snapshot-id.js';

/** Commander parser for a snapshot id or `latest`: anything else is a usage error before any work. */
export function snapshotRef(value: string): string {
  const problem = snapshotRefProblem(value);
  if (problem) throw new InvalidArgumentError(problem);
  return value;
}
