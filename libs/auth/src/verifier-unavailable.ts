/**
 * The credentials could not be checked at all, because something the check
 * depends on (an identity provider's key set) is unavailable. Not the
 * caller's fault, so not a 401: the request is refused with 503 and the
 * caller may retry with the same credentials.
 */
export class VerifierUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VerifierUnavailableError';
  }
}
