import type { PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { badRequest } from './inventory-http.error';

/** At most this many problems are listed in one 400 message. */
const MAX_LISTED_ISSUES = 5;

export function describeIssues(error: z.ZodError, label = ''): string {
  return error.issues
    .slice(0, MAX_LISTED_ISSUES)
    .map((issue) => {
      const where = [label, ...issue.path.map(String)].filter(Boolean).join('.');
      return where ? `${where}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

/**
 * Validates one request part (body, a path parameter, the query) where it
 * enters; a failure is a 400 EVS.5400 naming the field.
 */
export class ZodPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  constructor(
    private readonly schema: S,
    private readonly label = '',
  ) {}

  transform(value: unknown): z.output<S> {
    const parsed = this.schema.safeParse(value);
    if (!parsed.success) throw badRequest(describeIssues(parsed.error, this.label));
    return parsed.data;
  }
}

/**
 * A JSON request body. Express leaves the body undefined when the request
 * has none or is not application/json; that is told apart from a bad field.
 */
export class ZodBodyPipe<S extends z.ZodType> extends ZodPipe<S> {
  override transform(value: unknown): z.output<S> {
    if (value === undefined) throw badRequest('A JSON object body is required (Content-Type: application/json).');
    return super.transform(value);
  }
}
