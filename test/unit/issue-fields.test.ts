// How a refused request names its bad fields (details.fields): the field's path, and a message in the house wording
// ("must be at most 300"), also for checks whose schema gives no message of its own (zod would say "Too big:
// expected number to be <=300").
import { expect } from 'chai';
import { z } from 'zod';
import { issueFields } from '../../schemas/http.js';

const schema = z.strictObject({
  floor: z.number().int().min(-10).max(300).optional(),
  code: z.string().min(2).max(3).optional(),
  tags: z.array(z.string()).max(1).optional(),
  ratio: z.number().lt(1).optional(),
  count: z.number().optional(),
  name: z.string().max(5, 'is too long (a message of its own)').optional(),
  id: z.string(),
});
const fieldsOf = (value: unknown) => {
  const r = schema.safeParse(value);
  return r.success ? [] : issueFields(r.error.issues);
};

describe('issueFields: details.fields in the house wording', () => {
  const cases: [string, unknown, { field: string; message: string }[]][] = [
    ['a number over its maximum', { id: 'x', floor: 301 }, [{ field: 'floor', message: 'must be at most 300' }]],
    ['a number under its minimum', { id: 'x', floor: -11 }, [{ field: 'floor', message: 'must be at least -10' }]],
    ['a fraction where a whole number goes', { id: 'x', floor: 1.5 }, [{ field: 'floor', message: 'must be a whole number' }]],
    ['a string too long', { id: 'x', code: 'abcd' }, [{ field: 'code', message: 'must be at most 3 characters' }]],
    ['a string too short', { id: 'x', code: 'a' }, [{ field: 'code', message: 'must be at least 2 characters' }]],
    ['an array too long', { id: 'x', tags: ['a', 'b'] }, [{ field: 'tags', message: 'must have at most 1 item' }]],
    ['an exclusive bound', { id: 'x', ratio: 1 }, [{ field: 'ratio', message: 'must be less than 1' }]],
    ['a wrong type', { id: 'x', count: 'seven' }, [{ field: 'count', message: 'must be a number' }]],
    ['a missing field', {}, [{ field: 'id', message: 'is required' }]],
    ['an unknown field', { id: 'x', extra: 1 }, [{ field: 'extra', message: 'unknown field' }]],
    ['a schema\'s own message, kept', { id: 'x', name: 'abcdef' }, [{ field: 'name', message: 'is too long (a message of its own)' }]],
  ];
  for (const [what, value, expected] of cases) {
    it(what, () => expect(fieldsOf(value)).to.deep.equal(expected));
  }
});
