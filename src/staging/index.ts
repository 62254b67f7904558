/** Magento-aware transforms that turn a copy of Production into a safe Staging (issue #15). */
export {
  ADMIN_ANONYMIZE,
  type AnonymizeResult,
  type AnonymizeSpec,
  anonymize,
  DEFAULT_ANONYMIZE,
  type PiiKind,
} from './anonymize.js';
export {
  applyOverrides,
  applyTableOverrides,
  BASE_URL_PATHS,
  COOKIE_DOMAIN_PATHS,
  type ConfigOverride,
  DEFAULT_OVERRIDES,
  DEFAULT_TABLE_OVERRIDES,
  rewriteBaseUrls,
  type ScopedChange,
  type TableOverride,
} from './config.js';
export { baseTables, columnsOf, type MagentoDatabase, quoteName, tableRef } from './database.js';
export { type DefinerChange, definerClause, rewriteDefiners } from './definers.js';
export { unqualifyViews } from './dump-views.js';
export { DEFAULT_PRESERVE, type PreserveResult, type PreserveSpec, preserveFrom } from './preserve.js';
export { DEFAULT_STRIP, expandStrip, type StripResult, stripTables, TABLE_GROUPS, tablesToStrip } from './strip.js';
export { asideSchemas, finishSwitch, type SwitchResult, switchInto } from './switch.js';
export { identify, type Reach, refuseProductionEndpoint, refuseProductionServer, type ServerIdentity } from './target-check.js';
export { applyStagingTransforms, type StagingTransforms, type TransformReport } from './transform.js';
