import { Schema } from 'mongoose';
import { base, requiredString } from './common-schemas.js';

// Students' guardian contacts; the conventions of common-schemas.ts.

export interface GuardianDoc {
  /** `orgId:studentId`: one document per student. */
  _id: string;
  orgId: string;
  studentId: string;
  contacts: Array<{ name: string; relation: string; email: string; language: string }>;
  /** `<category>:<email key>` of each unsubscribe; absent on documents written before guardians could unsubscribe. */
  unsubscribed?: string[];
  updatedAt: Date;
}

export const guardianSchema = new Schema<GuardianDoc>(
  {
    _id: requiredString,
    orgId: requiredString,
    studentId: requiredString,
    contacts: {
      type: [
        new Schema(
          { name: requiredString, relation: requiredString, email: requiredString, language: requiredString },
          { _id: false, id: false },
        ),
      ],
      default: [],
    },
    unsubscribed: { type: [String], default: undefined },
    updatedAt: { type: Date, required: true },
  },
  { ...base, collection: 'guardians' },
);
