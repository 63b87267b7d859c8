import { ValidationError } from '../errors.js';

/**
 * A filter (or time bound) the user typed that cannot be understood. `position` and `length`
 * locate the offending text (0-based offsets into the input) so the console can underline it;
 * it is a ValidationError, so the API answers 400.
 */
export class QuerySyntaxError extends ValidationError {
  readonly position: number;
  readonly length: number;

  constructor(message: string, position: number, length: number) {
    super(message);
    this.position = position;
    this.length = Math.max(0, length);
  }
}
