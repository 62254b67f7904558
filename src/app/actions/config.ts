import { formatConfig, redacted } from '../../../config/load.js';
import { type CommandContext, DEFAULT_CONFIG } from '../command-context.js';
import { EXIT } from '../exit-codes.js';

export function runConfigCheck(ctx: CommandContext): number {
  const resolved = ctx.config();
  ctx.print(
    redacted(resolved),
    () => `# ${ctx.options.config ?? ctx.io.env.LIFEBOAT_CONFIG ?? DEFAULT_CONFIG}: ok\n${formatConfig(resolved)}`,
  );
  return EXIT.ok;
}
