import { Schema } from 'mongoose';
import { base, nullableString, requiredString } from './common-schemas.js';

// What the OneRoster import keeps of the school information system; the conventions of common-schemas.ts.

export interface OneRosterObjectDoc {
  /** `${orgId}:${kind}:${sourcedId}`: the natural key, so a put is one upsert. */
  _id: string;
  orgId: string;
  kind: 'org' | 'academicSession' | 'class' | 'user';
  sourcedId: string;
  entityId: string | null;
  /** entityId, or `_id` when there is none: unique without a partial index (FerretDB 1.x has none). */
  entityKey: string;
  data: Record<string, string>;
  updatedAt: Date;
}

export const oneRosterObjectSchema = new Schema<OneRosterObjectDoc>(
  {
    _id: requiredString,
    orgId: requiredString,
    kind: { type: String, required: true, enum: ['org', 'academicSession', 'class', 'user'] },
    sourcedId: requiredString,
    entityId: nullableString,
    entityKey: requiredString,
    data: { type: Schema.Types.Mixed, required: true },
    updatedAt: { type: Date, required: true },
  },
  { ...base, collection: 'onerosterObjects', minimize: false },
);
oneRosterObjectSchema.index({ orgId: 1, kind: 1, sourcedId: 1 }, { name: 'org_kind_sourced', unique: true });
// One sourcedId per local entity of a kind.
oneRosterObjectSchema.index({ orgId: 1, kind: 1, entityKey: 1 }, { name: 'oneroster', unique: true });
