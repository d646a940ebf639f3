import type { CollectionEntity, CollectionName } from '../../domain/ports/transfer.js';
import { accountTokens, refreshTokens } from './account-mappers.js';
import { audit } from './audit-mappers.js';
import type { TableSpec } from './common-mappers.js';
import { faceProposals, faces } from './face-mappers.js';
import { organisations, users } from './organisation-mappers.js';
import { consents } from './privacy-mappers.js';
import { records, summaries } from './record-mappers.js';
import { sessions } from './session-mappers.js';
import { enrolments, subjects } from './subject-mappers.js';

/** The first collections' tables; transfer-tables.ts adds the later ones. */
export const CORE_TABLES = {
  organisations,
  users,
  subjects,
  enrolments,
  sessions,
  records,
  summaries,
  audit,
  refreshTokens,
  accountTokens,
  faces,
  faceProposals,
  consents,
} satisfies { [C in CollectionName]?: TableSpec<CollectionEntity[C]> };
