/** One catalogue of stable error codes, in the spirit of fastify's FST_ERR_*. */
export const ErrorCode = {
  CONFIG: 'NTA_ERR_CONFIG',
  USAGE: 'NTA_ERR_USAGE',
  CAPTURE_OPEN: 'NTA_ERR_CAPTURE_OPEN',
  CAPTURE_FORMAT: 'NTA_ERR_CAPTURE_FORMAT',
  CAPTURE_IO: 'NTA_ERR_CAPTURE_IO',
  PUBLISH: 'NTA_ERR_PUBLISH',
  SPOOL: 'NTA_ERR_SPOOL',
  VALIDATION: 'NTA_ERR_VALIDATION',
  STORAGE: 'NTA_ERR_STORAGE',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class NtaError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; statusCode?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.statusCode = options.statusCode;
  }
}

export class ConfigError extends NtaError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(ErrorCode.CONFIG, message, { ...options, statusCode: 400 });
  }
}

export class UsageError extends NtaError {
  constructor(message: string) {
    super(ErrorCode.USAGE, message, { statusCode: 400 });
  }
}

/** A capture file that is not pcap/pcapng, or whose structure is broken beyond skipping. */
export class CaptureFormatError extends NtaError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(ErrorCode.CAPTURE_FORMAT, message, options);
  }
}

export class ValidationError extends NtaError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(ErrorCode.VALIDATION, message, { ...options, statusCode: 400 });
  }
}

export class StorageError extends NtaError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(ErrorCode.STORAGE, message, { ...options, statusCode: 503 });
  }
}
