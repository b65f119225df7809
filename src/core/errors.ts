/** An expected failure with a stable code, translated to an exit or status code at the edges. */
export class RegistreError extends Error {
  override readonly name = 'RegistreError';
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
