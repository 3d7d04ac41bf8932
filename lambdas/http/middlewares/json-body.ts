import { MalformedJsonError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../../domain/errors.ts';
import type { HttpMiddleware } from '../types.ts';

export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Parses JSON bodies for routes that take one: 413 over 1 MB, 415 for anything but
 * application/json, 400 malformed-json. An empty body reads as `{}` so that missing fields are
 * reported by validation, field by field.
 */
export function jsonBody(): HttpMiddleware {
  return {
    before: (request) => {
      if (!request.internal.route?.body) return;
      const { event } = request;
      const raw = event.body
        ? Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8')
        : Buffer.alloc(0);
      if (raw.byteLength > MAX_BODY_BYTES) throw new PayloadTooLargeError(MAX_BODY_BYTES);
      if (raw.byteLength === 0 || raw.toString('utf8').trim() === '') {
        request.internal.rawBody = {};
        return;
      }
      const contentType = event.headers['content-type'];
      const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
      if (mediaType !== 'application/json' && !mediaType?.endsWith('+json')) {
        throw new UnsupportedMediaTypeError(contentType);
      }
      try {
        request.internal.rawBody = JSON.parse(raw.toString('utf8'));
      } catch (error) {
        throw new MalformedJsonError(
          `The request body is not valid JSON: ${error instanceof Error ? error.message : 'parse error'}.`,
        );
      }
    },
  };
}
