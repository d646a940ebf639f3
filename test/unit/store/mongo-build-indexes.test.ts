import { expect } from 'chai';
import { Schema } from 'mongoose';
import { excuseSchema } from '../../../src/store/mongo/excuse-schemas.js';
import { buildIndexes, type Models } from '../../../src/store/mongo/models.js';

// buildIndexes on a server that answers NotImplemented to some index options (FerretDB 1.x: TTL
// and partial indexes), offline: a fake collection records what it was asked to build.

type Built = { keys: Record<string, unknown>; options: Record<string, unknown> };

function modelsOn(schema: Schema, refuses: readonly string[]): { models: Models; built: Built[] } {
  const built: Built[] = [];
  const collection = {
    collectionName: 'things',
    createIndex: (keys: Record<string, unknown>, options: Record<string, unknown>) => {
      if (refuses.some((o) => options[o] !== undefined)) {
        return Promise.reject(Object.assign(new Error('Index option is not implemented yet'), { code: 238 }));
      }
      built.push({ keys, options: { ...options } });
      return Promise.resolve(String(options['name']));
    },
  };
  return { models: { things: { schema, collection } } as unknown as Models, built };
}

function aSchema(): Schema {
  const schema = new Schema({ a: String, b: Date, state: String }, { autoIndex: false });
  schema.index({ a: 1 }, { name: 'plain', unique: true });
  schema.index({ state: 1, b: 1 }, { name: 'partial', partialFilterExpression: { state: 'queued' } });
  schema.index({ b: 1 }, { name: 'ttl', expireAfterSeconds: 60 });
  return schema;
}

describe('mongo buildIndexes', () => {
  it('builds every index as declared on a server that takes every option', async () => {
    const { models, built } = modelsOn(aSchema(), []);
    expect(await buildIndexes(models)).to.deep.equal([]);
    expect(built.map((b) => [b.options['name'], b.options['partialFilterExpression'], b.options['expireAfterSeconds']])).to.deep.equal([
      ['plain', undefined, undefined],
      ['partial', { state: 'queued' }, undefined],
      ['ttl', undefined, 60],
    ]);
  });

  it('builds a partial or TTL index without that option where the server answers NotImplemented, and names it', async () => {
    const { models, built } = modelsOn(aSchema(), ['partialFilterExpression', 'expireAfterSeconds']);
    expect(await buildIndexes(models)).to.deep.equal(['things.partial', 'things.ttl']);
    expect(
      built.map((b) => [b.options['name'], b.keys, b.options['partialFilterExpression'], b.options['expireAfterSeconds']]),
    ).to.deep.equal([
      ['plain', { a: 1 }, undefined, undefined],
      ['partial', { state: 1, b: 1 }, undefined, undefined],
      ['ttl', { b: 1 }, undefined, undefined],
    ]);
    expect(built[0]!.options['unique']).to.equal(true);
  });

  it('does not hide a NotImplemented answer to an index that declares neither option', async () => {
    const { models } = modelsOn(aSchema(), ['unique']);
    const err = await buildIndexes(models).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).to.have.property('code', 238);
  });

  it("builds the excuses' unique pending index over excuses written before their key existed, as MongoDB indexes a missing field (null)", async () => {
    // Migrations before 24 build every declared index while older excuses have no pendingKey yet
    // (and a replica of the previous release goes on writing them during a rolling deploy).
    // MongoDB puts a missing field in a unique index as null: two such excuses of one
    // organisation would refuse the index, and the node would not start.
    const docs: Record<string, unknown>[] = [
      { orgId: 'o1', status: 'pending' },
      { orgId: 'o1', status: 'approved' },
    ];
    const collection = {
      collectionName: 'excuses',
      createIndex: (keys: Record<string, unknown>, options: Record<string, unknown>) => {
        const filter = options['partialFilterExpression'] as Record<string, { $exists?: boolean }> | undefined;
        const indexed = docs.filter((d) => Object.entries(filter ?? {}).every(([f, c]) => c.$exists === undefined || f in d === c.$exists));
        const seen = new Set<string>();
        for (const d of indexed) {
          const key = JSON.stringify(Object.keys(keys).map((k) => d[k] ?? null));
          if (options['unique'] === true && seen.has(key)) {
            return Promise.reject(
              Object.assign(new Error(`E11000 duplicate key error index: ${String(options['name'])}`), { code: 11000 }),
            );
          }
          seen.add(key);
        }
        return Promise.resolve(String(options['name']));
      },
    };
    const models = { excuses: { schema: excuseSchema, collection } } as unknown as Models;
    expect(await buildIndexes(models)).to.deep.equal([]);
  });
});
